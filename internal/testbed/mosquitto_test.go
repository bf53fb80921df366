package testbed

import (
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetbench/fleetbench/internal/pki"
)

// The password line equals the one `mosquitto_passwd -c -b FILE fleet secret`
// wrote on a Debian bookworm machine (mosquitto 2.0.11) with this salt.
func TestMosquittoPasswdLineMatchesMosquittoPasswd(t *testing.T) {
	salt, err := base64.StdEncoding.DecodeString("KWlae1eqEh/e+r7Z")
	if err != nil {
		t.Fatal(err)
	}
	got, err := mosquittoPasswdLineSalt("fleet", "secret", salt)
	if err != nil {
		t.Fatal(err)
	}
	want := "fleet:$7$101$KWlae1eqEh/e+r7Z$vFmxQ8xB9ExfxzAlmkyUmSuoeVY1ROAdyGL6ZcMWUlGaltMdHxcsj6YbOAPNX3piAMkCbuOHF1OsXtqDQOP6/g=="
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func mqttOpts(broker, user, pass string, tlsConf *tls.Config) *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().AddBroker(broker).SetClientID("testbed-" + randomHex(4)).
		SetUsername(user).SetPassword(pass).SetConnectTimeout(5 * time.Second).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4)
	if tlsConf != nil {
		o.SetTLSConfig(tlsConf)
	}
	return o
}

func connect(t *testing.T, o *mqtt.ClientOptions) (mqtt.Client, error) {
	t.Helper()
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errTimeout
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "timed out" }

var errTimeout = timeoutErr{}

// A client trusting the testbed CA connects over TLS with the user and
// password, and a QoS 1 publish over TLS reaches a subscriber on the plain
// listener.
func TestMosquittoTLSPublish(t *testing.T) {
	m := StartMosquitto(t)
	sub, err := connect(t, mqttOpts("tcp://"+m.PlainAddr, m.Username, m.Password, nil))
	if err != nil {
		t.Fatalf("plain connect: %v", err)
	}
	got := make(chan string, 1)
	if tok := sub.Subscribe("devices/+/messages/events/#", 1, func(_ mqtt.Client, msg mqtt.Message) {
		select {
		case got <- msg.Topic() + " " + string(msg.Payload()):
		default:
		}
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	pub, err := connect(t, mqttOpts("ssl://"+m.TLSAddr, m.Username, m.Password, &tls.Config{RootCAs: m.CAPool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatalf("TLS connect with the testbed CA: %v", err)
	}
	if tok := pub.Publish("devices/d1/messages/events/", 1, false, "hello"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	select {
	case s := <-got:
		if s != "devices/d1/messages/events/ hello" {
			t.Fatalf("subscriber got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber received nothing within 10 s")
	}
}

// A client trusting another CA is refused with a certificate error; a wrong
// password is refused by the broker.
func TestMosquittoRefusals(t *testing.T) {
	m := StartMosquitto(t)
	other, err := pki.NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = connect(t, mqttOpts("ssl://"+m.TLSAddr, m.Username, m.Password, &tls.Config{RootCAs: other.Pool(), ServerName: "127.0.0.1"}))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("connect trusting another CA: err = %v, want a certificate error", err)
	}
	_, err = connect(t, mqttOpts("ssl://"+m.TLSAddr, m.Username, "wrong", &tls.Config{RootCAs: m.CAPool, ServerName: "localhost"}))
	if err == nil || !strings.Contains(err.Error(), "not Authorized") && !strings.Contains(err.Error(), "bad user name or password") {
		t.Fatalf("connect with a wrong password: err = %v, want a refusal", err)
	}
}
