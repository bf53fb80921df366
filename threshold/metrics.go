package threshold

import (
	"fmt"
	"strconv"
	"strings"
)

// LatencyFamilies are the latency histograms a threshold can name, as the
// part before the first dot: "publish.p99" is family "publish".
var latencyFamilies = []string{
	"connect",             // dial + TLS + CONNACK
	"publish",             // PUBACK latency from the intended send time (coordinated-omission corrected)
	"publish_uncorrected", // PUBACK latency from the actual send
	"e2e",                 // intended send time to receipt by the confirming consumer
	"e2e_device_to_hub",   // intended send time to the hub's enqueue time (Event Hubs)
	"lateness",            // actual send time minus intended send time
}

// latencyStats are the fixed statistic suffixes of a latency family; any
// "p<number>" with 0 <= number <= 100 is accepted as well.
var latencyStats = []string{"p50", "p90", "p95", "p99", "p99.9", "p99.99", "max", "mean", "min"}

// counters are the counter, rate and ratio metrics.
var counters = []string{
	"connect.attempted", "connect.connected", "connect.failed", "connect.failed_ratio",
	"connect.refused_auth", "connect.refused_throttled", "connect.refused_other",
	"connect.tls", "connect.timeout", "connect.network",
	"publish.due", "publish.sent", "publish.acked", "publish.failed", "publish.late",
	"publish.missed", "publish.late_ratio", "publish.missed_ratio", "publish.rate", "publish.rate_ratio",
	"delivery.confirmed", "delivery.lost", "delivery.duplicates", "delivery.reordered",
	"delivery.foreign", "delivery.ratio",
	"hub.received", "hub.dropped",
	"devices.disconnects", "devices.reconnects",
}

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
	_, _, ok := SplitLatency(name)
	return ok
}

// IsRatio reports whether name is a ratio metric (a fraction; thresholds may
// use "%").
func IsRatio(name string) bool { return counterSet[name] && strings.HasSuffix(name, "ratio") }

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
		if strings.HasPrefix(c, fam+".") && strings.HasSuffix(c, "ratio") {
			return c
		}
	}
	return "delivery.ratio"
}
