package hub

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// A valid device connects, publishes QoS 0 and QoS 1 messages (the second
// with a property bag) and the hub counts each one before the device holds
// its PUBACK.
func TestDevicePublishIsCounted(t *testing.T) {
	h := startHub(t, Config{})
	const id = "sim-000001"
	c := connectDevice(t, h, id, nil)

	c.Publish("devices/"+id+"/messages/events/", 0, false, "q0") // same connection: processed before the next
	waitToken(t, c.Publish("devices/"+id+"/messages/events/$.ct=application%2Fjson&k=v", 1, false, "q1"))
	waitToken(t, c.Publish("devices/"+id+"/messages/events/", 1, false, []byte("q1 again")))

	if got := h.Received(id); got != 3 {
		t.Errorf("Received(%q) = %d right after the PUBACKs, want 3", id, got)
	}
	if got := h.Received("sim-unknown"); got != 0 {
		t.Errorf("Received of an unknown device = %d, want 0", got)
	}
	s := h.Stats()
	if s.Received != 3 || s.Connected != 1 || s.ClientsMax != 1 || s.Refused != 0 || s.DeniedPublish != 0 {
		t.Errorf("Stats = %+v, want Received 3, Connected 1, ClientsMax 1, nothing refused or denied", s)
	}
}

// Each bad credential is refused with CONNACK "not authorized" and counted
// in RefusedAuth.
func TestBadCredentialsRefused(t *testing.T) {
	key := []byte("one shared device key")
	h := startHub(t, Config{DeviceKey: key, ServiceUser: "service", ServicePassword: "pw"})
	host := h.HostName()
	const id = "dev-1"
	soon := time.Now().Add(time.Hour)
	good := testToken(key, host, id, soon)
	cases := []struct {
		name, clientID, user, pass string
		reason                     Reason
	}{
		{"wrong signature", id, testUsername(host, id), testToken([]byte("another key"), host, id, soon), ReasonWrongKey},
		{"expired token", id, testUsername(host, id), testToken(key, host, id, time.Now().Add(-time.Minute)), ReasonTokenExpired},
		{"token for another device", id, testUsername(host, id), testToken(key, host, "dev-2", soon), ReasonTokenResource},
		{"token for another hub", id, testUsername(host, id), testToken(key, "other.azure-devices.net", id, soon), ReasonTokenResource},
		{"client id is not the device id", "dev-2", testUsername(host, id), good, ReasonClientID},
		{"client id is not the device id, no api-version", "dev-2", host + "/" + id, good, ReasonClientID},
		{"username for another hub", id, testUsername("other.azure-devices.net", id), good, ReasonWrongHost},
		{"module identity", id + "/m1", host + "/" + id + "/m1/?api-version=2021-04-12", good, ReasonModule},
		{"password is not a SAS token", id, testUsername(host, id), "hunter2", ReasonTokenMalformed},
		{"policy token (skn)", id, testUsername(host, id), good + "&skn=iothubowner", ReasonPolicyToken},
		{"wrong service password", "svc", "service", "not pw", ReasonServicePassword},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.Stats().ByReason[tc.reason]
			_, err := connect(t, clientOpts(h, tc.clientID, tc.user, tc.pass, nil))
			if !errors.Is(err, packets.ErrorRefusedNotAuthorised) {
				t.Fatalf("CONNECT error = %v, want %v", err, packets.ErrorRefusedNotAuthorised)
			}
			s := h.Stats()
			if s.RefusedAuth != uint64(i+1) || s.Refused != uint64(i+1) || s.RefusedOther != 0 {
				t.Errorf("after %d refusals Stats = %+v", i+1, s)
			}
			if s.ByReason[tc.reason] != before+1 {
				t.Errorf("ByReason[%s] = %d, want %d: %v", tc.reason, s.ByReason[tc.reason], before+1, s.ByReason)
			}
		})
	}
	// The good token still works, also with the host name in upper case.
	if _, err := connect(t, clientOpts(h, id, testUsername(strings.ToUpper(host), id), good, nil)); err != nil {
		t.Fatalf("valid credentials refused: %v", err)
	}
}

