package fleet

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// stallingProxy forwards TCP connections to target, except that the first
// connection it accepts stops being read once stallAfter bytes have come
// from the client: its client's socket fills up, as when a hub stops
// reading from one device.
type stallingProxy struct {
	l       net.Listener
	stalled atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func startStallingProxy(t *testing.T, target string, stallAfter int64) *stallingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{l: l}
	t.Cleanup(p.close)
	go func() {
		for first := true; ; first = false {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go io.Copy(c, up)
			if first {
				c.(*net.TCPConn).SetReadBuffer(4 << 10)
				go func() {
					io.CopyN(up, c, stallAfter)
					p.stalled.Store(true) // and never read from c again
				}()
			} else {
				go io.Copy(up, c)
			}
		}
	}()
	return p
}

func (p *stallingProxy) close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// One device whose connection stops draining must not hold back anyone
// else's messages: the pacers send for every device from their own
// goroutines and must never wait on a socket.
func TestAStalledDeviceDoesNotDelayTheOthers(t *testing.T) {
	h, key := startHub(t)
	proxy := startStallingProxy(t, h.Addr(), 64<<10)
	const devices, perDevice = 4, 120
	const rate = 160.0
	sc := smallFleet(devices, 0, rate, time.Duration(devices*perDevice/rate*float64(time.Second)))
	sc.Publish.Payload.Size = 96 << 10 // 11 MB per device: more than sockets hold (4 MB)
	rec, f := newFleetAt(t, proxy.l.Addr().String(), h, key, sc)
	if _, err := f.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !proxy.stalled.Load() {
		t.Fatal("the proxy never stalled a connection; the test proves nothing")
	}
	// The drain is a limit, so on a loaded machine a healthy device may
	// not finish its 11 MB in time: it must get most of it through (more
	// than half), while the stalled one cannot get past what the proxy
	// lets by (64 KiB, under one message in a hundred).
	stalledDevices := 0
	for i := range devices {
		id := f.DeviceID(i)
		got := h.Received(id)
		switch {
		case got > perDevice/2:
		case got < perDevice/10 && stalledDevices == 0:
			stalledDevices++ // the one behind the stalled connection
		default:
			t.Errorf("device %s: the hub received %d of %d messages", id, got, perDevice)
		}
	}
	if stalledDevices != 1 {
		t.Errorf("%d devices were held back, want exactly the stalled one", stalledDevices)
	}
	if tot := rec.Totals(); tot.Sent >= devices*perDevice {
		t.Errorf("sent %d: the stalled device's messages cannot all have gone out", tot.Sent)
	}
}

// newFleetAt prepares a fleet for hub h's devices that dials addr (a proxy
// in front of h).
func newFleetAt(t *testing.T, addr string, h *hub.Hub, key []byte, sc *scenario.Scenario) (*report.Recorder, *Fleet) {
	t.Helper()
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: sc, Addr: addr, Recorder: rec, Run: 7, Credentials: sasProvider(t, h, key),
		TLS: NewTLSConfig(TLSOptions{Roots: h.CAPool(), ServerName: "127.0.0.1"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec, f
}

// Several pacers share the timetable; with a fleet size they do not divide,
// a device's messages come from different pacers in turn. Every message
// must still go out exactly once.
func TestSeveralPacersSendEveryMessageOnce(t *testing.T) {
	h, key := startHub(t)
	sc := smallFleet(10, 1, 2000, time.Second)
	rec, f := newFleetAt(t, h.Addr(), h, key, sc)
	f.pacers = 3
	if _, err := f.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	tot := rec.Totals()
	if tot.Due != 2000 || tot.Sent != tot.Due || tot.Acked != tot.Sent || tot.Missed != 0 {
		t.Fatalf("due %d sent %d acked %d missed %d", tot.Due, tot.Sent, tot.Acked, tot.Missed)
	}
	for i := range 10 {
		if got, want := h.Received(f.DeviceID(i)), f.Sent(i); got != want || want != 200 {
			t.Errorf("device %s: hub counted %d, device sent %d, want 200", f.DeviceID(i), got, want)
		}
	}
}

// BenchmarkPreciseSleep is what one pacer wake-up costs: sleeping 200 µs
// (the gap between messages at 5,000 msg/s) and waking, in process CPU.
// On a machine where this is tens of microseconds, precise pacing of
// sparse messages costs that much per message (docs/design.md).
//
//	go test ./fleet -run '^$' -bench PreciseSleep -benchtime 5000x
func BenchmarkPreciseSleep(b *testing.B) {
	sleep, cleanup := newPreciseSleeper()
	defer cleanup()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		sleep(200 * time.Microsecond)
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1000/float64(n), "us-cpu/wake")
}
