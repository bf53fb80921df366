package fleet

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	user, sys := cpuSplit()
	return user + sys
}

// cpuSplit returns the process's user and system CPU time so far.
func cpuSplit() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// taskCPU returns the CPU time the task pid has run so far, to the
// nanosecond (/proc/PID/schedstat), or 0 where there is none.
func taskCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	ns, _ := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns)
}

// softirqThreads returns the pids of the kernel's ksoftirqd threads.
func softirqThreads() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.HasPrefix(string(comm), "ksoftirqd/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cpuMeter reports CPU per operation from its creation to report: the
// process's (in all, and the kernel's part), and everyone's: the process,
// the broker (pid) and the kernel's ksoftirqd threads. On loopback the
// receiver's TCP input runs in the sender's write(2), or in ksoftirqd when
// the machine is saturated, which is in no process's CPU time: only the
// figure for everyone compares designs fairly then. (/proc/stat cannot say:
// its busy time is sampled at ticks and misses short bursts.)
//
// It also reports the TCP segments the machine sent per operation (data
// and acknowledgements, both ends: on loopback they are all ours to
// count), which shows when the kernel coalesced messages.
type cpuMeter struct {
	user, sys, others time.Duration
	pids              []int
	segs              int64
}

func startCPU(brokerPid int) cpuMeter {
	m := cpuMeter{pids: append(softirqThreads(), brokerPid)}
	m.user, m.sys = cpuSplit()
	m.others = m.othersCPU()
	m.segs = tcpOutSegs()
	return m
}

// tcpOutSegs returns the TCP segments the machine has sent
// (/proc/net/snmp), or -1.
func tcpOutSegs() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return -1
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		if i := slices.Index(names, "OutSegs"); i > 0 && i < len(f) {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			return n
		}
	}
	return -1
}

func (m cpuMeter) othersCPU() time.Duration {
	var d time.Duration
	for _, pid := range m.pids {
		d += taskCPU(pid)
	}
	return d
}

func (m cpuMeter) report(b *testing.B, ops int, unit string) {
	u, s := cpuSplit()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(ops) }
	own := u - m.user + s - m.sys
	b.ReportMetric(per(own), "us-cpu/"+unit)
	b.ReportMetric(per(s-m.sys), "us-sys/"+unit)
	b.ReportMetric(per(own+m.othersCPU()-m.others), "us-everyone/"+unit)
	if segs := tcpOutSegs(); m.segs >= 0 && segs >= 0 {
		b.ReportMetric(float64(segs-m.segs)/float64(ops), "segs/"+unit)
	}
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
			// One writer, as one pacer is; and GOMAXPROCS writers over
			// disjoint devices, which keeps the broker busy the way a
			// saturating closed-loop tool does.
			for _, writers := range []int{1, runtime.GOMAXPROCS(0)} {
				b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
					each := max(b.N/writers, 1)
					cpu := startCPU(m.Pid())
					var wg sync.WaitGroup
					for w := range writers {
						wg.Go(func() {
							for i := range each {
								k := w + (i*writers)%engineDevices
								d := &f.devices[k]
								d.frame.stampMessage(0, d.seq, f.startWall)
								d.seq++
								if _, err := conns[k].Write(d.frame.buf); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					cpu.report(b, each*writers, "publish")
				})
			}
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
			// One goroutine publishing round-robin, and a goroutine per
			// client publishing its share, as mqtt-benchmark does.
			b.Run("publishers=1", func(b *testing.B) {
				cpu := startCPU(m.Pid())
				var n int
				for i := 0; b.Loop(); i++ {
					k := i % engineDevices
					if t := clients[k].Publish(topics[k], 0, false, payload); t.Wait() && t.Error() != nil {
						b.Fatal(t.Error())
					}
					n++
				}
				cpu.report(b, n, "publish")
			})
			b.Run(fmt.Sprintf("publishers=%d", engineDevices), func(b *testing.B) {
				each := max(b.N/engineDevices, 1)
				cpu := startCPU(m.Pid())
				b.ResetTimer()
				var wg sync.WaitGroup
				for k := range clients {
					wg.Go(func() {
						for range each {
							if t := clients[k].Publish(topics[k], 0, false, payload); t.Wait() && t.Error() != nil {
								b.Error(t.Error())
								return
							}
						}
					})
				}
				wg.Wait()
				cpu.report(b, each*engineDevices, "publish")
			})
		})
	}
}

