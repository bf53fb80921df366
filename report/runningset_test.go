package report

import (
	"testing"
	"time"
)

// Two recorders' streamed running histograms, added in a RunningSet, give
// the running latency of one recorder fed every sample: what the
// coordinator's abort_on_fail judges on.
func TestRunningSetAddsShardsExactly(t *testing.T) {
	a, b, all := NewRecorder(RecorderConfig{Shards: 2}), NewRecorder(RecorderConfig{Shards: 2}), NewRecorder(RecorderConfig{Shards: 2})
	for i := range 300 {
		r := a
		if i%3 == 0 {
			r = b
		}
		for _, x := range []*Recorder{r, all} {
			x.Shard(i).Sent(0, 0, 1)
			x.Shard(i).Acked(0, 0, time.Duration(i+1)*time.Millisecond)
		}
	}
	set := RunningSet{}
	var tot Totals
	for _, r := range []*Recorder{a, b, all} {
		r.Tick(time.Second)
	}
	for _, r := range []*Recorder{a, b} {
		enc, err := r.RunningHistograms()
		if err != nil {
			t.Fatal(err)
		}
		if err := set.Add(enc); err != nil {
			t.Fatal(err)
		}
		tot.Add(r.Totals())
	}
	if want := all.Totals(); tot != want {
		t.Errorf("added totals %+v, want %+v", tot, want)
	}
	for _, name := range []string{"publish.p50", "publish.p99", "publish.max", "publish_uncorrected.p90"} {
		got, n, _, ok := set.RunningLatency(name)
		want, wn, _, _ := all.RunningLatency(name)
		if !ok || got != want || n != wn {
			t.Errorf("%s: set %g over %d (ok %v), one recorder %g over %d", name, got, n, ok, want, wn)
		}
	}
	if _, _, _, ok := set.RunningLatency("e2e.p99"); ok {
		t.Error("e2e.p99 served by a running set")
	}
}
