package fleet

import "time"

// pacerFallback is how long after a message's intended time a device wakes
// by itself if the pacer has not woken it (an overloaded pacer cannot hold a
// device back by more than this).
const pacerFallback = 2 * time.Millisecond

// pace wakes each device at the intended time of its next message, walking
// the fleet timetable in order (message m belongs to device m mod N). It
// exists because Go's runtime timers, and so read deadlines, fire up to a
// millisecond late (the netpoller sleeps in whole milliseconds), which would
// put a uniform 0-1 ms of the generator's own lateness into every corrected
// latency. The pacer sleeps on a timerfd (newPreciseSleeper) and wakes a
// device by moving its read deadline to the past, which readies it at once.
//
// It runs on its own goroutine from the start of the publish phase until the
// phase ends or the fleet stops.
func (f *Fleet) pace() {
	sleep, cleanup := newPreciseSleeper()
	defer cleanup()
	start := time.Duration(f.pubStart.Load())
	n := int64(len(f.devices))
	for m := int64(0); ; m++ {
		t, ok := f.sched.TimeOf(m)
		if !ok {
			return
		}
		at := start + t
		if at >= time.Duration(f.pubEnd.Load()) || f.stopping.Load() {
			return
		}
		if wait := at - f.since(); wait > 0 {
			sleep(wait)
		}
		f.devices[m%n].poke()
	}
}
