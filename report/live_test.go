package report

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// After Result, a live reader sees the report's totals and histograms,
// not records that arrived after the end (which Result ignores): the last
// scrape of a run equals its summary.
func TestLiveFiguresFreezeAtResult(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 2})
	s := r.Shard(0)
	s.Due(1)
	s.Sent(0, time.Millisecond, 1)
	s.Acked(0, time.Millisecond, 3*time.Millisecond)
	if got := r.LiveTotals().Acked; got != 1 {
		t.Fatalf("live acked %d before the end, want 1", got)
	}
	m := r.Result(time.Second)
	s.Acked(0, time.Millisecond, 4*time.Millisecond) // a PUBACK after the end
	if r.Totals().Acked != 2 {
		t.Fatalf("the shard did not take the late record: this test proves nothing")
	}
	if got := r.LiveTotals(); got != m.Totals {
		t.Errorf("live totals after Result %+v, want the result's %+v", got, m.Totals)
	}
	seen := map[string]int64{}
	r.VisitRunning(func(fam string, h *hdrhistogram.Histogram) { seen[fam] = h.TotalCount() })
	want := map[string]int64{HistConnect: 0, HistPublish: 1, HistPublishUncorrected: 1, HistLateness: 1}
	for fam, n := range want {
		if c, ok := seen[fam]; !ok || c != n {
			t.Errorf("running %s: %d samples (visited %v), want %d", fam, c, ok, n)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("visited %v, want %v", seen, want)
	}
}
