package fleet

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// The device-engine decision (docs/design.md) rests on these benchmarks:
// N devices connect over TLS to a real mosquitto in another process, so
// that only the generator's own memory and CPU are counted.
//
//	go test ./fleet -run '^$' -bench Engine -benchtime 1x
//
// Each reports bytes of Go heap+stack per connected device, goroutines per
// device, and client CPU microseconds per TLS connect.

const engineDevices = 2000

type engineCost struct {
	bytesPerDevice, goroutinesPerDevice, cpuUsPerConnect float64
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func liveBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// measure runs connectAll, which connects n devices, and returns the cost
// per device; disconnect is called after measuring.
func measure(b *testing.B, n int, connectAll func() error, disconnect func()) engineCost {
	b.Helper()
	mem0, g0 := liveBytes(), runtime.NumGoroutine()
	cpu0 := cpuTime()
	err := connectAll()
	cpu := cpuTime() - cpu0
	if err != nil {
		b.Fatal(err)
	}
	c := engineCost{
		bytesPerDevice:      float64(liveBytes()-mem0) / float64(n),
		goroutinesPerDevice: float64(runtime.NumGoroutine()-g0) / float64(n),
		cpuUsPerConnect:     float64(cpu.Microseconds()) / float64(n),
	}
	disconnect()
	return c
}

// inParallel calls connect for 0..n-1 on its own goroutine each, at most
// 32 at once, and returns the first error.
func inParallel(n int, connect func(i int) error) error {
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := connect(i); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return firstErr
}

func report3(b *testing.B, c engineCost) {
	b.ReportMetric(c.bytesPerDevice, "B/device")
	b.ReportMetric(c.goroutinesPerDevice, "goroutines/device")
	b.ReportMetric(c.cpuUsPerConnect, "us-cpu/connect")
}

func BenchmarkEnginePaho(b *testing.B) {
	m := testbed.StartMosquitto(b)
	for _, tuned := range []bool{false, true} {
		b.Run(fmt.Sprintf("tuned=%v", tuned), func(b *testing.B) {
			for b.Loop() {
				clients := make([]paho.Client, engineDevices)
				c := measure(b, engineDevices, func() error {
					return inParallel(engineDevices, func(i int) error {
						o := paho.NewClientOptions().AddBroker("ssl://" + m.TLSAddr).
							SetClientID(fmt.Sprintf("paho-%d", i)).SetUsername(m.Username).SetPassword(m.Password).
							SetTLSConfig(&tls.Config{RootCAs: m.CAPool, ServerName: "127.0.0.1"}).
							SetKeepAlive(60 * time.Second)
						if tuned {
							o.SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(false).
								SetMessageChannelDepth(1).SetWriteTimeout(time.Second).
								SetTLSConfig(&tls.Config{RootCAs: m.CAPool, ServerName: "127.0.0.1",
									CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}})
						}
						cl := paho.NewClient(o)
						t := cl.Connect()
						t.Wait()
						clients[i] = cl
						return t.Error()
					})
				}, func() {
					for _, cl := range clients {
						cl.Disconnect(0)
					}
				})
				report3(b, c)
			}
		})
	}
}

type fixedCreds struct{ user, pass string }

func (f fixedCreds) Credentials(index int, id string, now time.Time) (credential.Credentials, error) {
	return credential.Credentials{ClientID: id, Username: f.user, Password: credential.Secret(f.pass)}, nil
}

func benchScenario(n int) *scenario.Scenario {
	return &scenario.Scenario{
		Devices: scenario.Devices{Count: n, ID: "lean-{index}"},
		Connect: scenario.Connect{Rate: 1e9, MaxInFlight: 32, Timeout: 10 * time.Second, KeepAlive: 60 * time.Second, CleanSession: true},
		Publish: scenario.Publish{QoS: 1, MaxInFlight: 16, Topic: "devices/{device}/messages/events/",
			Payload: scenario.Payload{Size: 256, Template: `{"fb":"{stamp}","pad":"{fill}"}`}, MaxLateness: time.Second,
			Stages: []scenario.Stage{{Duration: time.Second, Rate: 1}}, StartRate: 1},
		Duration: time.Second,
	}
}

