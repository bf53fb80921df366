// Package report is fleetbench's measurement core: what devices record on
// the hot path ([Recorder], [Shard]), the per-interval time series ([Point])
// and the one saved result model ([Summary], written as summary.json) from
// which every output is rendered.
//
// Latencies are kept in HDR histograms whose values are whole microseconds
// ([HistogramUnit]); a histogram is never kept per device, only per recorder
// shard, and shards are merged by a single collector. Every duration in the
// saved model is a float64 number of milliseconds in a field ending in _ms;
// [Summary.Metric] returns latencies in seconds so thresholds can compare
// them with any duration unit.
//
// The renderers that need nothing beyond this package live here: the
// terminal text ([WriteText]), JSON ([WriteJSON]), Markdown
// ([WriteMarkdown]), JUnit XML ([WriteJUnit]), HdrHistogram interval logs
// ([WriteHlog]) and percentile distributions ([WriteHgrm]). The HTML page
// is package report/htmlreport; package report/output writes a whole run
// directory. docs/outputs.md documents every file.
package report
