package report

// Exported forms of the formatters every report uses, so renderers in other
// packages (HTML, comparison) print numbers exactly as the terminal report
// does. All are pure and safe for concurrent use.

// FormatMs formats a duration given in milliseconds with three significant
// digits in the largest fitting unit: 812µs, 12.4ms, 1.20s; "-" for a
// negative or NaN value.
func FormatMs(ms float64) string { return fmtMs(ms) }

// FormatCount formats a count with thousands separators: 1,234,567.
func FormatCount(n int64) string { return fmtCount(n) }

// FormatRate formats a per-second rate: 1,000/s, 998.7/s, 2.50/s.
func FormatRate(r float64) string { return fmtRate(r) }

// FormatPct formats a ratio in [0,1] as a percentage: 99.87%, 0%, 100%.
func FormatPct(r float64) string { return fmtPct(r) }

// FormatBytes formats a byte count in binary units: 812 B, 18.5 KiB.
func FormatBytes(b float64) string { return fmtBytes(b) }

// FormatMetric formats a metric value (as Summary.Metric returns it) the
// way it reads best: latencies (seconds) as durations (12.4ms), ratios as
// percentages, rates per second, counts with thousands separators.
func FormatMetric(name string, v float64) string { return fmtMetric(name, v) }
