package report

import (
	"fmt"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

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
	fam, q, ok := runningName(name)
	if !ok {
		return 0, 0, 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seconds, samples = runningValue(r.cum[runningFamilies[fam]], q)
	return seconds, samples, q, true
}

// runningValue is quantile q (percent; 100 is the max) of h in seconds,
// and h's sample count.
func runningValue(h *hdrhistogram.Histogram, q float64) (seconds float64, samples int64) {
	samples = h.TotalCount()
	if samples == 0 {
		return 0, 0
	}
	v := h.ValueAtQuantile(q)
	if q >= 100 {
		v = h.Max()
	}
	return unitsToMs(float64(v)) / 1000, samples
}

// runningName splits a running latency metric name into its family and
// quantile (percent; 100 for max); ok is false for any name RunningLatency
// does not serve.
func runningName(name string) (fam string, q float64, ok bool) {
	fam, sfx, found := strings.Cut(name, ".")
	if _, known := runningFamilies[fam]; !found || !known {
		return "", 0, false
	}
	q, valid := parseSuffix(sfx)
	switch {
	case !valid || sfx == "mean" || sfx == "min":
		return "", 0, false
	case sfx == "max":
		q = 100
	}
	return fam, q, true
}

// RunningHistograms returns the cumulative running histograms (every
// sample up to the last Tick) of the connect, publish,
// publish_uncorrected and lateness families, each in the HdrHistogram V2
// compressed base64 form of [EncodeHistogram]: what a shard streams to its
// coordinator once a second. Safe for concurrent use; it takes the
// collector's lock while it encodes.
func (r *Recorder) RunningHistograms() (map[string]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(runningFamilies))
	for fam, k := range runningFamilies {
		enc, err := EncodeHistogram(r.cum[k])
		if err != nil {
			return nil, err
		}
		out[fam] = enc
	}
	return out, nil
}

// RunningSet is a set of running histograms by family, such as the sum
// of every shard's latest [Recorder.RunningHistograms]: it serves the
// same RunningLatency as a Recorder, so abort_on_fail judges a sharded
// run's merged figures as it judges one process's.
type RunningSet map[string]*hdrhistogram.Histogram

// Add decodes encoded running histograms and adds them to the set.
func (s RunningSet) Add(encoded map[string]string) error {
	for fam, enc := range encoded {
		h, err := DecodeHistogram(enc)
		if err != nil {
			return fmt.Errorf("running histogram %s: %w", fam, err)
		}
		if have := s[fam]; have != nil {
			if dropped := have.Merge(h); dropped > 0 {
				return fmt.Errorf("running histogram %s: %d values beyond the histogram's range", fam, dropped)
			}
			continue
		}
		s[fam] = h
	}
	return nil
}

// RunningLatency is [Recorder.RunningLatency] over the set.
func (s RunningSet) RunningLatency(name string) (seconds float64, samples int64, quantile float64, ok bool) {
	fam, q, ok := runningName(name)
	if !ok {
		return 0, 0, 0, false
	}
	h := s[fam]
	if h == nil {
		return 0, 0, q, true
	}
	seconds, samples = runningValue(h, q)
	return seconds, samples, q, true
}
