package report

import (
	"math"
	"testing"
	"time"
)

// within reports whether got is within HDR precision (3 significant
// digits: 0.1%, plus one histogram unit) of want.
func within(got, want float64) bool {
	return math.Abs(got-want) <= want*0.001+unitsToMs(1)
}

func TestShardPercentilesFromKnownInputs(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 3})
	// Messages intended at i ms, sent 1ms late, acknowledged i ms after the
	// intended time: corrected latency i ms, uncorrected i-1 ms, lateness 1ms.
	for i := 1; i <= 1000; i++ {
		s := r.Shard(i)
		intended := time.Duration(i) * time.Millisecond
		sent := intended + time.Millisecond
		s.Due(1)
		s.Sent(intended, sent, 1)
		s.Acked(intended, sent, intended+time.Duration(i)*time.Millisecond)
	}
	m := r.Result(2 * time.Second)

	for _, c := range []struct {
		name       string
		q          float64
		corr, unco float64 // ms
	}{
		{"p50", 50, 500, 499},
		{"p90", 90, 900, 899},
		{"p99", 99, 990, 989},
		{"p99.9", 99.9, 999, 998},
		{"p100", 100, 1000, 999},
	} {
		if got := unitsToMs(float64(m.Publish.ValueAtQuantile(c.q))); !within(got, c.corr) {
			t.Errorf("corrected %s = %vms, want %vms", c.name, got, c.corr)
		}
		if got := unitsToMs(float64(m.PublishUncorrected.ValueAtQuantile(c.q))); !within(got, c.unco) {
			t.Errorf("uncorrected %s = %vms, want %vms", c.name, got, c.unco)
		}
	}
	if got := unitsToMs(float64(m.Lateness.Max())); !within(got, 1) {
		t.Errorf("lateness max = %vms, want 1ms", got)
	}
	tt := m.Totals
	if tt.Due != 1000 || tt.Sent != 1000 || tt.SentQoS1 != 1000 || tt.Acked != 1000 || tt.Late != 0 || tt.Unacked() != 0 {
		t.Errorf("totals = %+v, want due/sent/acked 1000, late 0, unacked 0", tt)
	}
	if m.Publish.TotalCount() != 1000 || m.PublishUncorrected.TotalCount() != 1000 || m.Lateness.TotalCount() != 1000 {
		t.Errorf("histogram counts = %d/%d/%d, want 1000 each",
			m.Publish.TotalCount(), m.PublishUncorrected.TotalCount(), m.Lateness.TotalCount())
	}
}

// A stalled server shows in the corrected latency only: messages queued
// behind the stall were sent late, so acked-sent looks fine while
// acked-intended carries the wait.
func TestCorrectedVersusUncorrected(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 1})
	s := r.Shard(0)
	// 100 messages intended every 10ms; the client was blocked until 1s,
	// then sent them all and each was acknowledged 2ms after its send.
	for i := range 100 {
		intended := time.Duration(i) * 10 * time.Millisecond
		sent := time.Second
		s.Sent(intended, sent, 1)
		s.Acked(intended, sent, sent+2*time.Millisecond)
	}
	m := r.Result(2 * time.Second)
	if got := unitsToMs(float64(m.PublishUncorrected.Max())); !within(got, 2) {
		t.Errorf("uncorrected max = %vms, want 2ms", got)
	}
	if got := unitsToMs(float64(m.Publish.Max())); !within(got, 1002) {
		t.Errorf("corrected max = %vms, want 1002ms", got)
	}
	if got := unitsToMs(float64(m.Publish.ValueAtQuantile(50))); !within(got, 502) { // 50th of 12, 22, …, 1002ms
		t.Errorf("corrected p50 = %vms, want 502ms", got)
	}
	if m.Totals.Late != 100 {
		t.Errorf("late = %d, want 100 (all sent more than 5ms late)", m.Totals.Late)
	}
}

func TestLateAfterAndClamping(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 1, LateAfter: 10 * time.Millisecond, MaxLatency: time.Second})
	s := r.Shard(0)
	s.Sent(0, 10*time.Millisecond, 0)   // exactly LateAfter: on time
	s.Sent(0, 10*time.Millisecond+1, 0) // just over: late
	s.Sent(time.Second, 0, 0)           // sent "before" intended: lateness 0
	s.Acked(0, 0, 5*time.Second)        // above MaxLatency: clamped
	s.Connected(-time.Millisecond)      // negative: recorded as 0
	m := r.Result(time.Second)
	if m.Totals.Late != 1 {
		t.Errorf("late = %d, want 1", m.Totals.Late)
	}
	if m.Totals.SentQoS1 != 0 || m.Totals.Unacked() != -1 {
		t.Errorf("QoS 0 sends: SentQoS1 = %d, Unacked = %d, want 0 and -1", m.Totals.SentQoS1, m.Totals.Unacked())
	}
	if m.PublishOverMax != 1 || m.PublishUncorrectedOverMax != 1 || m.LatenessOverMax != 0 {
		t.Errorf("over max = %d/%d/%d, want 1/1/0", m.PublishOverMax, m.PublishUncorrectedOverMax, m.LatenessOverMax)
	}
	if got := unitsToMs(float64(m.Publish.Max())); !within(got, 1000) {
		t.Errorf("clamped max = %vms, want 1000ms", got)
	}
	if m.Connect.TotalCount() != 1 || m.Connect.Min() != 0 {
		t.Errorf("connect: count %d min %d, want 1 sample of 0", m.Connect.TotalCount(), m.Connect.Min())
	}
	if m.Lateness.Min() != 0 {
		t.Errorf("lateness min = %d, want 0", m.Lateness.Min())
	}
}

