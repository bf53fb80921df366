package fleet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// helloRetryRandom is the ServerHello.random that marks a HelloRetryRequest
// (RFC 8446 §4.1.3): the server asking for a key share the client did not send.
var helloRetryRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// recordingConn keeps every byte the server sent during the handshake.
type recordingConn struct {
	net.Conn
	got bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.got.Write(p[:n])
	return n, err
}

// handshake connects to addr with the fleet's TLS configuration and returns
// the group the server chose and whether it first asked for another share.
func handshake(t *testing.T, addr string, cfg *tls.Config) (tls.CurveID, bool, error) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	rc := &recordingConn{Conn: raw}
	tc := tls.Client(rc, cfg)
	if err := tc.Handshake(); err != nil {
		return 0, false, err
	}
	return tc.ConnectionState().CurveID, bytes.Contains(rc.got.Bytes(), helloRetryRandom), nil
}

// Devices offer exactly the key exchange the scenario names, and get it in
// one round trip from both kinds of server fleetbench is tested against:
// mosquitto (OpenSSL) and the embedded hub (crypto/tls, which prefers
// X25519MLKEM768 and X25519 when offered them). A group the server lacks
// (ML-KEM before OpenSSL 3.5) fails the connect as a TLS error.
func TestDevicesUseTheConfiguredKeyExchange(t *testing.T) {
	m := testbed.StartMosquitto(t)
	h, _ := startHub(t)
	servers := []struct {
		name     string
		addr     string
		roots    *x509.CertPool
		postQuan bool // implements X25519MLKEM768
	}{
		{"mosquitto", m.TLSAddr, m.CAPool, false}, // OpenSSL 3.0 on Debian 12; 3.5 has ML-KEM
		{"embedded hub", h.Addr(), h.CAPool(), true},
	}
	cases := []struct {
		offer []string
		want  tls.CurveID
	}{
		{nil, tls.CurveP256}, // the default
		{[]string{scenario.KeyExchangeP256}, tls.CurveP256},
		{[]string{scenario.KeyExchangeX25519}, tls.X25519},
		{[]string{scenario.KeyExchangeP384}, tls.CurveP384},
		{[]string{scenario.KeyExchangeX25519MLKEM}, tls.X25519MLKEM768},
		{[]string{scenario.KeyExchangeX25519, scenario.KeyExchangeP256}, tls.X25519},
	}
	for _, srv := range servers {
		for _, c := range cases {
			cfg := NewTLSConfig(TLSOptions{Roots: srv.roots, ServerName: "127.0.0.1", KeyExchange: c.offer})
			got, retried, err := handshake(t, srv.addr, cfg)
			if c.want == tls.X25519MLKEM768 && !srv.postQuan && err != nil {
				if classify(err) != report.FailTLS {
					t.Errorf("%s without ML-KEM, offering only it: err %v, want a TLS failure", srv.name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s, offering %v: %v", srv.name, c.offer, err)
				continue
			}
			if got != c.want {
				t.Errorf("%s, offering %v: negotiated %v, want %v", srv.name, c.offer, got, c.want)
			}
			if retried {
				t.Errorf("%s, offering %v: the server sent a HelloRetryRequest (a second key exchange per connect)", srv.name, c.offer)
			}
		}
	}
}

// Every name the scenario accepts maps to a group crypto/tls implements.
func TestEveryScenarioKeyExchangeHasAGroup(t *testing.T) {
	ids := curveIDs(scenario.KeyExchanges)
	if len(ids) != len(scenario.KeyExchanges) {
		t.Fatalf("curveIDs(%v) = %v: a name has no group", scenario.KeyExchanges, ids)
	}
	if slices.Contains(ids, 0) {
		t.Fatalf("curveIDs gave a zero group: %v", ids)
	}
	if got := curveIDs(nil); !slices.Equal(got, []tls.CurveID{tls.CurveP256}) {
		t.Fatalf("default groups = %v, want [P-256]", got)
	}
}

// Over TLS 1.3 a device's connect makes two writes to its socket: the
// ClientHello, then its last handshake flight and the CONNECT together
// (holdLastFlight).
func TestConnectWritesTheLastFlightWithTheConnect(t *testing.T) {
	m := testbed.StartMosquitto(t)
	f, err := New(Config{Scenario: benchScenario(1), Addr: m.TLSAddr, Credentials: fixedCreds{m.Username, m.Password},
		TLS:      NewTLSConfig(TLSOptions{Roots: m.CAPool, ServerName: "127.0.0.1"}),
		Recorder: report.NewRecorder(report.RecorderConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	conn, wire, err := f.dial(context.Background(), &f.devices[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*tls.Conn); !ok || tc.ConnectionState().Version != tls.VersionTLS13 {
		t.Fatalf("not a TLS 1.3 connection: %T", conn)
	}
	wire.mu.Lock()
	writes := wire.writes
	wire.mu.Unlock()
	if writes != 2 {
		t.Errorf("a connect made %d writes to its socket, want 2 (ClientHello; Finished + CONNECT)", writes)
	}
}

// Over TLS 1.2 the client's last flight is answered by the server before
// the handshake ends, so it must not be held: a connect to a TLS 1.2-only
// broker (a stand-in that answers the CONNECT) completes.
func TestConnectOverTLS12(t *testing.T) {
	ca, err := pki.NewCA("tls12 test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServer(time.Hour, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := packets.ReadPacket(c); err != nil { // the CONNECT
			return
		}
		packets.NewControlPacket(packets.Connack).Write(c)
		io.Copy(io.Discard, c)
	}()
	f, err := New(Config{Scenario: benchScenario(1), Addr: ln.Addr().String(), Credentials: fixedCreds{"u", "p"},
		TLS:      NewTLSConfig(TLSOptions{Roots: ca.Pool(), ServerName: "127.0.0.1"}),
		Recorder: report.NewRecorder(report.RecorderConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := f.dial(context.Background(), &f.devices[0])
	if err != nil {
		t.Fatalf("connect over TLS 1.2: %v", err)
	}
	defer conn.Close()
	if v := conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS12 {
		t.Fatalf("negotiated %x, want TLS 1.2", v)
	}
}