func BenchmarkEngineLean(b *testing.B) {
	m := testbed.StartMosquitto(b)
	for b.Loop() {
		f, err := New(Config{
			Scenario: benchScenario(engineDevices), Addr: m.TLSAddr,
			TLS:         NewTLSConfig(TLSOptions{Roots: m.CAPool, ServerName: "127.0.0.1"}),
			Credentials: fixedCreds{m.Username, m.Password},
			Recorder:    report.NewRecorder(report.RecorderConfig{}),
		})
		if err != nil {
			b.Fatal(err)
		}
		f.start = time.Now()
		f.runCtx, f.cancelRun = context.WithCancel(context.Background())
		// The fleet's own ramp (connector pool, semaphore), unpaced.
		c := measure(b, engineDevices, func() error {
			f.connectAll(context.Background())
			if n := f.connected.Load(); n != engineDevices {
				return fmt.Errorf("%d of %d devices connected", n, engineDevices)
			}
			return nil
		}, f.stop)
		report3(b, c)
	}
}

// BenchmarkPublishBackToBack is the floor under CPU per message: devices
// connected with fleetbench's engine publish QoS 0 round-robin as fast as
// one goroutine can write, with no pacing, no sleeping and no waking, to a
// real mosquitto in another process.
//
//	go test ./fleet -run '^$' -bench PublishBackToBack -benchtime 200000x
//
// What a paced run spends above this per message is the price of keeping
// the schedule: waking up on time (docs/design.md).
func BenchmarkPublishBackToBack(b *testing.B) {
	m := testbed.StartMosquitto(b)
	for _, secure := range []bool{true, false} {
		b.Run(fmt.Sprintf("tls=%v", secure), func(b *testing.B) {
			sc := benchScenario(engineDevices)
			sc.Publish.QoS = 0
			cfg := Config{Scenario: sc, Addr: m.PlainAddr, Credentials: fixedCreds{m.Username, m.Password},
				Recorder: report.NewRecorder(report.RecorderConfig{})}
			if secure {
				cfg.Addr, cfg.TLS = m.TLSAddr, NewTLSConfig(TLSOptions{Roots: m.CAPool, ServerName: "127.0.0.1"})
			}
			f, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			f.start = time.Now()
			f.runCtx, f.cancelRun = context.WithCancel(context.Background())
			defer f.stop()
			conns := make([]net.Conn, engineDevices)
			for i := range f.devices {
				var wire *sendConn
				if conns[i], wire, err = f.dial(context.Background(), &f.devices[i]); err != nil {
					b.Fatal(err)
				}
				defer wire.Close() // not a TLS close: its close_notify would queue behind the backlog
			}
			cpu0 := cpuTime()
			var n int
			for i := 0; b.Loop(); i++ {
				d := &f.devices[i%engineDevices]
				d.frame.stampMessage(0, d.seq, f.startWall)
				d.seq++
				if _, err := conns[i%engineDevices].Write(d.frame.buf); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1000/float64(n), "us-cpu/publish")
		})
	}
}

// BenchmarkPublishPahoBackToBack is the same floor for the design the
// existing Go MQTT load generators share (a paho Client per device, each
// publish handed to the client's writer goroutine and waited for):
// QoS 0 round-robin over 2,000 connected clients, as fast as possible.
//
//	go test ./fleet -run '^$' -bench PublishPahoBackToBack -benchtime 200000x
//
// Set against BenchmarkPublishBackToBack on the same machine, it says what
// "CPU per publish" the reference tools' design would spend here.
func BenchmarkPublishPahoBackToBack(b *testing.B) {
	m := testbed.StartMosquitto(b)
	payload := make([]byte, 256)
	for _, secure := range []bool{true, false} {
		b.Run(fmt.Sprintf("tls=%v", secure), func(b *testing.B) {
			clients := make([]paho.Client, engineDevices)
			for i := range clients {
				o := paho.NewClientOptions().SetClientID(fmt.Sprintf("paho-%d", i)).
					SetUsername(m.Username).SetPassword(m.Password).SetKeepAlive(60 * time.Second).
					SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(false)
				if secure {
					o.AddBroker("ssl://" + m.TLSAddr).SetTLSConfig(&tls.Config{RootCAs: m.CAPool, ServerName: "127.0.0.1"})
				} else {
					o.AddBroker("tcp://" + m.PlainAddr)
				}
				clients[i] = paho.NewClient(o)
				if t := clients[i].Connect(); t.Wait() && t.Error() != nil {
					b.Fatal(t.Error())
				}
				defer clients[i].Disconnect(0)
			}
			topics := make([]string, engineDevices)
			for i := range topics {
				topics[i] = fmt.Sprintf("devices/paho-%d/messages/events/", i)
			}
			cpu0 := cpuTime()
			var n int
			for i := 0; b.Loop(); i++ {
				k := i % engineDevices
				if t := clients[k].Publish(topics[k], 0, false, payload); t.Wait() && t.Error() != nil {
					b.Fatal(t.Error())
				}
				n++
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1000/float64(n), "us-cpu/publish")
		})
	}
}
