package gctune

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const MB = 1 << 20
	for _, c := range []struct {
		name                   string
		live, base             uint64
		connected, total, want int
		steady                 int
	}{
		{"nothing connected yet", 10 * MB, 10 * MB, 0, 1000, 100, 25},
		{"early: the projection is far above, capped at double", 12 * MB, 10 * MB, 100, 10_000, 100, 25},
		// 2 MB for 1,000 of 2,000 devices: 14 MB projected, goal 15.75 MB over 12 MB live.
		{"half way", 12 * MB, 10 * MB, 1000, 2000, 31, 25},
		// all connected: the projection is what is live, the steady target.
		{"all connected", 30 * MB, 10 * MB, 2000, 2000, 25, 25},
		{"more connected than expected (reconnects)", 30 * MB, 10 * MB, 2500, 2000, 25, 25},
		{"live below base after a collection", 8 * MB, 10 * MB, 10, 2000, 40, 25},
		{"steady target already high", 12 * MB, 10 * MB, 100, 10_000, 200, 200},
		{"no collection yet", 0, 0, 100, 10_000, 100, 25},
	} {
		if got := Percent(c.live, c.base, c.connected, c.total, c.steady); got != c.want {
			t.Errorf("%s: Percent(%d MB, %d MB, %d, %d, %d) = %d, want %d", c.name,
				c.live/MB, c.base/MB, c.connected, c.total, c.steady, got, c.want)
		}
	}
}

// gcPercent reads the current GC target.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// A Tuner adjusts the target after each collection, to Percent of what is
// live then, and Stop restores the steady target for good.
func TestTunerAdjustsAfterEveryCollection(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	var connected atomic.Int64
	const total = 1000
	type adjustment struct {
		live    uint64
		percent int
	}
	adjusted := make(chan adjustment, 16)
	tu := &Tuner{steady: 25, base: liveHeap(), progress: func() (int, int) { return int(connected.Load()), total }}
	tu.adjusted = func(live uint64, p int) { adjusted <- adjustment{live, p} }
	tu.mu.Lock()
	tu.adjustLocked()
	tu.mu.Unlock()
	if a := <-adjusted; a.percent != MaxPercent {
		t.Fatalf("before any device connected: GOGC %d, want %d", a.percent, MaxPercent)
	}
	for _, c := range []int64{10, 500, total} {
		connected.Store(c)
		runtime.GC()
		select {
		case a := <-adjusted:
			if want := Percent(a.live, tu.base, int(c), total, 25); a.percent != want {
				t.Errorf("%d connected, %d bytes live: GOGC %d, want %d", c, a.live, a.percent, want)
			}
			if got := gcPercent(); got != a.percent {
				t.Errorf("the runtime's GOGC is %d, the tuner set %d", got, a.percent)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no adjustment after a collection (%d connected)", c)
		}
	}
	tu.Stop()
	runtime.GC()
	runtime.GC()
	if got := gcPercent(); got != 25 {
		t.Errorf("after Stop and two collections GOGC is %d, want the steady 25", got)
	}
}

// heapGoal returns the heap size at which the next collection starts.
func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapInUse returns the bytes of heap objects, live or not yet swept.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// ramp simulates a connect phase: n devices each leave perDevice bytes of
// long-lived state and garbage bytes of garbage. It returns the collections
// it caused, the most heap it used, the highest heap goal seen, and every
// goal the tuner set (the heap size its target allows over the live heap it
// saw).
func ramp(n, perDevice, garbage int, tune bool) (cycles uint32, peak, peakGoal uint64, goals []float64) {
	runtime.GC()
	runtime.GC()
	var connected atomic.Int64
	var tu *Tuner
	if tune {
		tu = &Tuner{steady: 25, base: liveHeap(), progress: func() (int, int) { return int(connected.Load()), n }}
		tu.adjusted = func(live uint64, p int) { goals = append(goals, float64(live)*(1+float64(p)/100)) }
		tu.mu.Lock()
		tu.adjustLocked()
		tu.mu.Unlock()
	} else {
		debug.SetGCPercent(25)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gc0 := ms.NumGC
	state := make([][]byte, 0, n)
	var sink []byte
	work := make([]byte, 128<<10)
	for i := range n {
		// A handshake's worth of computing between allocations, so that the
		// garbage comes at a connect ramp's pace (hundreds of MB/s), not
		// at the GB/s of a bare allocation loop, which outruns marking.
		sha256.Sum256(work)
		for range garbage / 4096 {
			sink = make([]byte, 4096)
		}
		state = append(state, make([]byte, perDevice))
		connected.Store(int64(i + 1))
		peak = max(peak, heapInUse())
		peakGoal = max(peakGoal, heapGoal())
	}
	_ = sink
	if tu != nil {
		tu.Stop() // goals is ours from here on
	}
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(state)
	return ms.NumGC - gc0, peak, peakGoal, goals
}

const rampDevices, rampState, rampGarbage = 4000, 12 << 10, 44 << 10 // 48 MB of state

// Over a simulated ramp the tuned collector runs at most half as often as
// with a steady GOGC=25, and never aims the heap more than 10% above the
// highest goal GOGC=25 reaches (at the end of its ramp). Both goals carry
// the garbage allocated while a collection marks, which counts as live; it
// grows when marking is slow (under -race), so the comparison is between
// runs on the same machine, not with a figure.
func TestTunedRampCollectsLessWithinTheSteadyPeak(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	steadyCycles, _, steadyPeakGoal, _ := ramp(rampDevices, rampState, rampGarbage, false)
	tunedCycles, _, _, goals := ramp(rampDevices, rampState, rampGarbage, true)
	if tunedCycles*2 > steadyCycles {
		t.Errorf("tuned ramp collected %d times, steady GOGC=25 %d: want at most half", tunedCycles, steadyCycles)
	}
	if len(goals) < 2 {
		t.Fatalf("the tuner adjusted %d times over %d collections", len(goals), tunedCycles)
	}
	bound := 1.1 * float64(steadyPeakGoal)
	for i, g := range goals {
		if g > bound {
			t.Errorf("adjustment %d of %d let the heap grow to %.1f MB; GOGC=25 peaked at %.1f MB",
				i+1, len(goals), g/(1<<20), float64(steadyPeakGoal)/(1<<20))
		}
	}
}

// BenchmarkRamp reports what a simulated ramp of 4,000 devices costs in
// collections and peak heap, with a steady GOGC=25 and tuned:
//
//	go test ./internal/gctune -run '^$' -bench Ramp -benchtime 5x
func BenchmarkRamp(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tune := range []bool{false, true} {
		b.Run(fmt.Sprintf("tuned=%v", tune), func(b *testing.B) {
			var cycles uint32
			var peak uint64
			for b.Loop() {
				c, p, _, _ := ramp(rampDevices, rampState, rampGarbage, tune)
				cycles += c
				peak = max(peak, p)
			}
			b.ReportMetric(float64(cycles)/float64(b.N), "collections/op")
			b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
		})
	}
}
