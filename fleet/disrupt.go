package fleet

import (
	"context"
	"math"
	"time"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// Disruptions is the timetable of the scenario's deliberate drops (churn
// and storm), a pure function of time and the fleet's size like Schedule:
// every shard computes the same one and acts on its own devices. Times are
// offsets from the publish phase's start. The zero value drops nothing.
// Safe for concurrent use (read-only).
//
// Devices are dropped in one order, a permutation of the fleet's positions:
// the j-th is position (j·stride) mod N, stride the integer nearest
// N·(√5−1)/2 that is coprime with N. Consecutive drops are then far apart
// in the fleet (and so in different shards, which own contiguous ranges),
// and every device is dropped once before any is dropped again. Churn drop
// j is the order's (j mod N)-th device, at
//
//	start + j / (rate·N)       for j < ⌊rate·N·duration⌋
//
// so over any window the drops number rate·N·window within one. The storm
// drops the order's first ⌊share·N⌋ devices, all at its instant.
type Disruptions struct {
	n           int64
	stride, inv int64 // the order's step and its inverse mod n

	churnStart, churnLen time.Duration
	perSecond            float64 // churn drops per second, fleet-wide
	churnTotal           int64

	storm      bool
	stormAt    time.Duration
	stormCount int64
}

// NewDisruptions builds the timetable of sc's churn and storm.
func NewDisruptions(sc *scenario.Scenario) *Disruptions {
	n := int64(sc.Devices.Count)
	p := &Disruptions{n: n, stride: 1, inv: 1}
	if n > 2 {
		s := int64(math.Round(float64(n) * (math.Sqrt(5) - 1) / 2))
		for gcd(s, n) != 1 {
			s++
		}
		p.stride, p.inv = s, modInverse(s, n)
	}
	if c := sc.Churn; c != nil && n > 0 {
		p.churnStart, p.churnLen = c.Start, c.Duration
		p.perSecond = c.Rate * float64(n)
		p.churnTotal = int64(math.Floor(p.perSecond*c.Duration.Seconds() + 1e-9))
	}
	if st := sc.Storm; st != nil && n > 0 {
		p.storm, p.stormAt = true, st.At
		p.stormCount = int64(math.Floor(st.Share*float64(n) + 1e-9))
	}
	return p
}

// Any reports whether the scenario drops anything.
func (p *Disruptions) Any() bool { return p.churnTotal > 0 || p.stormCount > 0 }

// Order is the fleet position of the order's j-th device (j ≥ 0).
func (p *Disruptions) Order(j int64) int { return int(j % p.n * p.stride % p.n) }

// Rank is where fleet position pos comes in the order: Order(Rank(pos)) == pos.
func (p *Disruptions) Rank(pos int) int64 { return int64(pos) * p.inv % p.n }

// ChurnDrops is the number of churn drops in all.
func (p *Disruptions) ChurnDrops() int64 { return p.churnTotal }

// ChurnTime is the instant of churn drop j (0 ≤ j < ChurnDrops).
func (p *Disruptions) ChurnTime(j int64) time.Duration {
	return p.churnStart + time.Duration(float64(j)/p.perSecond*float64(time.Second))
}

// ChurnCountBefore is the number of churn drops due before t.
func (p *Disruptions) ChurnCountBefore(t time.Duration) int64 {
	if p.churnTotal == 0 || t <= p.churnStart {
		return 0
	}
	c := int64(math.Ceil((t - p.churnStart).Seconds() * p.perSecond))
	for c > 0 && p.ChurnTime(c-1) >= t { // float rounding at the edge
		c--
	}
	for c < p.churnTotal && p.ChurnTime(c) < t {
		c++
	}
	return min(c, p.churnTotal)
}

// Storm returns the storm's instant and how many devices it drops; ok is
// false without a storm.
func (p *Disruptions) Storm() (at time.Duration, devices int64, ok bool) {
	return p.stormAt, p.stormCount, p.storm
}

// InStorm reports whether the storm drops fleet position pos.
func (p *Disruptions) InStorm(pos int) bool { return p.storm && p.Rank(pos) < p.stormCount }

// run drops this shard's devices (fleet positions lo..hi-1) on the
// timetable, counting from publishStart, until the timetable ends or ctx
// is done: drop(pos, storm) is called at each drop's instant, for the storm
// once per device, in position order.
func (p *Disruptions) run(ctx context.Context, publishStart time.Time, lo, hi int, drop func(pos int, storm bool)) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	wait := func(at time.Duration) bool {
		if d := time.Until(publishStart.Add(at)); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				return false
			}
		}
		return ctx.Err() == nil
	}
	stormDone := !p.storm || p.stormCount == 0
	for j := int64(0); ; {
		// Skip churn drops of other shards' devices.
		for j < p.churnTotal && !within(p.Order(j), lo, hi) {
			j++
		}
		churnNext := j < p.churnTotal
		if !churnNext && stormDone {
			return
		}
		if !stormDone && (!churnNext || p.stormAt <= p.ChurnTime(j)) {
			if !wait(p.stormAt) {
				return
			}
			for pos := lo; pos < hi; pos++ {
				if p.InStorm(pos) {
					drop(pos, true)
				}
			}
			stormDone = true
			continue
		}
		if !wait(p.ChurnTime(j)) {
			return
		}
		drop(p.Order(j), false)
		j++
	}
}

