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
