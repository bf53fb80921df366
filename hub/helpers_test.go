package hub

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"net/url"
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Test helpers shared by the integration tests: a hub per test, SAS tokens
// computed here from the documented formula (independently of sas.go), and
// paho device clients.

var testGroupKey = []byte("fleetbench test group key, raw bytes")

// startHub starts a hub in a fresh directory and closes it after the test.
func startHub(t testing.TB, cfg Config) *Hub {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.GroupKey == nil && cfg.DeviceKey == nil {
		cfg.GroupKey = testGroupKey
	}
	h, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// testDeviceKey derives a device key as DPS does: HMAC-SHA256(group, id).
func testDeviceKey(group []byte, id string) []byte {
	m := hmac.New(sha256.New, group)
	m.Write([]byte(id))
	return m.Sum(nil)
}

// testToken builds a device-scoped IoT Hub SAS token per protocols.md:
// sr = urlenc(host/devices/id), sig = urlenc(base64(HMAC-SHA256(key, sr + "\n" + se))).
func testToken(key []byte, host, id string, expiry time.Time) string {
	sr := url.QueryEscape(host + "/devices/" + id)
	se := strconv.FormatInt(expiry.Unix(), 10)
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(testSig(key, sr, se)) + "&se=" + se
}

// testSig returns base64(HMAC-SHA256(key, sr + "\n" + se)), padded and not
// yet URL-encoded; sr is taken as sent (already encoded).
func testSig(key []byte, sr, se string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sr + "\n" + se))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// testUsername is the IoT Hub device username.
func testUsername(host, id string) string {
	return host + "/" + id + "/?api-version=2021-04-12"
}

// clientOpts returns paho options for a TLS connection to h that trusts
// h's CA, MQTT 3.1.1 only (paho would otherwise retry a refusal as 3.1),
// without reconnects. lost receives the connection-lost error, if wanted.
func clientOpts(h *Hub, clientID, user, pass string, lost chan<- error) *paho.ClientOptions {
	o := paho.NewClientOptions().
		AddBroker("ssl://" + h.Addr()).
		SetTLSConfig(&tls.Config{RootCAs: h.CAPool(), ServerName: "127.0.0.1"}).
		SetClientID(clientID).
		SetUsername(user).
		SetPassword(pass).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(30 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetWriteTimeout(5 * time.Second).
		SetOrderMatters(false)
	if lost != nil {
		o.SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	}
	return o
}

// connect connects opts and returns the client (disconnected after the
// test) or the CONNECT error.
func connect(t testing.TB, opts *paho.ClientOptions) (paho.Client, error) {
	t.Helper()
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("CONNECT timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

// connectDevice connects device id with a valid token for h's group key.
func connectDevice(t testing.TB, h *Hub, id string, lost chan<- error) paho.Client {
	t.Helper()
	tok := testToken(testDeviceKey(testGroupKey, id), h.HostName(), id, time.Now().Add(time.Hour))
	c, err := connect(t, clientOpts(h, id, testUsername(h.HostName(), id), tok, lost))
	if err != nil {
		t.Fatalf("device %s: CONNECT refused: %v", id, err)
	}
	return c
}

// waitToken waits for a publish or subscribe token and fails on error.
func waitToken(t testing.TB, tok paho.Token) {
	t.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("token timed out")
	}
	if err := tok.Error(); err != nil {
		t.Fatal(err)
	}
}

// waitLost waits for a connection-lost notification.
func waitLost(t testing.TB, lost <-chan error, what string) {
	t.Helper()
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the hub did not close the connection", what)
	}
}