func within(pos, lo, hi int) bool { return pos >= lo && pos < hi }

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// modInverse returns x with a·x ≡ 1 (mod n), for a coprime with n.
func modInverse(a, n int64) int64 {
	t, nt, r, nr := int64(0), int64(1), n, a%n
	for nr != 0 {
		q := r / nr
		t, nt = nt, t-q*nt
		r, nr = nr, r-q*nr
	}
	if t < 0 {
		t += n
	}
	return t
}

// startDrops starts dropping this shard's devices on the timetable, the
// publish phase counting from publishStart (an offset from Start); the
// returned func stops it and waits for it.
func (f *Fleet) startDrops(publishStart time.Duration) (stop func()) {
	if !f.disrupt.Any() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(f.runCtx)
	done := make(chan struct{})
	lo, hi := f.Devices()
	go func() {
		defer close(done)
		f.disrupt.run(ctx, f.start.Add(publishStart), lo, hi, func(pos int, storm bool) {
			kind := uint32(dropChurn)
			if storm {
				kind = dropStorm
			}
			f.devices[pos-f.lo].drop(f.since(), kind)
		})
	}()
	return func() { cancel(); <-done }
}

// backFromDrop records a device back from a deliberate drop: took is its
// successful attempt's dial + TLS + CONNACK.
func (f *Fleet) backFromDrop(d *device, took time.Duration, kind uint32) {
	now := f.since()
	f.rec.Recovery().Back(took, now-time.Duration(d.downAt.Load()))
	if kind != dropStorm {
		return
	}
	f.stormDown.Add(-1)
	for {
		last := f.stormLastBack.Load()
		if int64(now) <= last || f.stormLastBack.CompareAndSwap(last, int64(now)) {
			return
		}
	}
}

// recordStorm gives the Recorder the storm's outcome in this shard, once
// the run is over, if the storm's instant came within the publish phase.
func (f *Fleet) recordStorm(ph Phases) {
	at, _, ok := f.disrupt.Storm()
	if !ok || ph.PublishEnd-ph.PublishStart <= at {
		return
	}
	at += ph.PublishStart
	st := report.StormRecovery{AtMs: report.Ms(at), Devices: f.stormDropped.Load(), AllBack: f.stormDown.Load() == 0}
	if last := time.Duration(f.stormLastBack.Load()); last > at {
		st.RecoveredMs = report.Ms(last - at)
	}
	f.rec.Recovery().SetStorms([]report.StormRecovery{st})
}
