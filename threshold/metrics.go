package threshold

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fleetbench/fleetbench/report"
)

// The names come from report's table of metrics (report.Metrics,
// report.LatencyFamilies), the one list every part of fleetbench shares.
var (
	latencyFamilies = report.LatencyFamilies()
	latencyStats    = report.LatencyStats()
	counters        = func() []string {
		var names []string
		for _, m := range report.Metrics() {
			names = append(names, m.Name)
		}
		return names
	}()
)

var counterSet = func() map[string]bool {
	m := make(map[string]bool, len(counters))
	for _, c := range counters {
		m[c] = true
	}
	return m
}()

// Metrics returns every fixed metric name a threshold can use: each latency
// family with each of the suffixes p50 p90 p95 p99 p99.9 p99.99 max mean min,
// then the counters and ratios. Latency families also accept any other
// percentile "p<number>" (e.g. "publish.p99.5"), which this list cannot
// enumerate. The returned slice is a fresh copy.
func Metrics() []string {
	out := make([]string, 0, len(latencyFamilies)*len(latencyStats)+len(counters))
	for _, f := range latencyFamilies {
		for _, s := range latencyStats {
			out = append(out, f+"."+s)
		}
	}
	return append(out, counters...)
}

// KnownMetric reports whether name is a metric a threshold can use.
func KnownMetric(name string) bool { return counterSet[name] || IsLatency(name) }

// IsLatency reports whether name is a latency metric (a family and a
// statistic, e.g. "e2e.p99.9"); its values are durations in seconds.
func IsLatency(name string) bool {
	if m, ok := report.LookupMetric(name); ok {
		return m.Kind == report.KindLatency // a single duration, such as recovery.time
	}
	_, _, ok := SplitLatency(name)
	return ok
}

// IsRatio reports whether name is a ratio metric (a fraction; thresholds may
// use "%").
func IsRatio(name string) bool {
	m, ok := report.LookupMetric(name)
	return ok && m.Kind == report.KindRatio
}

// SplitLatency splits a latency metric into its family and statistic:
// "publish.p99.9" gives ("publish", "p99.9", true). For percentiles use
// Percentile to get the number.
func SplitLatency(name string) (family, stat string, ok bool) {
	family, stat, found := strings.Cut(name, ".")
	if !found {
		return "", "", false
	}
	known := false
	for _, f := range latencyFamilies {
		if f == family {
			known = true
			break
		}
	}
	if !known {
		return "", "", false
	}
	switch stat {
	case "max", "mean", "min":
		return family, stat, true
	}
	if _, ok := Percentile(stat); ok {
		return family, stat, true
	}
	return "", "", false
}

// Percentile parses a statistic "p<number>" into the percentile (0..100):
// "p99.9" gives 99.9. Only digits and one decimal point are accepted.
func Percentile(stat string) (float64, bool) {
	num, ok := strings.CutPrefix(stat, "p")
	if !ok || num == "" || strings.Trim(num, "0123456789.") != "" || strings.Count(num, ".") > 1 ||
		num[0] == '.' || num[len(num)-1] == '.' {
		return 0, false
	}
	q, err := strconv.ParseFloat(num, 64)
	if err != nil || q < 0 || q > 100 {
		return 0, false
	}
	return q, true
}

// Compatible reports whether c can apply to metric: a duration needs a
// latency metric, a latency metric needs a duration, and "%" needs a ratio.
// The error is an *Error (Offset 0) whose Fix says how to correct the
// expression. It does not check that metric is known (see KnownMetric).
func Compatible(metric string, c Cond) error {
	lat := IsLatency(metric)
	switch {
	case lat && !c.IsDuration:
		return &Error{0, fmt.Sprintf("%s is a latency but %q has no time unit", metric, c.Text),
			fmt.Sprintf("add a unit, e.g. \"%s %gms\"", c.Op, c.Value)}
	case !lat && c.IsDuration:
		return &Error{0, fmt.Sprintf("%s is a count or ratio but %q is a duration", metric, c.Text),
			fmt.Sprintf("compare it with a plain number, e.g. \"%s 0\", or use a latency metric such as %s", c.Op, latencyHint(metric))}
	case c.IsPercent && !IsRatio(metric):
		return &Error{0, fmt.Sprintf("%s is a count, not a ratio, but %q is a percentage", metric, c.Text),
			fmt.Sprintf("compare it with a plain number, or use a ratio metric such as %s", ratioHint(metric))}
	}
	return nil
}

func latencyHint(metric string) string {
	fam, _, _ := strings.Cut(metric, ".")
	for _, f := range latencyFamilies {
		if f == fam {
			return fam + ".p99"
		}
	}
	return "publish.p99"
}

func ratioHint(metric string) string {
	fam, _, _ := strings.Cut(metric, ".")
	for _, c := range counters {
		if strings.HasPrefix(c, fam+".") && IsRatio(c) {
			return c
		}
	}
	return "delivery.ratio"
}
