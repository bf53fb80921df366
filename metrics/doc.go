// Package metrics serves a run's live figures to Prometheus.
//
// Nothing here runs per message. A [Collector] reads, at scrape time, the
// counters and cumulative HDR histograms the run keeps anyway (a [Source]:
// the recorder of this process, or a coordinator's merged totals) and turns
// them into constant metrics: counters, gauges and histograms that carry
// classic buckets and native (sparse, exponential) buckets at once. So
// metrics cost the hot path nothing, whatever the scrape interval.
// docs/metrics.md lists the names and what they mean.
package metrics
