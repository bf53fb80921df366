package report

import (
	"maps"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// windowedMetrics are the metrics Window recomputes from the per-interval
// histograms and series; every other metric of a windowed summary is the
// whole run's.
var windowedMetrics = []string{
	"connect.failed", "publish.due", "publish.sent", "publish.acked", "publish.failed", "publish.late", "publish.missed",
	"publish.sent_in_window", "publish.late_ratio", "publish.missed_ratio", "publish.rate", "publish.rate_ratio",
	"devices.disconnects",
}

// windowedFamilies are the latency families with interval logs.
var windowedFamilies = []string{HistConnect, HistPublish, HistPublishUncorrected}

// Windowed reports whether Window restricts metric name to the window
// (false: the windowed summary holds the whole run's value).
func Windowed(name string) bool {
	if slices.Contains(windowedMetrics, name) {
		return true
	}
	for _, f := range windowedFamilies {
		if len(name) > len(f) && name[:len(f)+1] == f+"." {
			return true
		}
	}
	return false
}

// Window returns a copy of s whose figures cover the part of the run from
// fromMs to toMs (milliseconds since run start): the series points whose
// interval's midpoint lies in [fromMs, toMs) give the counts and rates
// (the offered rate is what fell due in them), and the interval
// histograms whose midpoint lies at or after fromMs give the connect and
// publish latencies — to the run's end, so that the acknowledgements of
// the window's last messages, which arrive in the drain, count. Merging
// interval histograms is exact. Metrics Window does not restrict
// (Windowed) keep the whole run's values. secs is the window's length
// covered by series points, in seconds (0: no point in the window).
// Thresholds are dropped: judge the copy again.
func (s *Summary) Window(fromMs, toMs float64) (w *Summary, secs float64, err error) {
	c := *s
	w = &c
	w.Thresholds = nil
	w.Histograms = maps.Clone(s.Histograms)
	var sel []Point
	var p PublishStats
	var failed, disc int64
	var ms float64
	for _, pt := range s.Series {
		mid := pt.TMs - pt.IntervalMs/2
		if mid < fromMs || mid >= toMs {
			continue
		}
		sel = append(sel, pt)
		ms += pt.IntervalMs
		p.Due += pt.Due
		p.Sent += pt.Sent
		p.Acked += pt.Acked
		p.Failed += pt.Failed
		p.Late += pt.Late
		p.Missed += pt.Missed
		failed += pt.ConnectFailed
		disc += pt.Disconnects
	}
	w.Series = sel
	secs = ms / 1000
	np := s.Publish
	np.Due, np.Sent, np.Acked, np.Failed, np.Late, np.Missed, np.SentInWindow = p.Due, p.Sent, p.Acked, p.Failed, p.Late, p.Missed, p.Sent
	np.LateRatio, np.MissedRatio = ratio(p.Late, p.Sent), ratio(p.Missed, p.Due)
	np.TargetRate, np.AchievedRate, np.RateRatio = 0, 0, 0
	if secs > 0 {
		np.TargetRate, np.AchievedRate = float64(p.Due)/secs, float64(p.Sent)/secs
		np.RateRatio = ratio(p.Sent, p.Due)
	}
	w.Publish = np
	w.Connect.Failed, w.Connect.Disconnects = failed, disc
	for _, fam := range windowedFamilies {
		ivs, ok := s.Intervals[fam]
		if !ok {
			continue
		}
		var h *hdrhistogram.Histogram
		for _, iv := range ivs {
			if (iv.StartMs+iv.EndMs)/2 < fromMs {
				continue
			}
			ih, err := iv.Histogram()
			if err != nil {
				return nil, 0, err
			}
			if h == nil {
				h = ih
			} else {
				h.Merge(ih)
			}
		}
		if h == nil {
			h = NewLatencyHistogram(0)
		}
		if err := w.SetHistogram(fam, h); err != nil {
			return nil, 0, err
		}
		l := w.latencyBlock(fam)
		*l = latencyOf(h, 0)
	}
	return w, secs, nil
}
