package threshold

import (
	"errors"
	"testing"

	"github.com/fleetbench/fleetbench/report"
)

func TestKnownMetric(t *testing.T) {
	known := []string{
		"connect.p99", "publish.p99.9", "publish.p99.99", "publish.p99.5", "publish.p0", "publish.p100",
		"publish_uncorrected.max", "e2e.mean", "e2e_device_to_hub.min", "lateness.p50",
		"connect.failed", "delivery.ratio", "publish.late_ratio", "hub.dropped", "devices.reconnects",
	}
	for _, m := range known {
		if !KnownMetric(m) {
			t.Errorf("KnownMetric(%q) = false", m)
		}
	}
	unknown := []string{
		"", "publish", "publish.", "publish.p", "publish.p101", "publish.p-1", "publish.p99.", "publish.p.9",
		"publish.p9.9.9", "publish.p1e2", "publish.P99", "e2e.avg", "latency.p99", "connect.failures",
		"delivery.ratios", "publish.p99 ",
	}
	for _, m := range unknown {
		if KnownMetric(m) {
			t.Errorf("KnownMetric(%q) = true", m)
		}
	}
	for _, m := range Metrics() {
		if !KnownMetric(m) {
			t.Errorf("Metrics() lists %q but KnownMetric rejects it", m)
		}
	}
	if got, want := len(Metrics()), len(report.LatencyFamilies())*9+len(report.Metrics()); got != want {
		t.Errorf("len(Metrics()) = %d, want %d", got, want)
	}
}

func TestSplitLatency(t *testing.T) {
	fam, stat, ok := SplitLatency("publish.p99.9")
	if !ok || fam != "publish" || stat != "p99.9" {
		t.Errorf("SplitLatency = %q %q %v", fam, stat, ok)
	}
	if q, ok := Percentile(stat); !ok || q != 99.9 {
		t.Errorf("Percentile(%q) = %v %v", stat, q, ok)
	}
	if _, _, ok := SplitLatency("publish.sent"); ok {
		t.Error("publish.sent is not a latency")
	}
}

func TestCompatible(t *testing.T) {
	tests := []struct {
		metric, expr string
		fix          string // "" when compatible
	}{
		{"publish.p99", "< 100ms", ""},
		{"publish.p99", "< 100", `"< 100ms"`},
		{"publish.p99", "< 1%", "add a unit"},
		{"connect.failed", "== 0", ""},
		{"connect.failed", "< 1s", "connect.p99"},
		{"delivery.ratio", ">= 99.9%", ""},
		{"delivery.ratio", ">= 0.999", ""},
		{"delivery.lost", "< 1s", "publish.p99"},
		{"connect.failed", "< 1%", "connect.failed_ratio"},
		{"hub.dropped", "< 1%", "delivery.ratio"},
	}
	for _, tt := range tests {
		c, err := Parse(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		err = Compatible(tt.metric, c)
		if tt.fix == "" {
			if err != nil {
				t.Errorf("Compatible(%q, %q) = %v", tt.metric, tt.expr, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !contains(e.Fix, tt.fix) {
			t.Errorf("Compatible(%q, %q) = %v, want a fix mentioning %q", tt.metric, tt.expr, err, tt.fix)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"< 100ms", ">= 99.9%", "== 0", "=<", "< 1e", "<= -.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(s) {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		if c.Op < Less || c.Op > NotEqual {
			t.Fatalf("Parse(%q): bad op %v", s, c.Op)
		}
	})
}