// pacedRate and pacedDevices are the load of the paced comparison: 2,000
// TLS devices sending 20,000 QoS 0 messages a second between them (10 each).
const pacedRate, pacedDevices = 20000, 2000

// BenchmarkPacedPublish compares, at one offered rate against the same
// mosquitto, what publishing costs fleetbench's engine (pacers, efficient
// pacing) and the design of the existing Go MQTT load generators (a paho
// Client per device, each device's goroutine publishing on a ticker). b.N is
// the number of messages; it should be a multiple of 20,000 (a second).
//
//	go test ./fleet -run '^$' -bench PacedPublish -benchtime 200000x
//
// It reports the process's CPU per message (and the kernel's part of it)
// and the whole machine's, broker included.
func BenchmarkPacedPublish(b *testing.B) {
	m := testbed.StartMosquitto(b)
	duration := func(n int) time.Duration { return time.Duration(max(n, pacedRate)) * time.Second / pacedRate }

	b.Run("engine=fleetbench", func(b *testing.B) {
		sc := benchScenario(pacedDevices)
		sc.Publish.QoS, sc.Publish.Pacing = 0, scenario.PacingEfficient
		sc.Publish.Stages = []scenario.Stage{{Duration: duration(b.N), Rate: pacedRate}}
		sc.Publish.StartRate, sc.Duration = pacedRate, duration(b.N)
		sc.Connect.Rate, sc.Drain = 5000, time.Second
		var cpu cpuMeter
		var sentBefore uint64
		rec := report.NewRecorder(report.RecorderConfig{})
		f, err := New(Config{
			Scenario: sc, Addr: m.TLSAddr, Credentials: fixedCreds{m.Username, m.Password}, Recorder: rec,
			TLS: NewTLSConfig(TLSOptions{Roots: m.CAPool, ServerName: "127.0.0.1"}),
			OnPhase: func(p Phase) {
				switch p {
				case PhasePublish:
					sentBefore = uint64(rec.Totals().Sent)
					cpu = startCPU(m.Pid())
				case PhaseDrain:
					cpu.report(b, int(uint64(rec.Totals().Sent)-sentBefore), "msg")
				}
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		if _, err := f.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		if tot := rec.Totals(); tot.Connects != pacedDevices || tot.Sent < tot.Due*99/100 {
			b.Fatalf("connected %d, sent %d of %d due", tot.Connects, tot.Sent, tot.Due)
		}
	})

	b.Run("engine=paho", func(b *testing.B) {
		clients := make([]paho.Client, pacedDevices)
		for i := range clients {
			o := paho.NewClientOptions().AddBroker("ssl://" + m.TLSAddr).SetClientID(fmt.Sprintf("paho-%d", i)).
				SetUsername(m.Username).SetPassword(m.Password).SetKeepAlive(60 * time.Second).
				SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(false).
				SetTLSConfig(&tls.Config{RootCAs: m.CAPool, ServerName: "127.0.0.1",
					CurvePreferences: []tls.CurveID{tls.CurveP256}})
			clients[i] = paho.NewClient(o)
			if t := clients[i].Connect(); t.Wait() && t.Error() != nil {
				b.Fatal(t.Error())
			}
			defer clients[i].Disconnect(0)
		}
		payload := make([]byte, 256)
		interval := time.Second * pacedDevices / pacedRate
		each := int(duration(b.N) / interval)
		var sent atomic.Int64
		b.ResetTimer()
		cpu := startCPU(m.Pid())
		var wg sync.WaitGroup
		for i, c := range clients {
			topic := fmt.Sprintf("devices/paho-%d/messages/events/", i)
			wg.Go(func() {
				// Spread the devices' first messages over one interval.
				time.Sleep(interval * time.Duration(i) / pacedDevices)
				t := time.NewTicker(interval)
				defer t.Stop()
				for range each {
					if tok := c.Publish(topic, 0, false, payload); tok.Wait() && tok.Error() != nil {
						b.Error(tok.Error())
						return
					}
					sent.Add(1)
					<-t.C
				}
			})
		}
		wg.Wait()
		cpu.report(b, int(sent.Load()), "msg")
	})
}
