package confirm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/stamp"
)

// msg is one delivery in a generated stream.
type msg struct {
	dev int
	seq uint64
}

// reference classifies a stream naively (a set of everything seen), the
// definition the Matcher must reproduce with bounded memory.
type reference struct {
	seen                              map[msg]bool
	highest                           map[int]int64
	confirmed, dups, reordered, unexp uint64
}

func (r *reference) observe(m msg) {
	if r.seen[m] {
		r.dups++
		return
	}
	r.seen[m] = true
	h, ok := r.highest[m.dev]
	if ok && int64(m.seq) < h {
		r.reordered++
	}
	if !ok || int64(m.seq) > h {
		r.highest[m.dev] = int64(m.seq)
	}
	r.confirmed++
}

func payloadFor(run uint32, m msg, intended int64) []byte {
	b := make([]byte, 10+stamp.Len)
	copy(b, `{"fb":"...`)
	stamp.Encode(b[10:], stamp.Stamp{Run: run, Device: uint32(m.dev), Seq: m.seq, Intended: intended})
	return b
}

// scenarioCase is one randomly generated stream with its expected counts.
type scenarioCase struct {
	devices, first int
	sent           map[int]uint64 // per device index
	stream         []msg
	lost           []Lost // sorted by device, seq
	dups           uint64
	unexpected     uint64
	foreign        int
}

// genCase sends sent[d] messages per device, drops some (in bursts or
// singly), injects duplicates and a few seqs the publisher will not count as
// sent, shuffles fully or with bounded displacement, and adds foreign
// messages.
func genCase(r *rand.Rand) scenarioCase {
	c := scenarioCase{devices: 1 + r.IntN(6), first: r.IntN(3) * 1000, sent: map[int]uint64{}}
	for d := c.first; d < c.first+c.devices; d++ {
		n := uint64(r.IntN(400))
		c.sent[d] = n
		dropP := []float64{0, 0.01, 0.2, 0.7}[r.IntN(4)]
		for s := uint64(0); s < n; s++ {
			switch {
			case r.Float64() < dropP: // single loss
			case r.IntN(50) == 0: // a burst of loss
				s += uint64(r.IntN(200))
			default:
				c.stream = append(c.stream, msg{d, s})
			}
		}
		if r.IntN(5) == 0 { // seqs beyond what the publisher reports
			extra := uint64(1 + r.IntN(3))
			for q := n; q < n+extra; q++ {
				c.stream = append(c.stream, msg{d, q})
			}
			c.unexpected += extra
		}
	}
	// Lost: every sent seq not in the stream.
	got := map[msg]bool{}
	for _, m := range c.stream {
		got[m] = true
	}
	for d := c.first; d < c.first+c.devices; d++ {
		for s := uint64(0); s < c.sent[d]; s++ {
			if !got[msg{d, s}] {
				c.lost = append(c.lost, Lost{d, s})
			}
		}
	}
	if len(c.stream) > 0 {
		k := r.IntN(len(c.stream)/4 + 1)
		for range k {
			c.stream = append(c.stream, c.stream[r.IntN(len(c.stream))])
		}
		c.dups = uint64(k)
	}
	switch r.IntN(3) {
	case 0: // full permutation
		r.Shuffle(len(c.stream), func(i, j int) { c.stream[i], c.stream[j] = c.stream[j], c.stream[i] })
	case 1: // bounded displacement, like a real broker
		for i := range c.stream {
			j := min(len(c.stream)-1, i+r.IntN(8))
			c.stream[i], c.stream[j] = c.stream[j], c.stream[i]
		}
	case 2: // in order per device, devices interleaved
		slices.SortStableFunc(c.stream, func(a, b msg) int { return int(a.seq) - int(b.seq) })
	}
	c.foreign = r.IntN(4)
	return c
}

// Any permutation of any stream with drops and duplicates gives exact
// counts, for windows far smaller and far larger than the per-device
// message count.
func TestMatcherProperty(t *testing.T) {
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 42))
		c := genCase(r)
		for _, window := range []int{64, 128, 1024} {
			t.Run(fmt.Sprintf("seed%d/w%d", seed, window), func(t *testing.T) {
				checkCase(t, c, window)
			})
		}
	}
}

