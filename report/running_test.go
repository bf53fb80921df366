package report

import (
	"testing"
	"time"
)

// The running value is the cumulative distribution up to the last tick,
// computed as the final summary computes it.
func TestRunningLatencyFollowsTheTicks(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 2})
	for i := range 100 {
		r.Shard(i).Sent(0, 0, 1)
		r.Shard(i).Acked(0, 0, time.Duration(i+1)*time.Millisecond)
	}
	if _, n, _, ok := r.RunningLatency("publish.p99"); !ok || n != 0 {
		t.Fatalf("before the first tick: %d samples, ok %v", n, ok)
	}
	r.Tick(time.Second)
	v, n, q, ok := r.RunningLatency("publish.p99")
	if !ok || n != 100 || q != 99 || v < 0.098 || v > 0.1 {
		t.Errorf("publish.p99 = %gs over %d samples (q %g, ok %v), want 99ms over 100", v, n, q, ok)
	}
	if v, _, q, _ := r.RunningLatency("publish.max"); q != 100 || v < 0.0999 || v > 0.1001 {
		t.Errorf("publish.max = %gs (q %g), want 100ms", v, q)
	}
	s := Build(r.Result(2*time.Second), RunInfo{}, ConfigEcho{})
	final, _ := s.Metric("publish.p99")
	if running, _, _, _ := r.RunningLatency("publish.p99"); running != final {
		t.Errorf("running p99 %g differs from the summary's %g over the same samples", running, final)
	}
	for _, name := range []string{"e2e.p99", "publish.mean", "publish.min", "publish.p101", "devices.p99", "publish"} {
		if _, _, _, ok := r.RunningLatency(name); ok {
			t.Errorf("%s: ok, want not a running latency metric", name)
		}
	}
}
