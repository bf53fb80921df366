package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

func TestThresholdsDecideTheExitCode(t *testing.T) {
	cases := []struct {
		name       string
		thresholds string
		want       int
	}{
		{"all pass", `{publish.p99: "< 10s", connect.failed: "== 0", publish.rate_ratio: "> 0.1"}`, ExitOK}, // bounds no loaded machine misses,
		{"latency too high", `{publish.p50: "< 1us"}`, ExitThresholds},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			p := writeScenario(t, smallEmbedded+"thresholds: "+c.thresholds+"\n")
			r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0")
			if r.code != c.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", r.code, c.want, r.stdout, r.stderr)
			}
			s := readSummaryFile(t, out)
			if len(s.Thresholds) == 0 {
				t.Fatal("no threshold results in summary.json")
			}
			for _, th := range s.Thresholds {
				if th.Passed != (c.want == ExitOK) {
					t.Errorf("%s %s: passed=%v value=%g", th.Metric, th.Expr, th.Passed, th.Value)
				}
			}
		})
	}
}

// A run whose missed count passes its bound stops early with the threshold
// exit code, not after its hour, and still writes its report.
func TestAbortOnFailStopsEarly(t *testing.T) {
	out := t.TempDir()
	p := writeScenario(t, `
target: {kind: embedded, ack_delay: 200ms}
auth: {type: azure-sas}
devices: {count: 2}
connect: {rate: 100/s}
publish:
  qos: 1
  max_in_flight: 1
  max_lateness: 20ms
  stages: [{duration: 1h, rate: 100/s}]
drain: 1s
thresholds: {publish.missed: "== 0"}
abort_on_fail: true
abort_delay: 0s
`)
	r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0")
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitThresholds, r.stderr)
	}
	if !strings.Contains(r.stderr, "abort_on_fail") {
		t.Errorf("stderr does not say why the run stopped:\n%s", r.stderr)
	}
	s := readSummaryFile(t, out)
	if s.Publish.Missed == 0 || len(s.Thresholds) != 1 || s.Thresholds[0].Passed {
		t.Errorf("missed %d, thresholds %+v", s.Publish.Missed, s.Thresholds)
	}
	if s.Run.PublishPhaseMs >= float64(time.Hour/time.Millisecond) {
		t.Errorf("the publish phase lasted %.0f ms: the run did not abort", s.Run.PublishPhaseMs)
	}
}

// fakeLatencies is a running-latency feed: metric -> (seconds, samples).
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

// A run whose PUBACK latency is far over its p90 bound (the hub holds
// every PUBACK 200 ms) stops early with the threshold exit code.
func TestAbortOnFailStopsOnALatencyThreshold(t *testing.T) {
	out := t.TempDir()
	p := writeScenario(t, `
target: {kind: embedded, ack_delay: 200ms}
auth: {type: azure-sas}
devices: {count: 2}
connect: {rate: 100/s}
publish:
  qos: 1
  max_in_flight: 100
  stages: [{duration: 1h, rate: 100/s}]
drain: 1s
thresholds: {publish.p90: "< 50ms"}
abort_on_fail: true
abort_delay: 0s
`)
	r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0")
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitThresholds, r.stderr)
	}
	if !strings.Contains(r.stderr, "publish.p90 < 50ms failed on the first") || !strings.Contains(r.stderr, "abort_on_fail") {
		t.Errorf("stderr does not say why the run stopped:\n%s", r.stderr)
	}
	s := readSummaryFile(t, out)
	if len(s.Thresholds) != 1 || s.Thresholds[0].Passed || s.Thresholds[0].Value < 0.2 {
		t.Errorf("thresholds %+v", s.Thresholds)
	}
	if s.Run.PublishPhaseMs >= float64(time.Hour/time.Millisecond) {
		t.Errorf("the publish phase ran its whole hour")
	}
}