func checkCase(t *testing.T, c scenarioCase, window int) {
	const run = 77
	m := NewMatcher(MatcherConfig{Run: run, Devices: c.devices, FirstIndex: c.first, Window: window, ListLost: 10})
	ref := reference{seen: map[msg]bool{}, highest: map[int]int64{}}
	now := time.Unix(1_800_000_000, 0)
	for i, x := range c.stream {
		m.Observe(payloadFor(run, x, now.UnixNano()), now.Add(time.Duration(i)*time.Microsecond), time.Time{})
		ref.observe(x)
	}
	for i := range c.foreign {
		switch i % 3 {
		case 0:
			m.Observe([]byte("no stamp here"), now, time.Time{})
		case 1:
			m.Observe(payloadFor(run+1, msg{c.first, 0}, 0), now, time.Time{})
		case 2:
			m.Observe(payloadFor(run, msg{c.first + c.devices, 0}, 0), now, time.Time{})
		}
	}
	res := m.Finish(func(d int) uint64 { return c.sent[d] })
	want := Result{
		Confirmed:  ref.confirmed - c.unexpected,
		Lost:       uint64(len(c.lost)),
		Duplicates: ref.dups,
		Reordered:  ref.reordered,
		Foreign:    uint64(c.foreign),
		Unexpected: c.unexpected,
	}
	got := Result{Confirmed: res.Confirmed, Lost: res.Lost, Duplicates: res.Duplicates,
		Reordered: res.Reordered, Foreign: res.Foreign, Unexpected: res.Unexpected}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counts:\n got %+v\nwant %+v", got, want)
	}
	if ref.dups != c.dups {
		t.Fatalf("reference saw %d duplicates, %d injected", ref.dups, c.dups)
	}
	wantLost := c.lost[:min(10, len(c.lost))]
	if !slices.Equal(res.FirstLost, wantLost) {
		t.Fatalf("FirstLost = %v, want %v", res.FirstLost, wantLost)
	}
	if res.E2E.TotalCount() != int64(ref.confirmed) {
		t.Fatalf("E2E holds %d values, want one per first arrival (%d)", res.E2E.TotalCount(), ref.confirmed)
	}
	if again := m.Finish(func(d int) uint64 { return c.sent[d] }); again.Lost != res.Lost || again.Confirmed != res.Confirmed {
		t.Fatal("a second Finish changed the result")
	}
}

// Hand-picked streams, each with its reason.
func TestMatcherCases(t *testing.T) {
	cases := []struct {
		name          string
		window        int
		seqs          []uint64 // device 0
		sent          uint64
		confirmed     uint64
		lost, dup, ro uint64
	}{
		{"in order", 64, []uint64{0, 1, 2, 3}, 4, 4, 0, 0, 0},
		{"nothing arrived", 64, nil, 5, 0, 5, 0, 0},
		{"tail lost", 64, []uint64{0, 1}, 5, 2, 3, 0, 0},
		{"swap counts one reorder", 64, []uint64{1, 0, 2}, 3, 3, 0, 0, 1},
		{"duplicate in window", 64, []uint64{0, 1, 1, 0}, 2, 2, 0, 2, 0},
		{"jump far beyond the window, then the gap arrives late", 64, []uint64{1000, 5, 999}, 1001, 3, 998, 0, 2},
		{"duplicate far below the window", 64, []uint64{0, 500, 0}, 501, 2, 499, 1, 0},
		{"late arrival splits a missed range", 64, []uint64{300, 100, 101, 99, 100}, 301, 4, 297, 1, 3},
		{"window edge: seq exactly window behind", 64, []uint64{64, 0}, 65, 2, 63, 0, 1},
		{"window edge: one inside", 64, []uint64{63, 0, 0}, 64, 2, 62, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMatcher(MatcherConfig{Run: 1, Devices: 1, Window: c.window})
			for _, s := range c.seqs {
				m.Observe(payloadFor(1, msg{0, s}, 0), time.Unix(0, 1000), time.Time{})
			}
			r := m.Finish(func(int) uint64 { return c.sent })
			if r.Confirmed != c.confirmed || r.Lost != c.lost || r.Duplicates != c.dup || r.Reordered != c.ro {
				t.Fatalf("confirmed/lost/dup/reordered = %d/%d/%d/%d, want %d/%d/%d/%d",
					r.Confirmed, r.Lost, r.Duplicates, r.Reordered, c.confirmed, c.lost, c.dup, c.ro)
			}
		})
	}
}

// Several consumer goroutines observing at once count exactly (run with
// -race).
func TestMatcherConcurrent(t *testing.T) {
	const devices, perDevice, workers = 100, 300, 4
	m := NewMatcher(MatcherConfig{Run: 5, Devices: devices, Window: 64})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			buf := make([]byte, stamp.Len)
			for d := w; d < devices; d += workers {
				for s := uint64(0); s < perDevice; s++ {
					if s%10 == 3 { // drop
						continue
					}
					stamp.Encode(buf, stamp.Stamp{Run: 5, Device: uint32(d), Seq: s, Intended: 1})
					m.Observe(buf, time.Unix(0, 2000), time.Unix(0, 1500))
					if r.IntN(20) == 0 {
						m.Observe(buf, time.Unix(0, 2000), time.Time{})
					}
				}
			}
		})
	}
	wg.Wait()
	res := m.Finish(func(int) uint64 { return perDevice })
	if res.Confirmed != devices*perDevice*9/10 || res.Lost != devices*perDevice/10 {
		t.Fatalf("confirmed %d lost %d", res.Confirmed, res.Lost)
	}
	if c := m.Counts(); c.Duplicates != res.Duplicates || c.Duplicates == 0 {
		t.Fatalf("duplicates: counts %d, result %d", c.Duplicates, res.Duplicates)
	}
	if res.DeviceToHub.TotalCount() != int64(res.Confirmed) || res.HubToConsumer.Max() != 0 {
		t.Fatalf("device-to-hub holds %d values; hub-to-consumer max %d us", res.DeviceToHub.TotalCount(), res.HubToConsumer.Max())
	}
}

