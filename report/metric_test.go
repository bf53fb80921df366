package report

import (
	"slices"
	"strings"
	"testing"
)

func TestEveryMetricNameResolves(t *testing.T) {
	s := fixtureSummary(t)
	names := MetricNames()
	if len(names) < 80 {
		t.Fatalf("MetricNames lists only %d names", len(names))
	}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
		if !IsMetric(name) {
			t.Errorf("IsMetric(%q) = false for a listed name", name)
		}
		if _, ok := s.Metric(name); !ok {
			t.Errorf("Metric(%q) did not resolve on a full summary", name)
		}
	}
	// The names the specification requires, spot-checked.
	for _, name := range []string{
		"connect.p99.99", "publish_uncorrected.min", "e2e_device_to_hub.mean", "lateness.p95",
		"connect.failed_ratio", "connect.refused_throttled", "publish.rate_ratio", "delivery.foreign",
		"hub.dropped", "devices.reconnects",
	} {
		if !slices.Contains(names, name) {
			t.Errorf("MetricNames lacks %s", name)
		}
	}
}

func TestMetricValues(t *testing.T) {
	s := fixtureSummary(t)
	for _, c := range []struct {
		name string
		want float64
	}{
		{"connect.attempted", 13},
		{"connect.failed", 2},
		{"connect.failed_ratio", 2.0 / 13},
		{"connect.refused_auth", 1},
		{"connect.timeout", 1},
		{"connect.tls", 0},
		{"publish.due", 300},
		{"publish.missed_ratio", 5.0 / 300},
		{"publish.rate", 295.0 / 3},
		{"delivery.ratio", 290.0 / 294},
		{"hub.received", 294},
		{"devices.disconnects", 1},
		// latencies are in seconds
		{"publish.p99", s.Publish.Latency.P99Ms / 1000},
		{"publish.max", s.Publish.Latency.MaxMs / 1000},
		{"lateness.max", s.Publish.Lateness.MaxMs / 1000},
		{"e2e.min", 0.0015},
		{"connect.min", 0.0008},
	} {
		got, ok := s.Metric(c.name)
		if !ok || !near(got, c.want) {
			t.Errorf("Metric(%q) = %v, %v; want %v", c.name, got, ok, c.want)
		}
	}
}

// Any quantile resolves through the stored histogram and agrees with the
// precomputed block where both exist.
func TestMetricAnyQuantile(t *testing.T) {
	s := fixtureSummary(t)
	for _, fam := range latencyFamilies {
		fixed, ok1 := s.Metric(fam + ".p99.9")
		viaHist, ok2 := s.Metric(fam + ".p99.90")
		if !ok1 || !ok2 || fixed != viaHist {
			t.Errorf("%s: p99.9 = %v (%v), p99.90 via histogram = %v (%v)", fam, fixed, ok1, viaHist, ok2)
		}
		p0, _ := s.Metric(fam + ".p0")
		p97, _ := s.Metric(fam + ".p97.5")
		p100, _ := s.Metric(fam + ".p100")
		mx, _ := s.Metric(fam + ".max")
		if !(p0 <= p97 && p97 <= p100) || p100 != mx {
			t.Errorf("%s: p0 %v p97.5 %v p100 %v max %v not ordered", fam, p0, p97, p100, mx)
		}
	}
}

func TestMetricUnknownOrAbsent(t *testing.T) {
	s := fixtureSummary(t)
	for _, name := range []string{
		"", "publish", "publish.", "publish.p", "publish.p101", "publish.p-1", "publish.p1e2", "publish.p.5",
		"publish.p5.", "publish.p9.9.9", "publish.pinf", "publish.p99x", "latency.p99", "hub.lost", "connect.bogus",
		"publish.P99",
	} {
		if IsMetric(name) {
			t.Errorf("IsMetric(%q) = true", name)
		}
		if v, ok := s.Metric(name); ok {
			t.Errorf("Metric(%q) = %v, true; want unknown", name, v)
		}
	}
	empty := Build(NewRecorder(RecorderConfig{Shards: 1}).Result(0), RunInfo{}, ConfigEcho{})
	for _, name := range []string{"publish.p99", "e2e.p50", "delivery.ratio", "hub.received", "connect.p77"} {
		if !IsMetric(name) {
			t.Errorf("IsMetric(%q) = false", name)
		}
		if v, ok := empty.Metric(name); ok {
			t.Errorf("Metric(%q) on an empty run = %v, true; want no data", name, v)
		}
	}
	if v, ok := empty.Metric("publish.sent"); !ok || v != 0 {
		t.Errorf("a counter of an empty run = %v, %v; want 0, true", v, ok)
	}
}

func TestMetricNamesIsACopy(t *testing.T) {
	a := MetricNames()
	a[0] = "changed"
	if MetricNames()[0] == "changed" || !strings.HasPrefix(MetricNames()[0], "connect.") {
		t.Error("MetricNames shares its backing array")
	}
}
