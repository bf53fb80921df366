package compare

import (
	"slices"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/report"
)

func TestCounters(t *testing.T) {
	for _, c := range []struct {
		name   string
		edit   func(base, next *report.Summary)
		metric string
		want   Verdict
		note   string // substring of the row's note
	}{
		{"connect failures appear", func(b, n *report.Summary) { n.Connect.Failed, n.Connect.Attempted = 3, 1003 },
			"connect.failed", Worse, "errors appeared"},
		{"connect failures gone", func(b, n *report.Summary) { b.Connect.Failed = 3 },
			"connect.failed", Better, "errors gone"},
		{"publish failures rise significantly", func(b, n *report.Summary) { b.Publish.Failed, n.Publish.Failed = 20, 80 },
			"publish.failed", Worse, "0.1% → 0.4% of sent messages, rose by more than 10%, p<0.001"},
		{"publish failures move within noise", func(b, n *report.Summary) { b.Publish.Failed, n.Publish.Failed = 20, 26 },
			"publish.failed", Same, "0.1% → 0.13% of sent messages, not significant (p=0.38 > 0.01)"},
		{"missed messages appear", func(b, n *report.Summary) { n.Publish.Missed = 1 },
			"publish.missed", Worse, "errors appeared"},
		// Late sends are the generator's, not the hub's: shown, never judged.
		{"late messages appear: the generator's own, not a regression", func(b, n *report.Summary) { n.Publish.Late = 3 },
			"publish.late", Same, ""},
		{"many more late messages: still not a regression", func(b, n *report.Summary) { b.Publish.Late, n.Publish.Late = 10, 500 },
			"publish.late", Same, ""},
		{"lost messages appear", func(b, n *report.Summary) { n.Delivery.Lost, n.Delivery.Confirmed = 40, 19_960 },
			"delivery.lost", Worse, "errors appeared"},
		{"delivery ratio drops", func(b, n *report.Summary) { n.Delivery.Ratio = 0.998 },
			"delivery.ratio", Worse, "dropped by more than 0.1%"},
		{"delivery ratio within tolerance", func(b, n *report.Summary) { n.Delivery.Ratio = 0.9995 },
			"delivery.ratio", Same, ""},
		{"delivery ratio dropping by exactly the budget", func(b, n *report.Summary) { n.Delivery.Ratio = 0.999 },
			"delivery.ratio", Same, ""},
		{"rate ratio drops", func(b, n *report.Summary) { n.Publish.RateRatio = 0.9 },
			"publish.rate_ratio", Worse, "dropped by more than 2%"},
		{"rate ratio above one is not better", func(b, n *report.Summary) { n.Publish.RateRatio = 1.05 },
			"publish.rate_ratio", Same, ""},
		{"rate ratio recovers", func(b, n *report.Summary) { b.Publish.RateRatio = 0.8 },
			"publish.rate_ratio", Better, "rose by more than 2%"},
		{"hub drops without a denominator change", func(b, n *report.Summary) { n.Hub.Dropped = 5 },
			"hub.dropped", Worse, "errors appeared"},
		{"volumes carry no verdict", func(b, n *report.Summary) { n.Publish.Sent = 10 },
			"publish.sent", Same, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			base, next := fixtureSummary(t, 1, 0), fixtureSummary(t, 1, 0)
			c.edit(base, next)
			r := mustCompare(t, base, next, Options{})
			row, ok := counter(r, c.metric)
			if !ok {
				t.Fatalf("no %s row in %+v", c.metric, r.Counters)
			}
			if row.Verdict != c.want {
				t.Errorf("%s: verdict %v, want %v (note %q)", c.metric, row.Verdict, c.want, row.Note)
			}
			if !strings.Contains(row.Note, c.note) || (c.note == "" && row.Note != "") {
				t.Errorf("%s: note %q, want %q", c.metric, row.Note, c.note)
			}
			if want := combine(row.Verdict); r.Verdict != want && r.Verdict != Worse {
				t.Errorf("overall %v, want %v", r.Verdict, want)
			}
		})
	}
}

func TestCounterBudgetOverride(t *testing.T) {
	base, next := fixtureSummary(t, 1, 0), fixtureSummary(t, 1, 0)
	next.Publish.RateRatio = 0.9
	o, err := ParseOptions([]string{"publish.rate_ratio=20%"})
	if err != nil {
		t.Fatal(err)
	}
	if row, _ := counter(mustCompare(t, base, next, o), "publish.rate_ratio"); row.Verdict != Same {
		t.Errorf("a 10%% drop under a 20%% budget: %v", row.Verdict)
	}
}

func TestCountersZeroInBothOmitted(t *testing.T) {
	base, next := fixtureSummary(t, 1, 0), fixtureSummary(t, 1, 0)
	r := mustCompare(t, base, next, Options{})
	for _, c := range r.Counters {
		if c.Base == 0 && c.New == 0 {
			t.Errorf("%s is 0 in both runs but listed", c.Metric)
		}
	}
	if _, ok := counter(r, "publish.sent"); !ok {
		t.Error("publish.sent missing")
	}
}

func TestRateTest(t *testing.T) {
	// Equal rates: p = 1. Poisson fallback without exposure: 10 vs 40,
	// z = 30/√50 ≈ 4.24, p ≈ 2.2e-5.
	if _, _, p := rateTest(10, 1000, 20, 2000); p != 1 {
		t.Errorf("equal rates: p = %g", p)
	}
	if _, _, p := rateTest(10, 0, 40, 0); p < 1.5e-5 || p > 3e-5 {
		t.Errorf("10 vs 40: p = %g, want about 2.2e-5", p)
	}
	if _, _, p := rateTest(0, 100, 0, 100); p != 1 {
		t.Errorf("no events: p = %g", p)
	}
	// Counts above their exposure (duplicates) stay defined.
	if _, _, p := rateTest(300, 100, 600, 100); p > Alpha {
		t.Errorf("300 vs 600 per 100: p = %g", p)
	}
}

// compare judges only names of the metric table, and its latency families
// are the table's: a name on one side only would be a metric compare
// judges that no run reports, or a family it never shows.
func TestCompareNamesAreTheMetricTables(t *testing.T) {
	for name := range counterSpecs {
		if _, ok := report.LookupMetric(name); !ok {
			t.Errorf("compare judges %s, which report's metric table lacks", name)
		}
	}
	var fams []string
	for _, f := range families {
		fams = append(fams, f.name)
	}
	if want := report.LatencyFamilies(); !slices.Equal(slices.Sorted(slices.Values(fams)), slices.Sorted(slices.Values(want))) {
		t.Errorf("compare's latency families %v, the table's %v", fams, want)
	}
}
