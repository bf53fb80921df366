// Package gctune moves the garbage collector's target while a fleet
// connects, so that the connect phase does not pay for a target chosen for
// the publish phase.
//
// fleetbench runs with a low GC target (GOGC=25): once devices are
// connected the heap is almost all long-lived device state and publishing
// allocates nothing, so a low target keeps memory per device down for free.
// Connecting is different: a TLS handshake leaves about 45 KB of garbage
// for about 12 KB of device state, and with the heap allowed only 25% above
// what is live, the collector ran over thirty times during a 2,000-device
// ramp and took a sixth of the CPU of a connect (docs/design.md).
//
// While devices connect, a Tuner sets the target after every collection so
// that the heap may grow to half the steady margin (12.5%) over what the
// whole fleet will hold once connected, projected from the state per device
// so far, but never more than double what is live now. The projection runs
// high (objects allocated while a collection marks count as live), hence
// half the margin: the heap peaks no higher than with GOGC=25 at the end of
// the ramp, and the collector runs a third as often.
package gctune

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// SteadyPercent is fleetbench's GC target (GOGC) outside the connect ramp
// when the environment sets none.
const SteadyPercent = 25

// MaxPercent is the highest GC target a Tuner sets (GOGC=100: the heap may
// double between collections).
const MaxPercent = 100

// Percent returns the GC target (a GOGC value) for the next cycle. live is
// the heap marked live by the last collection and base the live heap before
// the first device connected, both in bytes; connected of total devices are
// connected; steady is the target once the fleet is up. The heap goal is
// the larger of steady over live and half of steady over the projected live
// heap of the whole fleet, capped at MaxPercent over live.
func Percent(live, base uint64, connected, total, steady int) int {
	if steady >= MaxPercent {
		return steady
	}
	if live == 0 || connected <= 0 || total <= 0 {
		return MaxPercent // nothing to project from yet; the heap is small
	}
	perDevice := 0.0
	if live > base {
		perDevice = float64(live-base) / float64(connected)
	}
	projected := float64(base) + perDevice*float64(max(total, connected))
	goal := projected * (1 + float64(steady)/200)
	p := int(math.Floor(100 * (goal/float64(live) - 1)))
	return min(max(p, steady), MaxPercent)
}

// A Tuner adjusts the GC target after every collection until Stop. Its
// methods are safe for concurrent use; adjustments run on the runtime's
// cleanup goroutine.
type Tuner struct {
	mu       sync.Mutex
	steady   int
	base     uint64
	progress func() (connected, total int)
	stopped  bool
	adjusted func(live uint64, percent int) // tests observe adjustments here
}

// Start begins tuning: progress reports how many devices are connected and
// how many the fleet has. steady is the GC target restored by Stop.
func Start(steady int, progress func() (connected, total int)) *Tuner {
	t := &Tuner{steady: steady, base: liveHeap(), progress: progress}
	t.mu.Lock()
	t.adjustLocked()
	t.mu.Unlock()
	return t
}

// Stop restores the steady GC target; no adjustment follows.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.steady)
	}
}

// sentinel is an object made unreachable on purpose: its cleanup runs after
// the collection that found it dead, which is how the Tuner learns that a
// cycle ended. It holds a pointer so that it is not a tiny allocation
// (whose cleanups may never run).
type sentinel struct{ _ *int }

func (t *Tuner) afterNextGC() {
	runtime.AddCleanup(new(sentinel), func(t *Tuner) { t.onGC() }, t)
}

func (t *Tuner) onGC() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.adjustLocked()
	}
}

func (t *Tuner) adjustLocked() {
	connected, total := t.progress()
	live := liveHeap()
	p := Percent(live, t.base, connected, total, t.steady)
	debug.SetGCPercent(p)
	// Arm before telling anyone: a sentinel allocated while a collection
	// marks survives it, and its cleanup would wait a cycle longer.
	t.afterNextGC()
	if t.adjusted != nil {
		t.adjusted(live, p)
	}
}

// liveHeap returns the heap bytes marked live by the last collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
