package report

import "strings"

// runningFamilies are the latency families the Recorder itself holds
// (end-to-end latency is the confirmation matcher's), by metric family.
var runningFamilies = map[string]int{
	HistConnect:            hConnect,
	HistPublish:            hPublish,
	HistPublishUncorrected: hPublishUncorrected,
	HistLateness:           hLateness,
}

// RunningLatency is a latency metric over every sample recorded up to the
// last Tick, for judging thresholds while the run goes on (abort_on_fail).
// name is "<family>.p<q>" (e.g. "publish.p99") or "<family>.max" of the
// connect, publish, publish_uncorrected or lateness family. It returns the
// value in seconds as [Summary.Metric] computes it at the end, the number
// of samples it rests on, and the quantile in percent (100 for max). ok is
// false for any other name (end-to-end latency, mean, min). Safe for
// concurrent use: it takes the collector's lock, not a shard's.
func (r *Recorder) RunningLatency(name string) (seconds float64, samples int64, quantile float64, ok bool) {
	fam, sfx, found := strings.Cut(name, ".")
	k, known := runningFamilies[fam]
	if !found || !known {
		return 0, 0, 0, false
	}
	q, valid := parseSuffix(sfx)
	switch {
	case !valid || sfx == "mean" || sfx == "min":
		return 0, 0, 0, false
	case sfx == "max":
		q = 100
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.cum[k]
	samples = h.TotalCount()
	if samples == 0 {
		return 0, 0, q, true
	}
	v := h.ValueAtQuantile(q)
	if sfx == "max" {
		v = h.Max()
	}
	return unitsToMs(float64(v)) / 1000, samples, q, true
}
