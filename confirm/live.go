package confirm

import hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

// MergeE2E adds to into every end-to-end latency observed so far (first
// arrivals, as Result.E2E at Finish), for a live reader such as the
// Prometheus collector. Safe to call while Observe runs: it holds each
// shard's lock for one merge, so an Observe on that shard waits that long.
func (m *Matcher) MergeE2E(into *hdrhistogram.Histogram) {
	for s := range m.shards {
		sh := &m.shards[s]
		sh.mu.Lock()
		into.Merge(sh.e2e)
		sh.mu.Unlock()
	}
}
