package main

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

const compareScenario = `
target: {kind: embedded, ack_delay: ACK}
auth: {type: azure-sas}
devices: {count: 20}
connect: {rate: 500/s}
publish:
  qos: 1
  stages: [{duration: 3s, rate: 100/s}]
drain: 2s
`

func runWithAckDelay(t *testing.T, delay string) string {
	t.Helper()
	out := t.TempDir()
	p := writeScenario(t, strings.Replace(compareScenario, "ACK", delay, 1))
	if r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0"); r.code != ExitOK {
		t.Fatalf("run (ack_delay %s): exit %d\n%s\n%s", delay, r.code, r.stdout, r.stderr)
	}
	return out
}

// drawnRun writes a run directory whose latency histograms are drawn from
// seeded lognormal distributions (publish median 2 ms, connect 3 ms; scale
// multiplies every value). Two seeds of one scale are two runs of one
// configuration with no machine in between: the only honest way to test
// the "same" verdict, since two real timed runs on a shared machine are not
// the same distribution.
func drawnRun(t *testing.T, seed uint64, scale float64) string {
	t.Helper()
	start := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC).Add(time.Duration(seed) * time.Hour)
	s := &report.Summary{
		Schema: report.SchemaVersion,
		Run: report.RunInfo{
			ID: start.Format("20060102-150405") + "-drawn", Scenario: "drawn", ScenarioFile: "drawn.yaml",
			Started: start, Ended: start.Add(25 * time.Second), PublishPhaseMs: 20_000,
			Target: "127.0.0.1:8883", TargetKind: "embedded",
		},
		Config: report.ConfigEcho{
			Devices: 1000, QoS: 1, ConnectRate: 500, StartRate: 1000,
			Stages:       []report.StageEcho{{DurationMs: 20_000, Rate: 1000}},
			PayloadBytes: 256, MaxInFlight: 16, DurationMs: 20_000, DrainMs: 5_000, LateAfterMs: 10,
		},
		Connect: report.ConnectStats{Attempted: 1000, Connected: 1000, ConnectedAtEnd: 1000, PeakConnected: 1000, FailedByReason: map[string]int64{}},
		Publish: report.PublishStats{Due: 20_000, Sent: 20_000, Acked: 20_000, TargetRate: 1000, AchievedRate: 1000, RateRatio: 1},
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	draw := func(name string, n int, medianMs float64) {
		h := report.NewLatencyHistogram(0)
		for range n {
			ms := medianMs * math.Exp(0.5*rng.NormFloat64()) * scale
			report.RecordLatency(h, time.Duration(ms*float64(time.Millisecond)))
		}
		if err := s.SetHistogram(name, h); err != nil {
			t.Fatal(err)
		}
	}
	draw(report.HistConnect, 1_000, 3)
	draw(report.HistPublish, 20_000, 2)
	draw(report.HistPublishUncorrected, 20_000, 1.8)
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Two runs drawn from one distribution compare as the same (exit 0) with
// the default budget; a 30% shift of every latency is a regression with
// its own exit code, named in the output.
func TestCompareVerdictsOnKnownDistributions(t *testing.T) {
	base, same, slow := drawnRun(t, 1, 1), drawnRun(t, 2, 1), drawnRun(t, 3, 1.3)
	if r := run(t, context.Background(), Env{}, "compare", base, same); r.code != ExitOK {
		t.Errorf("one distribution, two seeds: exit %d, want %d\n%s\n%s", r.code, ExitOK, r.stdout, r.stderr)
	}
	r := run(t, context.Background(), Env{}, "compare", base, slow)
	if r.code != ExitRegression {
		t.Fatalf("every latency 30%% higher: exit %d, want %d\n%s\n%s", r.code, ExitRegression, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "publish") {
		t.Errorf("the regression does not name publish latency:\n%s", r.stderr)
	}
	md := run(t, context.Background(), Env{}, "compare", base, slow, "--format", "markdown")
	if md.code != ExitRegression || !strings.Contains(md.stdout, "|") {
		t.Errorf("markdown: exit %d\n%s", md.code, md.stdout)
	}
	if r := run(t, context.Background(), Env{}, "compare", base, slow, "--max-regression", "publish.p99=bogus"); r.code != ExitUsage {
		t.Errorf("bad budget: exit %d, want %d", r.code, ExitUsage)
	}
}

// Real runs, end to end: a hub that holds every PUBACK 250 ms is a
// regression. At 5 messages/s per device nothing queues behind the delay,
// so every latency of the slow run is above 250 ms, while the base run's
// are loopback round trips; a loaded machine (stress-ng beside the suite)
// slows those by milliseconds, not by a quarter of a second. No assertion
// that two real runs are alike: that is tested on drawn data above.
func TestCompareFindsAnInjectedLatencyShift(t *testing.T) {
	base := runWithAckDelay(t, "0s")
	slow := runWithAckDelay(t, "250ms")
	r := run(t, context.Background(), Env{}, "compare", base, slow)
	if r.code != ExitRegression {
		t.Fatalf("250 ms PUBACK delay: exit %d, want %d\n%s\n%s", r.code, ExitRegression, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "publish") {
		t.Errorf("the regression does not name publish latency:\n%s", r.stderr)
	}
}

func TestReportRendersEveryFormat(t *testing.T) {
	dir := runWithAckDelay(t, "0s")
	for _, f := range []string{"text", "json", "markdown", "html", "junit"} {
		r := run(t, context.Background(), Env{}, "report", dir, "--format", f)
		if r.code != ExitOK || len(r.stdout) < 100 {
			t.Errorf("--format %s: exit %d, %d bytes\n%s", f, r.code, len(r.stdout), r.stderr)
		}
	}
	if r := run(t, context.Background(), Env{}, "report", dir, "--format", "pdf"); r.code != ExitUsage {
		t.Errorf("--format pdf: exit %d, want %d", r.code, ExitUsage)
	}
}

// A CI job gets JUnit XML, a Markdown summary (also appended to
// $GITHUB_STEP_SUMMARY), the HTML report and the interval logs.
func TestRunWritesEveryCIOutput(t *testing.T) {
	out := t.TempDir()
	step := filepath.Join(t.TempDir(), "step.md")
	os.WriteFile(step, []byte("earlier step\n"), 0o644)
	env := Env{LookupEnv: func(k string) (string, bool) { return step, k == "GITHUB_STEP_SUMMARY" }}
	p := writeScenario(t, smallEmbedded+`thresholds: {publish.p99: "< 10s"}`+"\n")
	if r := run(t, context.Background(), env, "run", p, "--out", out, "--progress", "0"); r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, f := range []string{"summary.json", "summary.txt", "summary.md", "junit.xml", "report.html", "publish.hlog", "publish.hgrm", "connect.hlog"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	b, _ := os.ReadFile(step)
	if !strings.HasPrefix(string(b), "earlier step\n") || !strings.Contains(string(b), "publish.p99") {
		t.Errorf("step summary not appended:\n%s", b)
	}
	j, _ := os.ReadFile(filepath.Join(out, "junit.xml"))
	if !strings.Contains(string(j), "<testcase") || strings.Contains(string(j), "<failure") {
		t.Errorf("junit.xml should hold one passing test case:\n%s", j)
	}
}
