package report

import (
	"sync"
	"time"
	"unsafe"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram slots kept per shard for the current interval.
const (
	hConnect = iota
	hPublish
	hPublishUncorrected
	hLateness
	nHists
)

// cacheLinePad separates shards: two lines, because modern x86 prefetches
// cache lines in adjacent pairs.
const cacheLinePad = 128

type shardState struct {
	mu        sync.Mutex
	h         [nHists]*hdrhistogram.Histogram // this interval's histograms; swapped out by Tick
	c         counters                        // cumulative; only grow
	max       int64                           // highest trackable histogram value, in HistogramUnit
	lateAfter time.Duration
	r         *Recorder // for the connected gauge and the publish window's end

	// The first and last send recorded (offsets); valid when sends > 0,
	// which is c[cSent].
	firstSent, lastSent time.Duration
}

// Shard is one slice of a [Recorder]: the devices mapped to it record into
// its own histograms and counters, so devices on different shards never
// contend. Every method is safe for concurrent use, holds only this shard's
// mutex for a few tens of nanoseconds, and never allocates.
//
// All time arguments are offsets since the run's start taken from a
// monotonic clock (time.Since(start)), not wall-clock times.
type Shard struct {
	shardState
	_ [cacheLinePad - unsafe.Sizeof(shardState{})%cacheLinePad]byte
}

// clamp converts d to histogram units within [0, max].
func (s *Shard) clamp(d time.Duration) (v int64, over bool) {
	v = int64(d / HistogramUnit)
	if v < 0 {
		return 0, false
	}
	if v > s.max {
		return s.max, true
	}
	return v, false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ConnectAttempt counts one connection attempt (first connect or reconnect).
// Every attempt ends in exactly one Connected or ConnectFailed.
func (s *Shard) ConnectAttempt() {
	s.mu.Lock()
	s.c[cAttempts]++
	s.mu.Unlock()
}

// Connected records a successful connect and its latency (dial + TLS +
// CONNACK) and raises the connected-devices gauge. It is called for
// reconnects too; call Reconnected as well when the connection replaces one
// that dropped.
func (s *Shard) Connected(latency time.Duration) {
	v, over := s.clamp(latency)
	s.mu.Lock()
	_ = s.h[hConnect].RecordValue(v) // in range after clamp: cannot fail
	s.c[cConnects]++
	s.c[cOverConnect] += b2i(over)
	s.mu.Unlock()
	s.r.gaugeUp()
}

// ConnectFailed counts a failed connection attempt under its reason.
func (s *Shard) ConnectFailed(reason FailReason) {
	if reason >= NumFailReasons {
		reason = FailOther
	}
	s.mu.Lock()
	s.c[cConnectFailed+int(reason)]++
	s.mu.Unlock()
}

// Disconnected counts an established connection that dropped (not a
// disconnect the run asked for at its end) under its reason, and lowers
// the gauge.
func (s *Shard) Disconnected(reason DisconnectReason) {
	if reason >= NumDisconnectReasons {
		reason = DisconnectLost
	}
	s.mu.Lock()
	s.c[cDisconnects]++
	s.c[cDisconnectBy+int(reason)]++
	s.mu.Unlock()
	s.r.connected.Add(-1)
}

// Reconnected counts a successful connect that re-established a dropped
// connection. It does not touch the gauge: Connected does.
func (s *Shard) Reconnected() {
	s.mu.Lock()
	s.c[cReconnects]++
	s.mu.Unlock()
}

// Due counts n messages whose intended send time has arrived, whether or
// not they can be sent.
func (s *Shard) Due(n int) {
	s.mu.Lock()
	s.c[cDue] += int64(n)
	s.mu.Unlock()
}

// Sent records one message written to the connection: its lateness
// (sent - intended) goes into the lateness histogram, and it counts as late
// when the lateness exceeds RecorderConfig.LateAfter; it counts as sent in
// the publish window when sent is before the window's end
// (Recorder.SetPublishEnd). qos is the MQTT QoS of the publish; QoS 1
// messages are expected to end in Acked, Failed or unacknowledged.
func (s *Shard) Sent(intended, sent time.Duration, qos byte) {
	lateness := sent - intended
	v, over := s.clamp(lateness)
	late := lateness > s.lateAfter
	inWindow := sent < time.Duration(s.r.publishEnd.Load())
	s.mu.Lock()
	_ = s.h[hLateness].RecordValue(v)
	if s.c[cSent] == 0 || sent < s.firstSent {
		s.firstSent = sent
	}
	if s.c[cSent] == 0 || sent > s.lastSent {
		s.lastSent = sent
	}
	s.c[cSent]++
	s.c[cSentQoS1] += b2i(qos > 0)
	s.c[cSentInWindow] += b2i(inWindow)
	s.c[cLate] += b2i(late)
	s.c[cOverLateness] += b2i(over)
	s.mu.Unlock()
}

// Acked records a PUBACK: the latency from the intended send time
// (acked - intended, corrected for coordinated omission) and from the
// actual send (acked - sent, uncorrected).
func (s *Shard) Acked(intended, sent, acked time.Duration) {
	vc, overC := s.clamp(acked - intended)
	vu, overU := s.clamp(acked - sent)
	s.mu.Lock()
	_ = s.h[hPublish].RecordValue(vc)
	_ = s.h[hPublishUncorrected].RecordValue(vu)
	s.c[cAcked]++
	s.c[cOverPublish] += b2i(overC)
	s.c[cOverPublishUncorrected] += b2i(overU)
	s.mu.Unlock()
}

// Failed counts one message recorded Sent whose write then failed: it
// never left, and will never be acknowledged. qos is its MQTT QoS, as given
// to Sent.
func (s *Shard) Failed(qos byte) {
	s.mu.Lock()
	s.c[cFailed]++
	s.c[cFailedQoS1] += b2i(qos > 0)
	s.mu.Unlock()
}

// UnackedOnDisconnect counts n QoS 1 messages that were sent and still
// awaited their PUBACK when their connection ended before the run did
// (dropped, or closed to renew credentials). They stay unacknowledged
// (Totals.Unacked); this counts them apart.
func (s *Shard) UnackedOnDisconnect(n int) {
	s.mu.Lock()
	s.c[cUnackedOnDisconnect] += int64(n)
	s.mu.Unlock()
}

// Missed counts n messages that were due but never sent (device
// disconnected, or beyond the maximum lateness).
func (s *Shard) Missed(n int) {
	s.mu.Lock()
	s.c[cMissed] += int64(n)
	s.mu.Unlock()
}