// A CONNECT mochi itself refuses before authentication (MQTT 3.1.1 forbids
// an empty client id without a clean session) counts as RefusedOther.
// mochi answers such a v3 client with return code 0x80, which paho 1.5.1
// does not map to an error, so the test checks the hub's side only.
func TestOtherRefusalCounted(t *testing.T) {
	ended := make(chan struct{}, 1)
	h, err := start(Config{Dir: t.TempDir(), GroupKey: testGroupKey}, internals{connEnded: func() { ended <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c := paho.NewClient(clientOpts(h, "", testUsername(h.HostName(), "x"), "x", nil).SetCleanSession(false))
	c.Connect().WaitTimeout(10 * time.Second)
	defer c.Disconnect(0)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not end the connection")
	}
	if s := h.Stats(); s.RefusedOther != 1 || s.RefusedAuth != 0 || s.Connected != 0 {
		t.Errorf("Stats = %+v, want RefusedOther 1, RefusedAuth 0, Connected 0", s)
	}
}

// Publishing outside the device's own events topic is denied and counted:
// at QoS 0 the message is dropped, at QoS 1 (MQTT 3.1.1) and at QoS 2 the
// connection is closed.
func TestPublishOutsideOwnTopicDenied(t *testing.T) {
	h := startHub(t, Config{})
	const id, other = "dev-a", "dev-b"

	c := connectDevice(t, h, id, nil)
	c.Publish("devices/"+other+"/messages/events/", 0, false, "spoof")
	waitToken(t, c.Publish("devices/"+id+"/messages/events/", 1, false, "mine")) // ordered after the QoS 0
	if s := h.Stats(); s.DeniedPublish != 1 || s.Received != 1 {
		t.Errorf("after a denied QoS 0 publish: Stats = %+v, want DeniedPublish 1, Received 1", s)
	}

	for i, tc := range []struct {
		name, topic string
		qos         byte
	}{
		{"QoS 1 to another device", "devices/" + other + "/messages/events/", 1},
		{"QoS 1 to a twin topic", "$iothub/twin/PATCH/properties/reported/?$rid=1", 1},
		{"QoS 1 without trailing slash", "devices/" + id + "/messages/events", 1},
		{"QoS 2 to its own topic", "devices/" + id + "/messages/events/", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lost := make(chan error, 1)
			c := connectDevice(t, h, id, lost)
			c.Publish(tc.topic, tc.qos, false, "x")
			waitLost(t, lost, tc.name)
			if s := h.Stats(); s.DeniedPublish != uint64(i+2) || s.Received != 1 {
				t.Errorf("Stats = %+v, want DeniedPublish %d, Received 1", s, i+2)
			}
		})
	}
	if got := h.Received(other); got != 0 {
		t.Errorf("Received(%q) = %d, want 0", other, got)
	}
}

// The service client subscribes to every device's events and receives
// them; it may not publish nor read other topics. Devices may subscribe
// only to their own cloud-to-device topic.
func TestServiceClientReceivesDeviceEvents(t *testing.T) {
	h := startHub(t, Config{ServiceUser: "service", ServicePassword: "s3cret"})
	svc, err := connect(t, clientOpts(h, "any-client-id", "service", "s3cret", nil))
	if err != nil {
		t.Fatalf("service client refused: %v", err)
	}
	got := make(chan paho.Message, 10)
	sub := svc.Subscribe("devices/+/messages/events/#", 1, func(_ paho.Client, m paho.Message) { got <- m })
	waitToken(t, sub)
	checkGranted(t, sub, "devices/+/messages/events/#", 1)

	// Written before the next SUBSCRIBE is queued, so processed before its SUBACK.
	waitToken(t, svc.Publish("devices/dev-1/messages/events/", 0, false, "forged"))
	bad := svc.SubscribeMultiple(map[string]byte{"$SYS/#": 0, "devices/+/messages/devicebound/#": 0}, nil)
	waitToken(t, bad)
	checkGranted(t, bad, "$SYS/#", 0x80)
	checkGranted(t, bad, "devices/+/messages/devicebound/#", 0x80)

	dev := connectDevice(t, h, "dev-1", nil)
	own := dev.Subscribe("devices/dev-1/messages/devicebound/#", 1, nil)
	waitToken(t, own)
	checkGranted(t, own, "devices/dev-1/messages/devicebound/#", 1)
	foreign := dev.Subscribe("devices/dev-2/messages/devicebound/#", 1, nil)
	waitToken(t, foreign)
	checkGranted(t, foreign, "devices/dev-2/messages/devicebound/#", 0x80)

	waitToken(t, dev.Publish("devices/dev-1/messages/events/k=v", 1, false, "hello"))
	select {
	case m := <-got:
		if m.Topic() != "devices/dev-1/messages/events/k=v" || string(m.Payload()) != "hello" {
			t.Errorf("service received %q %q, want the device's message", m.Topic(), m.Payload())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("service client received nothing")
	}
	if s := h.Stats(); s.DeniedPublish != 1 || s.Received != 1 || s.Connected != 2 {
		t.Errorf("Stats = %+v, want DeniedPublish 1 (the service's publish), Received 1, Connected 2", s)
	}
}

func checkGranted(t *testing.T, tok paho.Token, filter string, want byte) {
	t.Helper()
	if got := tok.(*paho.SubscribeToken).Result()[filter]; got != want {
		t.Errorf("SUBACK for %q = %#x, want %#x", filter, got, want)
	}
}

// With AckDelay each PUBACK arrives no sooner than AckDelay after its
// publish, and the messages still reach subscribers and the counters. Only
// the floor is checked here: a loaded machine can make a PUBACK arrive
// late, never early. That pipelined publishes are delayed together, not one
// after another, is time logic, tested exactly with synctest in
// TestAckQueueDelaysInOrder.
func TestAckDelayDelaysPubacks(t *testing.T) {
	const delay = 150 * time.Millisecond
	h := startHub(t, Config{AckDelay: delay, ServiceUser: "service", ServicePassword: "pw"})
	svc, err := connect(t, clientOpts(h, "svc", "service", "pw", nil))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan paho.Message, 100)
	waitToken(t, svc.Subscribe("#", 1, func(_ paho.Client, m paho.Message) { got <- m }))
	dev := connectDevice(t, h, "slow-1", nil)

	start := time.Now()
	waitToken(t, dev.Publish("devices/slow-1/messages/events/", 1, false, "one"))
	if took := time.Since(start); took < delay {
		t.Errorf("PUBACK after %v, want at least AckDelay %v", took, delay)
	}

	const n = 20
	toks := make([]paho.Token, n)
	sent := make([]time.Time, n)
	for i := range toks {
		sent[i] = time.Now()
		toks[i] = dev.Publish("devices/slow-1/messages/events/", 1, false, "many")
	}
	acked := make([]time.Time, n)
	var wg sync.WaitGroup
	for i, tok := range toks {
		wg.Go(func() { tok.WaitTimeout(10 * time.Second); acked[i] = time.Now() })
	}
	wg.Wait()
	for i, tok := range toks {
		waitToken(t, tok) // its error, if any
		if took := acked[i].Sub(sent[i]); took < delay {
			t.Errorf("pipelined publish %d acknowledged after %v, want at least AckDelay %v", i, took, delay)
		}
	}
	if r := h.Received("slow-1"); r != n+1 {
		t.Errorf("Received = %d, want %d", r, n+1)
	}
	for i := 0; i < n+1; i++ {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("service client received %d of %d messages", i, n+1)
		}
	}
}

