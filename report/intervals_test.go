package report

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// sumIntervals merges a family's interval histograms.
func sumIntervals(t *testing.T, ivs []IntervalHist) *hdrhistogram.Histogram {
	t.Helper()
	total := NewLatencyHistogram(0)
	for _, iv := range ivs {
		h, err := iv.Histogram()
		if err != nil {
			t.Fatal(err)
		}
		total.Merge(h)
	}
	return total
}

func TestRecorderKeepsIntervalHistograms(t *testing.T) {
	m := fixtureMeasured(t)
	if m.IntervalsErr != nil {
		t.Fatal(m.IntervalsErr)
	}
	for name, cum := range map[string]*hdrhistogram.Histogram{
		HistConnect: m.Connect, HistPublish: m.Publish, HistPublishUncorrected: m.PublishUncorrected,
		HistLateness: m.Lateness, // kept so that a merge of shards recomputes the series' lateness p99
	} {
		ivs := m.Intervals[name]
		// Three ticks at 1s, 2s, 3s; Result(3s) folds into the last.
		if len(ivs) != 3 {
			t.Fatalf("%s: %d intervals, want 3", name, len(ivs))
		}
		for i, iv := range ivs {
			if iv.StartMs != float64(i*1000) || iv.EndMs != float64((i+1)*1000) {
				t.Errorf("%s interval %d spans %v..%vms, want %d..%d", name, i, iv.StartMs, iv.EndMs, i*1000, (i+1)*1000)
			}
		}
		if total := sumIntervals(t, ivs); !total.Equals(cum) {
			t.Errorf("%s: intervals add up to %d samples, not the cumulative histogram's %d", name, total.TotalCount(), cum.TotalCount())
		}
	}
	// The second second's publish interval holds exactly its 99 acks.
	h, _ := m.Intervals[HistPublish][1].Histogram()
	if h.TotalCount() != 99 {
		t.Errorf("second publish interval holds %d samples, want 99", h.TotalCount())
	}
	// All connects happened before the first tick.
	if h, _ := m.Intervals[HistConnect][0].Histogram(); h.TotalCount() != 10 {
		t.Errorf("first connect interval holds %d samples, want 10", h.TotalCount())
	}

	s := Build(m, fixtureInfo(), fixtureConfig())
	if len(s.Intervals) != 4 || len(s.Intervals[HistPublish]) != 3 {
		t.Errorf("Build stored intervals %v", s.Intervals)
	}
}

// Past its cap the log merges neighbours in pairs: every sample and the
// time coverage survive, the entry count stays within the cap.
func TestIntervalLogCoalesces(t *testing.T) {
	const n, capacity = 23, 4
	l := NewIntervalLog(capacity)
	want := NewLatencyHistogram(0)
	h := NewLatencyHistogram(0)
	for i := range n {
		for range i + 1 {
			RecordLatency(h, time.Duration(i+1)*100*time.Microsecond)
		}
		want.Merge(h)
		if err := l.Add(time.Duration(i)*time.Second, time.Duration(i+1)*time.Second, h); err != nil {
			t.Fatal(err)
		}
		h.Reset()
		if l.Len() > capacity {
			t.Fatalf("after %d adds the log holds %d entries, cap %d", i+1, l.Len(), capacity)
		}
	}
	ivs, err := l.Intervals()
	if err != nil {
		t.Fatal(err)
	}
	if len(ivs) < capacity/2 || ivs[0].StartMs != 0 || ivs[len(ivs)-1].EndMs != n*1000 {
		t.Fatalf("intervals %+v do not cover 0..%ds in %d..%d entries", spans(ivs), n, capacity/2, capacity)
	}
	for i := 1; i < len(ivs); i++ {
		if ivs[i].StartMs != ivs[i-1].EndMs {
			t.Errorf("gap or overlap between entries: %v", spans(ivs))
		}
	}
	if got := sumIntervals(t, ivs); !got.Equals(want) {
		t.Errorf("intervals hold %d samples, want %d, value for value", got.TotalCount(), want.TotalCount())
	}
	// 23 one-second intervals with cap 4: groups of 8 seconds.
	if ivs[0].EndMs != 8000 {
		t.Errorf("first entry spans %v..%vms, want 0..8000 (groups of 8)", ivs[0].StartMs, ivs[0].EndMs)
	}
}

func spans(ivs []IntervalHist) [][2]float64 {
	out := make([][2]float64, len(ivs))
	for i, iv := range ivs {
		out[i] = [2]float64{iv.StartMs, iv.EndMs}
	}
	return out
}

func TestIntervalLogFoldsNonAdvancingInterval(t *testing.T) {
	for _, grouped := range []bool{false, true} {
		l := NewIntervalLog(2)
		h := NewLatencyHistogram(0)
		adds := 1
		if grouped { // a third add halves the log: group of 2, one pending
			adds = 3
		}
		for i := range adds {
			RecordLatency(h, time.Millisecond)
			_ = l.Add(time.Duration(i)*time.Second, time.Duration(i+1)*time.Second, h)
			h.Reset()
		}
		RecordLatency(h, 2*time.Millisecond)
		RecordLatency(h, 3*time.Millisecond)
		if err := l.Add(time.Duration(adds)*time.Second, time.Duration(adds)*time.Second, h); err != nil {
			t.Fatal(err)
		}
		ivs, err := l.Intervals()
		if err != nil {
			t.Fatal(err)
		}
		last, _ := ivs[len(ivs)-1].Histogram()
		if last.Max() < 2990 || ivs[len(ivs)-1].EndMs != float64(adds*1000) {
			t.Errorf("grouped=%v: the non-advancing interval was not merged into the last entry: %v, max %d",
				grouped, spans(ivs), last.Max())
		}
		if got := sumIntervals(t, ivs).TotalCount(); got != int64(adds+2) {
			t.Errorf("grouped=%v: %d samples, want %d", grouped, got, adds+2)
		}
	}
}

func TestSetIntervals(t *testing.T) {
	s := &Summary{}
	s.SetIntervals(HistE2E, []IntervalHist{{StartMs: 0, EndMs: 1000, Hist: mustEncode(t, NewLatencyHistogram(0))}})
	if len(s.Intervals[HistE2E]) != 1 {
		t.Fatalf("SetIntervals did not store: %v", s.Intervals)
	}
	s.SetIntervals(HistE2E, nil)
	if _, ok := s.Intervals[HistE2E]; ok {
		t.Error("SetIntervals(nil) kept the family")
	}
}

func mustEncode(t *testing.T, h *hdrhistogram.Histogram) string {
	t.Helper()
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}
