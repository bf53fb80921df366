package fleet

import (
	"fmt"
	"math"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// ShardSpec names one shard of a fleet split over several processes: shard
// Index (0-based) of Count. The zero value, and any Count ≤ 1, is the whole
// fleet.
type ShardSpec struct {
	Index, Count int
}

// Whole reports whether s is the whole fleet rather than a part of it.
func (s ShardSpec) Whole() bool { return s.Count <= 1 }

// String renders s as the CLI writes it, "I/N" (0-based I).
func (s ShardSpec) String() string {
	if s.Whole() {
		return "0/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ShardRange returns the device positions shard index of count owns: the
// contiguous positions [lo, hi) of a fleet of devices (positions, not device
// indices: position p is device index devices.first_index + p). Shard sizes
// differ by at most one, the split depends on nothing but its arguments, and
// the shards together cover [0, devices) exactly once. A count ≤ 1 is the
// whole fleet.
func ShardRange(devices, index, count int) (lo, hi int) {
	if count <= 1 {
		return 0, devices
	}
	at := func(i int) int { return int(int64(devices) * int64(i) / int64(count)) }
	return at(index), at(index + 1)
}

// publishSettle is how long after the connect ramp's last due connect a
// planned publish phase starts, at most: room for the last devices' TLS
// handshakes and CONNACKs (milliseconds on a healthy hub) and for the
// shards' clocks to disagree a little. PlannedPublishStart caps it at
// connect.timeout.
const publishSettle = time.Second

// PlannedPublishStart is the instant a coordinated run's publish phase
// starts, in every shard alike: it depends only on the scenario and the
// epoch (the run's shared time origin). The rule:
//
//	epoch + ⌈devices.count / connect.rate⌉ (rounded up to a millisecond)
//	      + min(1 s, connect.timeout)
//
// The first term is when the fleet-wide ramp has made its last connect due
// (device d is due at epoch + d/rate); the second lets the last connects
// finish: a connect still going after connect.timeout has failed anyway. A
// shard whose devices connected earlier waits for this instant; a device not
// connected by then is late for its messages (they count late, or missed
// beyond publish.max_lateness), as a device that drops is.
func PlannedPublishStart(sc *scenario.Scenario, epoch time.Time) time.Time {
	return epoch.Add(plannedPublishOffset(sc))
}

// plannedPublishOffset is PlannedPublishStart as an offset from the epoch.
func plannedPublishOffset(sc *scenario.Scenario) time.Duration {
	ramp := time.Duration(math.Ceil(float64(sc.Devices.Count)/sc.Connect.Rate*1000)) * time.Millisecond
	settle := publishSettle
	if t := sc.Connect.Timeout; t > 0 {
		settle = min(settle, t)
	}
	return ramp + settle
}

// dealing is the part of the fleet-wide timetable one shard sends. Fleet
// message m belongs to the device at position m mod n (round-robin); the
// shard owns positions [lo, lo+size), so of every n consecutive messages it
// sends the size in the middle. Its own messages are numbered q = 0, 1, ...
// in time order; every mapping below is closed-form, so a pacer strides the
// shard's messages without visiting anyone else's. For the whole fleet
// (lo 0, size n) every mapping is the identity.
type dealing struct {
	lo, size, n int64
}

// count is how many of fleet messages 0..c-1 are the shard's: the number of
// its own messages before fleet message c.
func (d dealing) count(c int64) int64 {
	if c <= 0 {
		return 0
	}
	return c/d.n*d.size + min(max(c%d.n-d.lo, 0), d.size)
}

// message is the fleet message number of the shard's q-th message.
func (d dealing) message(q int64) int64 {
	return q/d.size*d.n + d.lo + q%d.size
}

// device is the position, within the shard's devices, of the device fleet
// message m belongs to (m must be one of the shard's).
func (d dealing) device(m int64) int64 { return m%d.n - d.lo }

// checkShard rejects a shard that names no part of a fleet of devices.
func checkShard(s ShardSpec, devices int) error {
	switch {
	case s.Whole():
		return nil
	case s.Index < 0 || s.Index >= s.Count:
		return fmt.Errorf("shard %d/%d: the index must be from 0 to %d", s.Index, s.Count, s.Count-1)
	case s.Count > devices:
		return fmt.Errorf("shard %d/%d: a fleet of %d devices splits into at most %d shards (lower the shard count)", s.Index, s.Count, devices, devices)
	}
	return nil
}

// SetEpoch sets the run's time origin after New and before Run, as
// Config.Epoch would have: a shard builds its devices first and learns the
// epoch from its coordinator afterwards, so that building them never
// delays its start. Not safe to call during Run.
func (f *Fleet) SetEpoch(epoch time.Time) {
	f.origin = epoch
	if !epoch.IsZero() {
		f.planned = plannedPublishOffset(f.sc)
	}
}
