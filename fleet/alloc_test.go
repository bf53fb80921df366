package fleet

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// The publish hot path allocates nothing: the pacer sending a device's
// due messages (paceSend: schedule, stamp, in-flight slot, recorder,
// TLS record, non-waiting write) over a real connection, QoS 0 and QoS 1,
// TLS and plain TCP. The broker is an in-process stand-in that answers the
// CONNECT and then reads into one fixed buffer, so it allocates nothing
// either. It skips under -race and coverage, which allocate on their own;
// make test runs it in a step of its own without them.
func TestPublishHotPathDoesNotAllocate(t *testing.T) {
	if raceEnabled || testing.CoverMode() != "" {
		t.Skip("allocation counts are not meaningful under -race or -cover (make test runs this without them)")
	}
	ca, err := pki.NewCA("alloc test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServer(time.Hour, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, secure := range []bool{false, true} {
		for _, qos := range []byte{0, 1} {
			t.Run(fmt.Sprintf("tls=%v/qos=%d", secure, qos), func(t *testing.T) {
				var ln net.Listener
				var err error
				if secure {
					ln, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf.TLS}})
				} else {
					ln, err = net.Listen("tcp", "127.0.0.1:0")
				}
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				go standIn(ln)

				sc := benchScenario(1)
				sc.Publish.QoS, sc.Publish.MaxInFlight = qos, 65535 // no PUBACK comes: room for every message
				sc.Publish.MaxLateness = time.Hour
				sc.Publish.Stages = []scenario.Stage{{Duration: time.Hour, Rate: 1000}}
				sc.Publish.StartRate, sc.Duration = 1000, time.Hour
				cfg := Config{Scenario: sc, Addr: ln.Addr().String(), Credentials: fixedCreds{"u", "p"},
					Recorder: report.NewRecorder(report.RecorderConfig{})}
				if secure {
					cfg.TLS = NewTLSConfig(TLSOptions{Roots: ca.Pool(), ServerName: "127.0.0.1"})
				}
				f, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				f.start = time.Now()
				f.startWall = f.start.UnixNano()
				d := &f.devices[0]
				conn, wire, err := f.dial(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				defer wire.Close()
				d.infl.init(sc.Publish.MaxInFlight)
				d.live, d.wire = conn, wire
				f.pubEnd.Store(int64(time.Hour))
				f.pubStart.Store(int64(f.since()))

				// Each round moves the run's clock on by one message
				// interval (1 ms at 1000/s): one more message falls due, and
				// the pacer sends it. The session would flush what a full
				// socket left queued; here the round does.
				const rounds = 1000
				allocs := testing.AllocsPerRun(rounds, func() {
					f.start = f.start.Add(-time.Millisecond)
					d.paceSend()
					if err := wire.flush(); err != nil {
						t.Fatal(err)
					}
				})
				if sent := f.rec.Totals().Sent; sent < rounds {
					t.Fatalf("only %d messages sent: the measurement would say nothing", sent)
				}
				if allocs != 0 {
					t.Errorf("the pacer's send allocates %v times per call, want 0", allocs)
				}
			})
		}
	}
}

// standIn accepts one connection, answers its CONNECT and reads the rest
// into a fixed buffer until the connection closes.
func standIn(ln net.Listener) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	if _, err := packets.ReadPacket(c); err != nil {
		return
	}
	if err := packets.NewControlPacket(packets.Connack).Write(c); err != nil {
		return
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
