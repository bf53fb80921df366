package metrics

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/report"
)

// encodedRunning is a shard's running histograms with n publish samples
// of d each, encoded as a shard streams them.
func encodedRunning(t *testing.T, n int, d time.Duration) map[string]string {
	t.Helper()
	h := report.NewLatencyHistogram(0)
	for range n {
		report.RecordLatency(h, d)
	}
	enc, err := report.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{report.HistPublish: enc}
}

func counts(src Source) map[string]int64 {
	out := map[string]int64{}
	src.VisitLatencies(func(fam string, h *hdrhistogram.Histogram) { out[fam] = h.TotalCount() })
	return out
}

// The coordinator's source adds the shards' latest counters and merges
// their histograms; a later update of a shard replaces its figures; Only
// keeps the merged shards; after Finish the histograms are the report's.
func TestFleetSourceAddsTheShards(t *testing.T) {
	src := NewFleetSource(nil)
	src.Update(0, report.Totals{Sent: 5, Acked: 4}, encodedRunning(t, 5, time.Millisecond))
	src.Update(1, report.Totals{Sent: 7, Acked: 7}, encodedRunning(t, 7, 2*time.Millisecond))
	src.Update(0, report.Totals{Sent: 10, Acked: 9}, encodedRunning(t, 10, time.Millisecond)) // cumulative: supersedes
	if tot := src.Totals(); tot.Sent != 17 || tot.Acked != 16 {
		t.Errorf("totals sent %d acked %d, want 17 and 16", tot.Sent, tot.Acked)
	}
	if c := counts(src); c[report.HistPublish] != 17 {
		t.Errorf("merged publish histogram holds %d, want 17", c[report.HistPublish])
	}
	if _, ok := src.Delivery(); ok {
		t.Error("delivery without a consumer")
	}

	src.Only(func(i int) bool { return i == 1 })
	if tot := src.Totals(); tot.Sent != 7 {
		t.Errorf("after Only(1): sent %d, want 7", tot.Sent)
	}

	var sum report.Summary
	h := report.NewLatencyHistogram(0)
	for range 3 {
		report.RecordLatency(h, time.Millisecond)
	}
	if err := sum.SetHistogram(report.HistPublish, h); err != nil {
		t.Fatal(err)
	}
	src.Finish(&sum)
	if c := counts(src); c[report.HistPublish] != 3 {
		t.Errorf("after Finish the publish histogram holds %d, want the report's 3", c[report.HistPublish])
	}
	src.Update(1, report.Totals{Sent: 8}, encodedRunning(t, 8, time.Millisecond))
	if c := counts(src); c[report.HistPublish] != 3 {
		t.Errorf("an update after Finish changed the histogram to %d samples", c[report.HistPublish])
	}
}
