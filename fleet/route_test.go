package fleet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// sourceRecorder is a TCP relay in front of a broker that counts the
// connections it accepts by their source address: what the broker would
// see as the client's address.
type sourceRecorder struct {
	ln   net.Listener
	mu   sync.Mutex
	from map[string]int // source IP -> connections accepted
}

func recordSources(t *testing.T, to string) *sourceRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &sourceRecorder{ln: ln, from: map[string]int{}}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.from[c.RemoteAddr().(*net.TCPAddr).IP.String()]++
			r.mu.Unlock()
			wg.Go(func() { relay(c, to) })
		}
	})
	return r
}

// relay copies c to and from a new connection to addr until either ends.
func relay(c net.Conn, addr string) {
	defer c.Close()
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, up)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

func (r *sourceRecorder) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.from)
}

// Devices connect from the scenario's source addresses, spread by index:
// the broker side sees half the fleet from each address.
func TestDevicesConnectFromTheirSourceAddresses(t *testing.T) {
	h, key := startHub(t)
	relay := recordSources(t, h.Addr())
	sc := smallFleet(12, 1, 60, time.Second)
	sc.Connect.SourceAddresses = []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")}
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: sc, Addr: relay.ln.Addr().String(), Recorder: rec, Run: 7, Credentials: sasProvider(t, h, key),
		TLS: NewTLSConfig(TLSOptions{Roots: h.CAPool(), ServerName: "127.0.0.1"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tot := rec.Totals(); tot.Connects != 12 || tot.Sent == 0 || tot.Acked != tot.Sent {
		t.Fatalf("connects %d sent %d acked %d", tot.Connects, tot.Sent, tot.Acked)
	}
	got := relay.counts()
	if len(got) != 2 || got["127.0.0.2"] != 6 || got["127.0.0.3"] != 6 {
		t.Errorf("connections by source address %v, want 6 from 127.0.0.2 and 6 from 127.0.0.3", got)
	}
}

// Devices spread over two hubs by index, each hub serving its share: the
// even devices publish to the first, the odd to the second, and nothing
// crosses over.
func TestDevicesSpreadOverEndpoints(t *testing.T) {
	_, key := startHub(t) // for the key only
	hubs := []*hub.Hub{startHubWithKey(t, key), startHubWithKey(t, key)}
	roots := x509.NewCertPool()
	var eps []scenario.Endpoint
	for _, h := range hubs {
		pem, err := os.ReadFile(h.CAFile())
		if err != nil || !roots.AppendCertsFromPEM(pem) {
			t.Fatalf("hub CA %s: %v", h.CAFile(), err)
		}
		eps = append(eps, scenario.Endpoint{Host: "127.0.0.1", Port: h.Port(), ServerName: "127.0.0.1"})
	}
	sc := smallFleet(10, 1, 100, time.Second)
	sc.Devices.FirstIndex = 3 // routes follow the device index, not the slot
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: sc, Endpoints: eps, Recorder: rec, Run: 7, Credentials: sasProvider(t, hubs[0], key),
		TLS: NewTLSConfig(TLSOptions{Roots: roots, ServerName: "127.0.0.1"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tot := rec.Totals(); tot.Connects != 10 || tot.Acked != tot.Sent {
		t.Fatalf("connects %d sent %d acked %d", tot.Connects, tot.Sent, tot.Acked)
	}
	var perHub [2]uint64
	for slot := range 10 {
		id, index := f.DeviceID(slot), sc.Devices.FirstIndex+slot
		mine, other := hubs[index%2], hubs[1-index%2]
		if f.Sent(slot) == 0 || mine.Received(id) != f.Sent(slot) || other.Received(id) != 0 {
			t.Errorf("device %s (index %d): sent %d, its hub counted %d, the other %d",
				id, index, f.Sent(slot), mine.Received(id), other.Received(id))
		}
		perHub[index%2] += mine.Received(id)
	}
	for i, h := range hubs {
		if got := h.Stats().Received; got != perHub[i] || got == 0 {
			t.Errorf("hub %d received %d, its devices sent %d", i, got, perHub[i])
		}
	}
}

// Each endpoint's certificate is verified against its own name, also when
// the name is an IP address (no SNI carries it), and a chain verified for
// one name is not taken for another.
func TestEachEndpointVerifiesItsOwnName(t *testing.T) {
	ca, err := pki.NewCA("route test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(ip string, names []string) string {
		leaf, err := ca.IssueServer(time.Hour, names, []net.IP{net.ParseIP(ip)})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := tls.Listen("tcp", ip+":0", &tls.Config{Certificates: []tls.Certificate{leaf.TLS}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { c.(*tls.Conn).Handshake(); c.Close() }()
			}
		}()
		return ln.Addr().String()
	}
	one := serve("127.0.0.1", []string{"one.test"})
	two := serve("127.0.0.2", []string{"two.test"})
	base := NewTLSConfig(TLSOptions{Roots: ca.Pool(), ServerName: "one.test"})
	for _, c := range []struct {
		addr   string
		cfg    *tls.Config
		wantOK bool
	}{
		{one, base, true},
		{two, forServer(base, "two.test"), true},
		{one, forServer(base, "two.test"), false}, // one's chain verified above, for one.test only
		{two, base, false},
		{two, forServer(base, "127.0.0.2"), true}, // an IP: verified without SNI
		{one, forServer(base, "127.0.0.2"), false},
	} {
		_, _, err := handshake(t, c.addr, c.cfg)
		var te *TLSTrustError
		switch {
		case c.wantOK && err != nil:
			t.Errorf("%s as %s: %v", c.addr, c.cfg.ServerName, err)
		case !c.wantOK && !errors.As(err, &te):
			t.Errorf("%s as %s: err %v, want a TLSTrustError", c.addr, c.cfg.ServerName, err)
		case !c.wantOK && !strings.Contains(err.Error(), c.cfg.ServerName):
			t.Errorf("%s as %s: %q does not name the expected name", c.addr, c.cfg.ServerName, err)
		}
	}
	if forServer(base, "one.test") != base || forServer(base, "") != base {
		t.Error("a config that already names the server is used as it is")
	}
}

// A connect error names the endpoint and source address it happened on.
func TestDescribeNamesTheRoute(t *testing.T) {
	src := net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.3:0"))
	bind := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)}
	conn := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}
	for _, c := range []struct {
		err  error
		want string
	}{
		{&routeError{addr: "b:8883", src: src, err: bind}, "cannot connect from 127.0.0.3: it is not an address of this machine"},
		{&routeError{addr: "b:8883", src: src, err: conn}, "no local port left for a connection from 127.0.0.3 to b:8883"},
		{&routeError{addr: "b:8883", err: conn}, "no local port left for a connection to b:8883"},
		{&routeError{addr: "b:8883", src: src, err: io.ErrClosedPipe}, "cannot connect from 127.0.0.3 to b:8883"},
	} {
		if got := describe(c.err, "a:8883"); !strings.Contains(got, c.want) {
			t.Errorf("describe = %q, want %q in it", got, c.want)
		}
	}
}