// The server certificate verifies against CAFile and CAPool for
// 127.0.0.1, localhost and the hub host name; it is ECDSA, and TLS below
// 1.2 is refused.
func TestCertificateVerifies(t *testing.T) {
	h := startHub(t, Config{HostName: "bench.azure-devices.net"})
	pem, err := os.ReadFile(h.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	fromFile := x509.NewCertPool()
	if !fromFile.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", h.CAFile())
	}
	for _, pool := range []*x509.CertPool{fromFile, h.CAPool()} {
		for _, name := range []string{"127.0.0.1", "localhost", "bench.azure-devices.net"} {
			c, err := tls.Dial("tcp", h.Addr(), &tls.Config{RootCAs: pool, ServerName: name})
			if err != nil {
				t.Errorf("verify as %s: %v", name, err)
				continue
			}
			if alg := c.ConnectionState().PeerCertificates[0].PublicKeyAlgorithm; alg != x509.ECDSA {
				t.Errorf("server key algorithm %v, want ECDSA", alg)
			}
			c.Close()
		}
	}
	if c, err := tls.Dial("tcp", h.Addr(), &tls.Config{RootCAs: h.CAPool(), ServerName: "example.com"}); err == nil {
		c.Close()
		t.Error("certificate verified for example.com")
	}
	if c, err := tls.Dial("tcp", h.Addr(), &tls.Config{RootCAs: h.CAPool(), ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("TLS 1.1 accepted")
	}
}

// Close drops connected devices and idle sockets that never started their
// TLS handshake, frees the port and may be called again.
func TestCloseIsIdempotentAndFreesPort(t *testing.T) {
	h := startHub(t, Config{})
	lost := make(chan error, 1)
	connectDevice(t, h, "dev-1", lost)
	idle, err := net.Dial("tcp", h.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	closed := make(chan error, 1)
	go func() { closed <- h.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on a connection without a TLS handshake")
	}
	waitLost(t, lost, "Close")
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ln, err := net.Listen("tcp", h.Addr())
	if err != nil {
		t.Fatalf("port not freed: %v", err)
	}
	ln.Close()
}

// A device is disconnected when its SAS token expires, as IoT Hub does.
// The hub's clock is stopped 100 ms before the token's expiry, so the
// token is valid at CONNECT and expires 100 ms later.
func TestTokenExpiryDisconnects(t *testing.T) {
	expiry := time.Now().Add(time.Hour).Truncate(time.Second)
	h, err := start(Config{Dir: t.TempDir(), GroupKey: testGroupKey}, internals{now: func() time.Time { return expiry.Add(-100 * time.Millisecond) }})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lost := make(chan error, 1)
	tok := testToken(testDeviceKey(testGroupKey, "dev-1"), h.HostName(), "dev-1", expiry)
	if _, err := connect(t, clientOpts(h, "dev-1", testUsername(h.HostName(), "dev-1"), tok, lost)); err != nil {
		t.Fatal(err)
	}
	waitLost(t, lost, "token expiry")
}

// A second connection with the same device id replaces the first, and the
// device's count continues across connections.
func TestReconnectKeepsCount(t *testing.T) {
	h := startHub(t, Config{})
	lost := make(chan error, 1)
	first := connectDevice(t, h, "dev-1", lost)
	waitToken(t, first.Publish("devices/dev-1/messages/events/", 1, false, "a"))
	second := connectDevice(t, h, "dev-1", nil)
	waitLost(t, lost, "takeover")
	waitToken(t, second.Publish("devices/dev-1/messages/events/", 1, false, "b"))
	if got := h.Received("dev-1"); got != 2 {
		t.Errorf("Received = %d, want 2", got)
	}
	if s := h.Stats(); s.Received != 2 {
		t.Errorf("Stats.Received = %d, want 2", s.Received)
	}
}

// Retain flags are accepted, as IoT Hub does, but nothing is stored: a
// later subscriber never receives the retained message.
func TestRetainAcceptedNotStored(t *testing.T) {
	h := startHub(t, Config{ServiceUser: "service", ServicePassword: "pw"})
	const id = "dev-1"
	tok := testToken(testDeviceKey(testGroupKey, id), h.HostName(), id, time.Now().Add(time.Hour))
	o := clientOpts(h, id, testUsername(h.HostName(), id), tok, nil).SetWill("devices/"+id+"/messages/events/", "gone", 1, true)
	dev, err := connect(t, o)
	if err != nil {
		t.Fatalf("device with a retained will refused: %v", err)
	}
	waitToken(t, dev.Publish("devices/"+id+"/messages/events/", 1, true, "retained"))
	// mochi writes the PUBACK before it hands a message to subscribers; the
	// next PUBACK on the same connection proves the first message is done.
	waitToken(t, dev.Publish("devices/"+id+"/messages/events/", 1, false, "flush"))

	svc, err := connect(t, clientOpts(h, "svc", "service", "pw", nil))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	waitToken(t, svc.Subscribe("#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }))
	waitToken(t, dev.Publish("devices/"+id+"/messages/events/", 1, false, "fresh"))
	for { // "flush" may still arrive live; "retained" must not arrive at all
		select {
		case p := <-got:
			if p == "retained" {
				t.Fatal("a new subscriber received the retained message")
			}
			if p == "fresh" {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("service client did not receive the fresh message")
		}
	}
}
