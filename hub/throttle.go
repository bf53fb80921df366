package hub

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultThrottleBacklog is Config.ThrottleBacklog's default: how long a
// throttled hub lets an operation wait in its queue before it refuses
// (connect) or closes the connection (send). Microsoft does not publish
// IoT Hub's queue size; this is a choice, stated in docs/hub.md.
const DefaultThrottleBacklog = 5 * time.Second

// maxThrottleBacklog bounds Config.ThrottleBacklog below the listener's
// connect deadline, so a queued CONNECT is answered before it times out.
const maxThrottleBacklog = connectTimeout / 2

// shaper is IoT Hub's traffic shaping for one kind of operation, modelled
// as a token bucket with a bounded queue: up to a second's worth of
// operations (the burst) pass at once; beyond the rate, each operation is
// queued behind those already waiting, so its wait (and a device's
// latency) grows as the queue fills; an operation that would wait longer
// than the backlog bound is refused instead, and takes nothing from the
// bucket. The queue is counted, not stored: an operation's wait is the
// queue ahead of it divided by the rate.
//
// Safe for concurrent use: one mutex (rate.Limiter's) per shaper, taken
// once per operation. A throttled hub runs at most the tier's rate (6,000
// operations/s per S3 unit), far below what one mutex sustains.
type shaper struct {
	lim     *rate.Limiter
	backlog time.Duration
}

// newShaper returns a shaper of perSecond operations/s (burst: one second's
// worth, at least 1) whose queue holds backlog's worth of waiting.
func newShaper(perSecond float64, backlog time.Duration) *shaper {
	burst := max(1, int(math.Ceil(perSecond)))
	return &shaper{lim: rate.NewLimiter(rate.Limit(perSecond), burst), backlog: backlog}
}

// admit takes one operation arriving at now: wait is how long it queues
// before the hub serves it (0: at once); ok is false when the queue is
// full (the wait would exceed the backlog bound), and then nothing is
// taken.
func (s *shaper) admit(now time.Time) (wait time.Duration, ok bool) {
	r := s.lim.ReserveN(now, 1)
	if !r.OK() { // cannot happen with burst >= 1; treat as full
		return 0, false
	}
	wait = r.DelayFrom(now)
	if wait > s.backlog {
		r.CancelAt(now)
		return 0, false
	}
	return wait, true
}

// dailyMeter counts a day's quota blocks (UTC days, as IoT Hub resets its
// quota at 00:00 UTC). Safe for concurrent use: an atomic add per message;
// a new day takes a mutex once.
type dailyMeter struct {
	limit int64
	used  atomic.Int64
	day   atomic.Int64 // days since the Unix epoch of the current count
	mu    sync.Mutex   // serialises the reset at a day's change
}

// take counts blocks for a message arriving at now and reports whether
// the day's quota holds them; a refused message takes nothing.
func (m *dailyMeter) take(now time.Time, blocks int64) bool {
	day := now.Unix() / 86400
	if m.day.Load() != day {
		m.mu.Lock()
		if m.day.Load() != day {
			m.used.Store(0)
			m.day.Store(day)
		}
		m.mu.Unlock()
	}
	if m.used.Add(blocks) > m.limit {
		m.used.Add(-blocks)
		return false
	}
	return true
}

// throttle is everything a hub with a tier enforces: shapers for new
// connections and for device-to-cloud sends, and the daily quota.
type throttle struct {
	quota    Quota
	connects *shaper
	sends    *shaper
	daily    dailyMeter

	shapedConnects atomic.Uint64 // connects that waited in the queue
	shapedSends    atomic.Uint64 // sends whose PUBACK waited in the queue
	blocks         atomic.Uint64 // quota blocks counted since Start
}

func newThrottle(q Quota, backlog time.Duration) *throttle {
	t := &throttle{quota: q, connects: newShaper(q.ConnectsPerSecond, backlog), sends: newShaper(q.SendsPerSecond, backlog)}
	t.daily.limit = q.DailyBlocks
	t.daily.day.Store(-1)
	return t
}

// admitConnect takes a new connection arriving at now (see shaper.admit).
func (t *throttle) admitConnect(now time.Time) (time.Duration, bool) {
	w, ok := t.connects.admit(now)
	if ok && w > 0 {
		t.shapedConnects.Add(1)
	}
	return w, ok
}

// admitSend takes a device-to-cloud message of payloadBytes arriving at
// now: the daily quota first, then the send rate. reason is
// ReasonDailyQuota or ReasonSendThrottled when it is refused.
func (t *throttle) admitSend(now time.Time, payloadBytes int) (wait time.Duration, reason Reason) {
	n := t.quota.Blocks(payloadBytes)
	if !t.daily.take(now, n) {
		return 0, ReasonDailyQuota
	}
	w, ok := t.sends.admit(now)
	if !ok {
		t.daily.used.Add(-n)
		return 0, ReasonSendThrottled
	}
	t.blocks.Add(uint64(n))
	if w > 0 {
		t.shapedSends.Add(1)
	}
	return w, 0
}
