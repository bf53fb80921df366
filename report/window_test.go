package report

import (
	"testing"
	"time"
)

// Window keeps only the series points and interval histograms of the
// window: the warm-up's slow samples and counts are left out, and the
// windowed histogram is the exact merge of the window's intervals.
func TestWindowRestrictsToTheMeasuredPart(t *testing.T) {
	s := &Summary{Publish: PublishStats{Sent: 999}}
	log := NewIntervalLog(0)
	for i := range 10 {
		h := NewLatencyHistogram(0)
		lat := 2 * time.Millisecond
		if i < 4 { // the warm-up: slow
			lat = 900 * time.Millisecond
		}
		for range 100 {
			RecordLatency(h, lat)
		}
		start := time.Duration(i) * time.Second
		if err := log.Add(start, start+time.Second, h); err != nil {
			t.Fatal(err)
		}
		s.Series = append(s.Series, Point{TMs: float64(i+1) * 1000, IntervalMs: 1000, Due: 100, Sent: 100 - int64(i%2), Acked: 100, Disconnects: int64(i / 8)})
	}
	ivs, err := log.Intervals()
	if err != nil {
		t.Fatal(err)
	}
	s.SetIntervals(HistPublish, ivs)

	w, secs, err := s.Window(4000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if secs != 4 {
		t.Errorf("window covers %v s, want 4", secs)
	}
	if w.Publish.Due != 400 || w.Publish.Sent != 398 || w.Connect.Disconnects != 0 {
		t.Errorf("window counts due %d sent %d disconnects %d, want 400 398 0", w.Publish.Due, w.Publish.Sent, w.Connect.Disconnects)
	}
	if got := w.Publish.RateRatio; got != 398.0/400 {
		t.Errorf("rate ratio %v", got)
	}
	// Latencies run from the window's start to the run's end (6 intervals).
	if w.Publish.Latency.Count != 600 || w.Publish.Latency.P99Ms > 3 {
		t.Errorf("window latency %+v: want 600 samples of 2 ms", w.Publish.Latency)
	}
	if v, ok := w.Metric("publish.p99"); !ok || v > 0.003 {
		t.Errorf("publish.p99 = %v, %v", v, ok)
	}
	if s.Publish.Sent != 999 || len(s.Series) != 10 {
		t.Error("Window changed the summary it was given")
	}
	if !Windowed("publish.p99") || !Windowed("publish.rate_ratio") || Windowed("devices.throttled") {
		t.Error("Windowed lists the wrong metrics")
	}
}
