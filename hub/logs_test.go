package hub

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rawConnect sends a CONNECT over TLS and returns the CONNACK return code.
func rawConnect(t *testing.T, h *Hub, id, user, pass string) (*tls.Conn, byte) {
	t.Helper()
	c, err := tls.Dial("tcp", h.Addr(), &tls.Config{RootCAs: h.CAPool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	writeConnect(t, c, id, user, pass)
	ack, err := packets.ReadPacket(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, ack.(*packets.ConnackPacket).ReturnCode
}

func writeConnect(t *testing.T, c io.Writer, id, user, pass string) {
	t.Helper()
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession, cp.Keepalive = "MQTT", 4, true, 30
	cp.ClientIdentifier = id
	cp.UsernameFlag, cp.Username = true, user
	cp.PasswordFlag, cp.Password = true, []byte(pass)
	if err := cp.Write(c); err != nil {
		t.Fatal(err)
	}
}

// Debug logs say why a CONNECT was refused but never show a token, not
// even when mochi logs a whole packet (a second CONNECT on a connection).
func TestLogsHideSecrets(t *testing.T) {
	var logs lockedBuffer
	h := startHub(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	const id = "dev-1"
	user := testUsername(h.HostName(), id)
	bad := testToken([]byte("wrong key"), h.HostName(), id, time.Now().Add(time.Hour))
	good := testToken(testDeviceKey(testGroupKey, id), h.HostName(), id, time.Now().Add(time.Hour))

	if _, rc := rawConnect(t, h, id, user, bad); rc != packets.ErrRefusedNotAuthorised {
		t.Fatalf("bad token: CONNACK %d, want %d", rc, packets.ErrRefusedNotAuthorised)
	}
	c, rc := rawConnect(t, h, id, user, good)
	if rc != packets.Accepted {
		t.Fatalf("good token: CONNACK %d", rc)
	}
	writeConnect(t, c, id, user, good) // protocol violation: mochi logs the packet and closes
	if _, err := packets.ReadPacket(c); err == nil {
		t.Fatal("second CONNECT did not close the connection")
	}

	out := logs.String()
	if !strings.Contains(out, "signature does not match") || !strings.Contains(out, "[packet omitted]") {
		t.Errorf("logs lack the refusal reason or the redacted packet:\n%s", out)
	}
	for _, tok := range []string{bad, good} {
		sig := tok[strings.Index(tok, "sig=")+4 : strings.Index(tok, "&se=")]
		if strings.Contains(out, sig) || strings.Contains(out, "SharedAccessSignature") {
			t.Errorf("logs show a token:\n%s", out)
		}
	}
}
