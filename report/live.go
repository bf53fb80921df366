package report

import hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

// LiveTotals is what a live reader (the Prometheus collector, a shard's
// progress) should take as the run's counters: [Recorder.Totals] while the
// run goes on, and once Result has been called the totals it returned, so
// that a reader after the end sees exactly the figures of the report, not
// records that arrived after it (Result ignores them). Safe for concurrent
// use.
func (r *Recorder) LiveTotals() Totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result != nil {
		return r.result.Totals
	}
	return r.Totals()
}

// VisitRunning calls visit with each cumulative latency histogram the
// recorder holds (families [HistConnect], [HistPublish],
// [HistPublishUncorrected] and [HistLateness], values in [HistogramUnit]):
// every sample up to the last Tick, and after Result the histograms of its
// [Measured]. visit runs under the collector's lock (Tick waits, the hot
// path does not) and must neither keep nor change h; copy what it needs.
func (r *Recorder) VisitRunning(visit func(family string, h *hdrhistogram.Histogram)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fam := range [...]string{HistConnect, HistPublish, HistPublishUncorrected, HistLateness} {
		visit(fam, r.cum[runningFamilies[fam]])
	}
}