func TestConnectCountersAndGauge(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 2})
	for i := range 10 {
		s := r.Shard(i)
		s.ConnectAttempt()
		s.Connected(time.Duration(i+1) * time.Millisecond)
	}
	for i, reason := range []DisconnectReason{DisconnectLost, DisconnectTakenOver, DisconnectReason(9)} {
		r.Shard(i).Disconnected(reason)
	}
	r.Shard(0).ConnectAttempt()
	r.Shard(0).Connected(time.Millisecond)
	r.Shard(0).Reconnected()
	reasons := []FailReason{FailRefusedAuth, FailRefusedAuth, FailRefusedThrottled, FailRefusedOther,
		FailTLS, FailTimeout, FailNetwork, FailOther, FailReason(200)}
	for _, reason := range reasons {
		r.Shard(5).ConnectAttempt()
		r.Shard(5).ConnectFailed(reason)
	}
	got := r.Totals()
	want := Totals{
		ConnectAttempts: 20, Connects: 11, ConnectFailed: 9,
		FailedBy:    [NumFailReasons]int64{2, 1, 1, 1, 1, 1, 2, 0},
		Disconnects: 3, DisconnectsBy: [NumDisconnectReasons]int64{2, 1}, Reconnects: 1, Connected: 8, PeakConnected: 10,
	}
	if got != want {
		t.Errorf("Totals() =\n%+v, want\n%+v", got, want)
	}
}

func TestFailReasonString(t *testing.T) {
	want := []string{"refused_auth", "refused_throttled", "refused_other", "tls", "timeout", "network", "other", "token_expired"}
	for r := range NumFailReasons {
		if r.String() != want[r] {
			t.Errorf("FailReason(%d) = %q, want %q", r, r.String(), want[r])
		}
	}
	if got := FailReason(99).String(); got != "other" {
		t.Errorf("out-of-range reason = %q, want other", got)
	}
}

func TestShardIndexWraps(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 4})
	if r.Shard(5) != r.Shard(1) || r.Shard(-1) != r.Shard(3) || r.Shard(0) == r.Shard(1) {
		t.Error("Shard(i) must be shard i modulo 4, folding negatives")
	}
}

func TestShardsArePadded(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 2})
	a, b := r.Shard(0), r.Shard(1)
	if d := uintptrOf(b) - uintptrOf(a); d%cacheLinePad != 0 {
		t.Errorf("shard stride %d bytes is not a multiple of %d", d, cacheLinePad)
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 2, MaxLatency: time.Second})
	s := r.Shard(1)
	allocs := testing.AllocsPerRun(1000, func() {
		s.ConnectAttempt()
		s.Connected(3 * time.Millisecond)
		s.ConnectFailed(FailTLS)
		s.Due(1)
		s.Sent(0, time.Millisecond, 1)
		s.Acked(0, time.Millisecond, 2*time.Hour) // clamped: the out-of-range path must not allocate either
		s.Failed(1)
		s.Missed(1)
		s.UnackedOnDisconnect(1)
		s.Disconnected(DisconnectTakenOver)
		s.Reconnected()
	})
	if allocs != 0 {
		t.Errorf("recording allocates %v times per round, want 0", allocs)
	}
}

// A message whose write failed is failed; one sent and never answered is
// unacknowledged, whether its connection dropped or the run ended first.
func TestFailedAndUnackedAreApart(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 1})
	s := r.Shard(0)
	for range 10 {
		s.Sent(0, time.Millisecond, 1)
	}
	for range 5 {
		s.Acked(0, time.Millisecond, 2*time.Millisecond)
	}
	s.Failed(1)              // its write failed
	s.UnackedOnDisconnect(2) // in flight when the connection dropped
	s.Sent(0, time.Millisecond, 0)
	s.Failed(0) // a QoS 0 message whose write failed
	tot := r.Result(time.Second).Totals
	if tot.Failed != 2 || tot.FailedQoS1 != 1 || tot.Unacked() != 4 || tot.UnackedOnDisconnect != 2 {
		t.Errorf("failed %d (QoS 1: %d), unacked %d (on disconnect %d); want 2 (1), 4 (2)",
			tot.Failed, tot.FailedQoS1, tot.Unacked(), tot.UnackedOnDisconnect)
	}
}

// Sends at or after the publish window's end are not in the window; the
// span covers every send.
func TestSentInWindowAndSendSpan(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 3})
	r.Shard(0).Sent(0, 900*time.Millisecond, 0) // before the end is known: in the window
	r.SetPublishEnd(time.Second)
	r.Shard(1).Sent(0, 100*time.Millisecond, 0)
	r.Shard(2).Sent(0, time.Second, 0) // at the end: out
	r.Shard(1).Sent(0, 1500*time.Millisecond, 1)
	m := r.Result(2 * time.Second)
	if m.Totals.SentInWindow != 2 || m.FirstSent != 100*time.Millisecond || m.LastSent != 1500*time.Millisecond {
		t.Errorf("in window %d, first %v, last %v; want 2, 100ms, 1.5s", m.Totals.SentInWindow, m.FirstSent, m.LastSent)
	}
	if m := NewRecorder(RecorderConfig{}).Result(time.Second); m.FirstSent != 0 || m.LastSent != 0 {
		t.Errorf("no sends: span %v..%v, want 0..0", m.FirstSent, m.LastSent)
	}
}
