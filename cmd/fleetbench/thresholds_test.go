package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestThresholdsDecideTheExitCode(t *testing.T) {
	cases := []struct {
		name       string
		thresholds string
		want       int
	}{
		{"all pass", `{publish.p99: "< 10s", connect.failed: "== 0", publish.rate_ratio: "> 0.9"}`, ExitOK},
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
	began := time.Now()
	r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0")
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitThresholds, r.stderr)
	}
	if !strings.Contains(r.stderr, "abort_on_fail") {
		t.Errorf("stderr does not say why the run stopped:\n%s", r.stderr)
	}
	if time.Since(began) > time.Minute {
		t.Errorf("the run took %v: it did not abort", time.Since(began))
	}
	if s := readSummaryFile(t, out); s.Publish.Missed == 0 || len(s.Thresholds) != 1 || s.Thresholds[0].Passed {
		t.Errorf("missed %d, thresholds %+v", s.Publish.Missed, s.Thresholds)
	}
}
