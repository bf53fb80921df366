package hub

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetbench/fleetbench/internal/precisesleep"
)

// calibrationDelay is the ack delay the calibration check and benchmark
// measure, and calibrationTolerance how far its p50 and p99 may be off.
const (
	calibrationDelay     = 20 * time.Millisecond
	calibrationTolerance = 500 * time.Microsecond
)

// delaySamples collects delays measured at the hub: PUBACK written minus
// PUBLISH received. all is closed when want samples are in (a client may
// see its PUBACK before the hub reports it).
type delaySamples struct {
	want int
	all  chan struct{}
	mu   sync.Mutex
	d    []time.Duration
}

func newDelaySamples(want int) *delaySamples {
	return &delaySamples{want: want, all: make(chan struct{}), d: make([]time.Duration, 0, max(want, 0))}
}

func (s *delaySamples) add(received, sent time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, sent-received)
	if len(s.d) == s.want { // want < 0: never
		close(s.all)
	}
	s.mu.Unlock()
}

// wait waits until want samples are in.
func (s *delaySamples) wait(tb testing.TB) {
	tb.Helper()
	select {
	case <-s.all:
	case <-time.After(10 * time.Second):
		s.mu.Lock()
		defer s.mu.Unlock()
		tb.Fatalf("hub reported %d of %d delayed PUBACKs", len(s.d), s.want)
	}
}

// quantiles returns the delays at the given quantiles (nearest rank).
func (s *delaySamples) quantiles(qs ...float64) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return quantilesOf(s.d, qs...)
}

// publishPaced sends n QoS 1 publishes, one every gap, round-robin over
// the devices (so they do not queue behind each other on one connection),
// and waits for every PUBACK. It returns the client-side delays: PUBACK
// received minus publish called, as paho reports them.
func publishPaced(tb testing.TB, devs []paho.Client, ids []string, n int, gap time.Duration) []time.Duration {
	tb.Helper()
	toks := make([]paho.Token, n)
	sent := make([]time.Time, n)
	acked := make([]time.Time, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * gap)); wait > 0 {
			time.Sleep(wait)
		}
		k := i % len(devs)
		sent[i] = time.Now()
		toks[i] = devs[k].Publish("devices/"+ids[k]+"/messages/events/", 1, false, "calibrate")
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-toks[i].Done()
			acked[i] = time.Now()
		}()
	}
	wg.Wait()
	rtt := make([]time.Duration, n)
	for i, tok := range toks {
		if err := tok.Error(); err != nil {
			tb.Fatalf("publish %d: %v", i, err)
		}
		rtt[i] = acked[i].Sub(sent[i])
	}
	return rtt
}

// startCalibrationHub starts a hub with the given ack delay that reports
// every delayed PUBACK to samples, and connects devices to it.
func startCalibrationHub(tb testing.TB, delay time.Duration, samples *delaySamples, devices int) ([]paho.Client, []string) {
	tb.Helper()
	in := internals{}
	if samples != nil {
		in.ackWritten = samples.add
	}
	h, err := start(Config{Dir: tb.TempDir(), GroupKey: testGroupKey, AckDelay: delay}, in)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	devs := make([]paho.Client, devices)
	ids := make([]string, devices)
	for i := range devs {
		ids[i] = fmt.Sprintf("calibrate-%d", i)
		devs[i] = connectDevice(tb, h, ids[i], nil)
	}
	return devs, ids
}

// machineLateness runs beside a measurement until stop is closed: a
// goroutine sleeping to a target every millisecond on its own timerfd, as
// an ack shard does, recording how late it wakes. Its p99 says whether the
// machine, at that moment, can wake a thread within the tolerance at all.
func machineLateness(stop <-chan struct{}) <-chan *delaySamples {
	out := make(chan *delaySamples, 1)
	go func() {
		s := newDelaySamples(-1)
		sleep, cleanup := precisesleep.New()
		defer cleanup()
		start := time.Now()
		for i := 1; ; i++ {
			select {
			case <-stop:
				out <- s
				return
			default:
			}
			target := time.Duration(i) * time.Millisecond
			sleep(target - time.Since(start))
			s.add(target, time.Since(start))
		}
	}()
	return out
}