// Latencies: intended -> receipt, intended -> enqueued, enqueued -> receipt,
// in microseconds; receipts before the intended time are counted as skew.
func TestMatcherLatency(t *testing.T) {
	m := NewMatcher(MatcherConfig{Run: 1, Devices: 1, MaxLatency: time.Second})
	t0 := time.Unix(100, 0)
	m.Observe(payloadFor(1, msg{0, 0}, t0.UnixNano()), t0.Add(5*time.Millisecond), t0.Add(2*time.Millisecond))
	m.Observe(payloadFor(1, msg{0, 1}, t0.UnixNano()), t0.Add(-time.Millisecond), time.Time{})
	m.Observe(payloadFor(1, msg{0, 2}, t0.UnixNano()), t0.Add(time.Minute), time.Time{})
	r := m.Finish(func(int) uint64 { return 3 })
	if r.DeviceToHub.TotalCount() != 1 || !r.DeviceToHub.ValuesAreEquivalent(r.DeviceToHub.ValueAtQuantile(50), 2000) {
		t.Errorf("device-to-hub p50 %d us (n=%d), want 2000", r.DeviceToHub.ValueAtQuantile(50), r.DeviceToHub.TotalCount())
	}
	if got := r.HubToConsumer.ValueAtQuantile(50); !r.HubToConsumer.ValuesAreEquivalent(got, 3000) {
		t.Errorf("hub-to-consumer %d us, want 3000", got)
	}
	if r.NegativeLatency != 1 || r.E2EOverMax != 1 || r.E2E.Min() != 0 {
		t.Errorf("negative %d over-max %d min %d; want 1, 1, 0", r.NegativeLatency, r.E2EOverMax, r.E2E.Min())
	}
	if !r.E2E.ValuesAreEquivalent(r.E2E.ValueAtQuantile(50), 5000) {
		t.Errorf("e2e p50 %d us, want 5000", r.E2E.ValueAtQuantile(50))
	}
}

// Interval histograms taken while observing add up to the run's e2e
// histogram, and each holds exactly what was observed since the last take.
func TestMatcherIntervalsAddUpToTheRun(t *testing.T) {
	m := NewMatcher(MatcherConfig{Run: 1, Devices: 7, MaxLatency: time.Second})
	t0 := time.Unix(100, 0)
	var intervals []*hdrhistogram.Histogram
	seq := make([]uint64, 7)
	for iv := range 4 {
		for i := range 10 * (iv + 1) {
			d := i % 7
			m.Observe(payloadFor(1, msg{d, seq[d]}, t0.UnixNano()), t0.Add(time.Duration(iv+1)*time.Millisecond), time.Time{})
			seq[d]++
		}
		m.Observe(payloadFor(1, msg{0, 0}, t0.UnixNano()), t0, time.Time{}) // a duplicate: not counted
		h := report.NewLatencyHistogram(time.Second)
		m.TakeInterval(h)
		if h.TotalCount() != int64(10*(iv+1)) || !h.ValuesAreEquivalent(h.Max(), int64(iv+1)*1000) {
			t.Fatalf("interval %d: %d samples, max %d us; want %d at %d us", iv, h.TotalCount(), h.Max(), 10*(iv+1), (iv+1)*1000)
		}
		intervals = append(intervals, h)
	}
	r := m.Finish(func(d int) uint64 { return seq[d] })
	sum := report.NewLatencyHistogram(time.Second)
	for _, h := range intervals {
		sum.Merge(h)
	}
	if !sum.Equals(r.E2E) {
		t.Fatalf("intervals hold %d samples, the run %d", sum.TotalCount(), r.E2E.TotalCount())
	}
}

func BenchmarkObserve(b *testing.B) {
	const devices = 1000
	m := NewMatcher(MatcherConfig{Run: 1, Devices: devices})
	payload := make([]byte, 200)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		stamp.Encode(payload[100:], stamp.Stamp{Run: 1, Device: uint32(i % devices), Seq: uint64(i / devices), Intended: 1})
		m.Observe(payload, now, time.Time{})
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	const devices = 1000
	m := NewMatcher(MatcherConfig{Run: 1, Devices: devices})
	now := time.Now()
	b.ReportAllocs()
	var worker sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		worker.Lock()
		w := next
		next++
		worker.Unlock()
		payload := make([]byte, 200)
		// Each worker owns the devices w, w+16, w+32, ... (as a consumer
		// partition would) and sends each of them seqs in order.
		const per = devices / 16
		for i := 0; pb.Next(); i++ {
			d := w%16 + (i%per)*16
			stamp.Encode(payload[100:], stamp.Stamp{Run: 1, Device: uint32(d), Seq: uint64(i / per), Intended: 1})
			m.Observe(payload, now, time.Time{})
		}
	})
}
