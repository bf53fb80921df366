package coord

import "time"

// clockProbes is how many round trips Dial makes to measure the clock
// offset. The first also pays for the TCP (and TLS) handshake; the
// quickest of the rest bounds the error best.
const clockProbes = 8

// clockSample is one probe: the shard's clock when it sent the probe
// (sent) and when the answer arrived (received), and the coordinator's
// clock when it handled it (coord), somewhere in between.
type clockSample struct {
	sent, coord, received time.Time
}

// rtt is the probe's round trip, shard clock.
func (s clockSample) rtt() time.Duration { return s.received.Sub(s.sent) }

// offset is the shard's clock minus the coordinator's, assuming the
// coordinator read its clock halfway through the round trip:
//
//	offset = (sent + rtt/2) − coord
//
// so a shard whose clock is ahead has a positive offset, and an instant
// on the coordinator's clock is at instant+offset on the shard's. The
// error is at most rtt/2 either way.
func (s clockSample) offset() time.Duration {
	mid := s.sent.Add(s.rtt() / 2)
	return mid.Sub(s.coord)
}

// bestSample is the sample with the shortest round trip (the first of
// equals): its offset has the tightest error bound. samples must not be
// empty.
func bestSample(samples []clockSample) clockSample {
	best := samples[0]
	for _, s := range samples[1:] {
		if s.rtt() < best.rtt() {
			best = s
		}
	}
	return best
}

// toShardClock converts an instant on the coordinator's clock to the same
// instant on a shard's clock, given offset = shard − coordinator.
func toShardClock(coordinator time.Time, offset time.Duration) time.Time {
	return coordinator.Add(offset)
}