// The hub holds each PUBACK calibrationDelay (20 ms) to within
// calibrationTolerance (±0.5 ms) at p50 and p99, measured at the hub as
// "PUBACK written minus PUBLISH received" for 2,000 publishes from real
// TLS clients (4 devices, one publish a millisecond, so about 20 PUBACKs
// are pending at any time). With Go's timers (the first design) p50 was
// 20.5 ms and p99 21.3 ms on the 2-vCPU test machine.
//
// Why the hub side: a client-side delay adds the client's own scheduling
// and the network stack twice, which on a loaded machine moves by
// milliseconds and says nothing about the hub; BenchmarkAckDelayError
// reports the client-side figure. The hub-side figure still holds the time
// the kernel takes to give the woken shard thread a CPU: beside stress-ng
// --cpu 2 on 2 vCPUs that alone put p99 at 24-65 ms (p50 stayed at
// 20.04-20.08 ms). So no PUBACK may leave early and p50 is judged on any
// machine; p99 is judged when a timerfd sleeper running beside the
// measurement (machineLateness) woke within half the tolerance at p99,
// i.e. when the machine could resolve it; otherwise the test says so and
// BenchmarkAckDelayError is the place for the tail.
func TestAckDelayIsCalibrated(t *testing.T) {
	const n = 2000
	samples := newDelaySamples(n)
	devs, ids := startCalibrationHub(t, calibrationDelay, samples, 4)
	stop := make(chan struct{})
	control := machineLateness(stop)
	publishPaced(t, devs, ids, n, time.Millisecond)
	close(stop)
	samples.wait(t)
	machineP99 := (<-control).quantiles(0.99)[0]
	q := samples.quantiles(0, 0.5, 0.99, 1)
	t.Logf("hub-side delay over %d PUBACKs: min %v, p50 %v, p99 %v, max %v; the machine's own timer wake-ups were %v late at p99", n, q[0], q[1], q[2], q[3], machineP99)
	if q[0] < calibrationDelay {
		t.Errorf("a PUBACK left after %v, before the %v delay", q[0], calibrationDelay)
	}
	if err := q[1] - calibrationDelay; err > calibrationTolerance {
		t.Errorf("p50 delay %v, want %v ± %v", q[1], calibrationDelay, calibrationTolerance)
	}
	if machineP99 > calibrationTolerance/2 {
		t.Logf("p99 not judged: this machine woke a timerfd sleeper %v late at p99 over the same seconds, more than half the %v tolerance", machineP99, calibrationTolerance)
		return
	}
	if err := q[2] - calibrationDelay; err > calibrationTolerance {
		t.Errorf("p99 delay %v, want %v ± %v", q[2], calibrationDelay, calibrationTolerance)
	}
}

// The ack delay's error, as percentiles in µs, for b.N publishes paced one
// a millisecond over 4 devices (run with -benchtime=2000x):
//   - hub-p50/p99-err-µs: PUBACK written minus PUBLISH received, minus the
//     20 ms delay, at the hub;
//   - client-p50/p99-err-µs: the client's PUBACK time minus the same
//     quantile of a run without delay made just before (the client and the
//     network's share cancels as far as it is the same in both runs);
//   - machine-p99-late-µs: how late a timerfd sleeper beside the delayed
//     run woke at p99: the floor no timer in this process can beat.
func BenchmarkAckDelayError(b *testing.B) {
	n := max(b.N, 100)
	devs, ids := startCalibrationHub(b, 0, nil, 4)
	base := publishPaced(b, devs, ids, n, time.Millisecond)

	samples := newDelaySamples(n)
	devs, ids = startCalibrationHub(b, calibrationDelay, samples, 4)
	stop := make(chan struct{})
	control := machineLateness(stop)
	b.ResetTimer()
	delayed := publishPaced(b, devs, ids, n, time.Millisecond)
	b.StopTimer()
	close(stop)
	samples.wait(b)
	machine := <-control

	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	hub := samples.quantiles(0.5, 0.99)
	b.ReportMetric(us(hub[0]-calibrationDelay), "hub-p50-err-µs")
	b.ReportMetric(us(hub[1]-calibrationDelay), "hub-p99-err-µs")
	bq, dq := quantilesOf(base, 0.5, 0.99), quantilesOf(delayed, 0.5, 0.99)
	b.ReportMetric(us(dq[0]-bq[0]-calibrationDelay), "client-p50-err-µs")
	b.ReportMetric(us(dq[1]-bq[1]-calibrationDelay), "client-p99-err-µs")
	b.ReportMetric(us(machine.quantiles(0.99)[0]), "machine-p99-late-µs")
}

// quantilesOf returns d's values at the quantiles qs (nearest rank); 0
// for each when d is empty.
func quantilesOf(d []time.Duration, qs ...float64) []time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		if len(d) > 0 {
			out[i] = d[min(len(d)-1, int(q*float64(len(d))))]
		}
	}
	return out
}
