// Package compare judges whether a run regressed against a baseline: the
// analysis behind `fleetbench compare BASE NEW`. It reads two saved run
// summaries ([report.Summary]), compares every latency distribution and
// every counter, and gives a [Verdict] per latency family, per counter and
// overall, rendered as text, Markdown or self-contained HTML.
//
// The verdict is built to be robust to noise (docs/compare.md derives it):
// a latency family is Worse only when (1) the median relative shift over
// the band p50, p75, p90, p95, p99 exceeds its [Budget] — equivalently, at
// least three of the five band quantiles moved beyond it — and (2) a
// two-sample Kolmogorov–Smirnov test on the two stored HDR histograms says
// the distributions differ (p <= [Alpha]). Tail quantiles (p99.9, max) are
// reported and annotated but never decide a verdict, and a family with
// fewer than [MinSamples] values per run is at most Inconclusive.
//
// Everything here is pure computation on plain data: no I/O besides the
// writers given to the renderers, no clock, no globals that change. Every
// function is safe for concurrent use; Compare never modifies its inputs.
package compare
