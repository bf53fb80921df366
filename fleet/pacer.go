package fleet

import (
	"math"
	"runtime"
	"time"
)

const (
	// efficientWindow is how long messages gather in efficient pacing
	// before a pacer wakes and sends them together: intended times are
	// rounded up to this grid, so lateness is spread over 0 to this.
	efficientWindow = time.Millisecond
	// maxPacerSleep bounds one sleep so a pacer notices the end of the
	// phase (or an interrupt) within it, even across a silent stage.
	maxPacerSleep = 20 * time.Millisecond
	// ratePerPacer is the peak rate (messages per second) one pacer is
	// given before the fleet adds another, up to GOMAXPROCS pacers. A
	// publish costs about 10 µs of CPU back to back
	// (BenchmarkPublishBackToBack), so one pacer could send up to ~100,000
	// a second on a core of its own; this leaves it most of its core.
	ratePerPacer = 20000
)

// pacerCount is how many pacers share the fleet's timetable.
func (f *Fleet) pacerCount() int {
	if f.pacers > 0 {
		return f.pacers
	}
	share := float64(len(f.devices)) / float64(f.fleetSize) // a shard sends its devices' share
	n := int(math.Ceil(f.sched.PeakRate() * share / ratePerPacer))
	return max(1, min(n, runtime.GOMAXPROCS(0), len(f.devices)))
}

// pace is one of stride pacers: it walks this shard's messages first,
// first+stride, first+2·stride, ... (in time order; the shard's q-th
// message is fleet message f.deal.message(q), which belongs to the device
// at fleet position m mod N; for the whole fleet q = m), reaching each in
// one step without visiting other shards' messages, sleeps until each is
// due and sends it on
// its device's connection itself (device.paceSend), from this goroutine:
// no device goroutine wakes to publish. It exists because Go's runtime
// timers, and so read deadlines, fire up to a millisecond late (the
// netpoller sleeps in whole milliseconds), which would put a uniform 0-1
// ms of the generator's own lateness into every corrected latency, and
// because waking a goroutine per message costs several thread switches
// (docs/design.md measures both). The pacer sleeps on a timerfd
// (newPreciseSleeper). In efficient pacing it sleeps to the next
// efficientWindow boundary instead and sends everything due at once.
//
// It runs from the start of the publish phase until the phase ends or the
// fleet stops. It never blocks on a device (paceSend only TryLocks and
// never waits for a socket), so one stalled device cannot delay another's
// schedule.
func (f *Fleet) pace(first, stride int64) {
	sleep, cleanup := f.newSleeper()
	defer cleanup()
	var window time.Duration
	if !f.precise {
		window = efficientWindow
	}
	start := time.Duration(f.pubStart.Load())
	for q := first; ; q += stride {
		m := f.deal.message(q)
		t, ok := f.sched.TimeOf(m)
		if !ok {
			return
		}
		wake := start + t
		if window > 0 {
			wake = start + (t+window-1)/window*window
		}
		var now time.Duration
		for {
			if start+t >= time.Duration(f.pubEnd.Load()) || f.stopping.Load() {
				return
			}
			now = f.since()
			if now >= time.Duration(f.sendEnd.Load()) {
				return
			}
			wait := wake - now
			if wait <= 0 {
				break
			}
			sleep(min(wait, maxPacerSleep))
		}
		if now-(start+t) > f.sc.Publish.MaxLateness {
			// Far behind (a rate beyond what this machine can send):
			// every message before next is past max_lateness, so its
			// device skips it (counts it missed) without this pacer
			// visiting each one.
			if next := f.firstNotTooLate(now, q, first, stride); next > q {
				q = next - stride
				continue
			}
		}
		f.devices[f.deal.device(m)].paceSend()
	}
}

// firstNotTooLate returns, for a pacer walking the shard's messages first,
// first+stride, ... and at its message q at now, the first of its messages
// from q on that is not more than max_lateness behind now. It is
// conservative by one message, so it never passes over one that could
// still be sent.
func (f *Fleet) firstNotTooLate(now time.Duration, q, first, stride int64) int64 {
	late := now - time.Duration(f.pubStart.Load()) - f.sc.Publish.MaxLateness
	c := f.sched.CountBefore(late) - 1 // fleet messages 0..c-1 are more than max_lateness behind
	c = f.deal.count(c)                // and so are the shard's messages 0..c-1
	if c <= q {
		return q
	}
	return c + ((first-c)%stride+stride)%stride // the first q' >= c with q' ≡ first (mod stride)
}
