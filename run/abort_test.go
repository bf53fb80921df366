package run

import (
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
	"slices"
)

type fakeLatencies map[string]struct {
	v float64
	n int64
}

func (f fakeLatencies) RunningLatency(name string) (float64, int64, float64, bool) {
	var q float64
	switch name {
	case "publish.p50":
		q = 50
	case "publish.p99", "connect.p99":
		q = 99
	case "publish.max":
		q = 100
	default:
		return 0, 0, 0, false
	}
	x := f[name]
	return x.v, x.n, q, true
}

// Latency thresholds are judged on the running histograms once enough
// samples lie above the quantile (minSamples), a max at once; what cannot
// be judged while running is named, not silently ignored.
func TestAbortJudgesLatencyOnEnoughSamples(t *testing.T) {
	sc, err := scenario.Parse("s.yaml", []byte(`
target: {kind: embedded}
devices: {count: 1}
publish: {stages: [{duration: 1s, rate: 1/s}]}
thresholds: {publish.p99: "< 100ms", publish.max: "<= 1s", connect.p99: "> 1ms", e2e.p99: "< 1s", publish.missed: "== 0"}
confirm: {type: mqtt}
abort_on_fail: true
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	feed := fakeLatencies{}
	checks, endOnly := liveChecks(sc, feed)
	if len(checks) != 3 || !slices.Equal(endOnly, []string{"connect.p99 > 1ms", "e2e.p99 < 1s"}) {
		t.Fatalf("%d live checks, end only %q", len(checks), endOnly)
	}
	cases := []struct {
		name string
		feed fakeLatencies
		want string // in the reason; "" for no abort
	}{
		{"no samples", fakeLatencies{}, ""},
		{"p99 over its bound on too few samples", fakeLatencies{"publish.p99": {0.5, minSamples(99) - 1}}, ""},
		{"p99 over its bound on enough samples", fakeLatencies{"publish.p99": {0.5, minSamples(99)}}, "publish.p99 < 100ms failed on the first 1000 samples (value 500ms)"},
		{"p99 within its bound", fakeLatencies{"publish.p99": {0.1 - 1e-6, 1e6}}, ""},
		{"one sample over the max", fakeLatencies{"publish.max": {1.5, 1}}, "publish.max <= 1s"},
		{"max at its bound", fakeLatencies{"publish.max": {1, 5}}, ""},
	}
	for _, c := range cases {
		got := judge(checks, report.Totals{}, c.feed)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: reason %q, want %q", c.name, got, c.want)
		}
	}
	if got := judge(checks, report.Totals{Missed: 1}, fakeLatencies{}); !strings.Contains(got, "publish.missed") {
		t.Errorf("a missed message: reason %q", got)
	}
	for q, want := range map[float64]int64{50: 20, 90: 100, 99: 1000, 99.9: 10000, 100: 1} {
		if got := minSamples(q); got != want {
			t.Errorf("minSamples(%g) = %d, want %d", q, got, want)
		}
	}
}

// Every growing count of the metric table is judged live, including those
// the old hand-kept list of abort_on_fail missed (connect.other,
// connect.refused_other, devices.taken_over); publish.unacked shrinks as
// PUBACKs arrive and is judged at the end only.
func TestAbortJudgesEveryGrowingCount(t *testing.T) {
	sc, err := scenario.Parse("s.yaml", []byte(`
target: {kind: embedded}
devices: {count: 1}
publish: {stages: [{duration: 1s, rate: 1/s}]}
thresholds: {connect.other: "== 0", connect.refused_other: "< 1", devices.taken_over: "<= 0", publish.unacked: "== 0"}
abort_on_fail: true
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	checks, endOnly := liveChecks(sc, fakeLatencies{})
	if len(checks) != 3 || !slices.Equal(endOnly, []string{"publish.unacked == 0"}) {
		t.Fatalf("%d live checks, end only %q", len(checks), endOnly)
	}
	var tot report.Totals
	tot.DisconnectsBy[report.DisconnectTakenOver] = 1
	if got := judge(checks, tot, fakeLatencies{}); !strings.Contains(got, "devices.taken_over") {
		t.Errorf("a taken-over device: reason %q", got)
	}
}
