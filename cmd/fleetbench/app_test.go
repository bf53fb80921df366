package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/internal/gctune"
	"github.com/fleetbench/fleetbench/report"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, ctx context.Context, env Env, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env.Stdout, env.Stderr = &out, &errb
	if env.LookupEnv == nil {
		env.LookupEnv = func(string) (string, bool) { return "", false }
	}
	env.ReadFile = os.ReadFile
	code := Run(ctx, args, env)
	return result{code, out.String(), errb.String()}
}

func writeScenario(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readSummaryFile(t *testing.T, dir string) *report.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatalf("no report written: %v", err)
	}
	s, err := report.ReadJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const smallEmbedded = `
target: {kind: embedded}
auth: {type: azure-sas, key_kind: group}
devices: {count: 20}
connect: {rate: 200/s}
publish:
  qos: 1
  stages: [{duration: 1s, rate: 200/s}]
drain: 2s
`

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"run"}, {"run", "a.yaml", "b.yaml"}, {"run", "--no-such-flag", "a.yaml"}} {
		if r := run(t, context.Background(), Env{}, args...); r.code != ExitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, r.code, ExitUsage, r.stderr)
		}
	}
}

// Help that was asked for goes to stdout with exit 0, like the top-level
// --help; after a usage error it goes to stderr.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"validate", "-h"}, {"hub", "--help"}, {"report", "--help"}, {"compare", "--help"}} {
		r := run(t, context.Background(), Env{}, args...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "Usage") || r.stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want the help on stdout, exit 0", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := run(t, context.Background(), Env{}, "run", "--help"); !strings.Contains(r.stdout, "--out") {
		t.Errorf("run --help does not list --out:\n%s", r.stdout)
	}
	r := run(t, context.Background(), Env{}, "run", "--no-such-flag")
	if r.code != ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, "no-such-flag") || !strings.Contains(r.stderr, "Usage") {
		t.Errorf("usage error: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// The top-level help shows the hub's flags and where to find them all,
// and names every exit code.
func TestTopLevelHelpShowsHubFlagsAndExitCodes(t *testing.T) {
	r := run(t, context.Background(), Env{}, "--help")
	for _, want := range []string{"--ack-delay", "--key-kind", "fleetbench hub --help", "confirm consumer", "7 run directory"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("top-level help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestInvalidScenarioExit3WithPositions(t *testing.T) {
	p := writeScenario(t, "devices:\n  count: 0\n  cuont: 3\n")
	r := run(t, context.Background(), Env{}, "validate", p)
	if r.code != ExitInvalidScenario {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitInvalidScenario, r.stderr)
	}
	for _, want := range []string{p + ":2:", p + ":3:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not point at %s:\n%s", want, r.stderr)
		}
	}
	if r := run(t, context.Background(), Env{}, "run", filepath.Join(t.TempDir(), "missing.yaml")); r.code != ExitInvalidScenario || !strings.Contains(r.stderr, "missing.yaml") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestValidateAcceptsEveryShippedScenario(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	if len(files) == 0 {
		t.Fatal("no scenarios found")
	}
	for _, f := range files {
		if r := run(t, context.Background(), Env{}, "validate", "--file-only", f); r.code != ExitOK {
			t.Errorf("%s: exit %d\n%s", f, r.code, r.stderr)
		}
	}
}

func TestEmbeddedRunSucceedsAndWritesItsReport(t *testing.T) {
	out := t.TempDir()
	r := run(t, context.Background(), Env{}, "run", writeScenario(t, smallEmbedded), "--out", out, "--progress", "0")
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummaryFile(t, out)
	if s.Connect.Connected != 20 || s.Publish.Sent == 0 || s.Publish.Acked != s.Publish.Sent {
		t.Errorf("connected %d sent %d acked %d", s.Connect.Connected, s.Publish.Sent, s.Publish.Acked)
	}
	if s.Hub == nil || s.Hub.Received != s.Publish.Acked {
		t.Errorf("hub %+v, acked %d: the hub must count every acknowledged message", s.Hub, s.Publish.Acked)
	}
	if s.Overhead.PeakRSSBytes == 0 || s.Overhead.PeakRSSPerDevice == 0 ||
		s.Overhead.CPUMicrosPerConnect <= 0 || s.Overhead.CPUMicrosPerMessage <= 0 ||
		s.Overhead.SwitchesPerConnect <= 0 || s.Overhead.SwitchesPerMessage <= 0 {
		t.Errorf("overhead not measured: %+v", s.Overhead)
	}
	if !strings.Contains(r.stdout, "Publish") {
		t.Errorf("no text summary on stdout:\n%s", r.stdout)
	}
	// Re-rendering the saved run gives the same text.
	again := run(t, context.Background(), Env{}, "report", out)
	if again.code != ExitOK || again.stdout != r.stdout {
		t.Errorf("fleetbench report differs from the run's summary (exit %d)", again.code)
	}
}

func TestUnreachableTargetExit4StillWritesReport(t *testing.T) {
	out := t.TempDir()
	p := writeScenario(t, `
target: {kind: mqtt, host: 127.0.0.1, port: 1, tls: false}
auth: {type: none}
devices: {count: 15}
connect: {rate: 1000/s}
publish: {qos: 1, stages: [{duration: 1s, rate: 10/s}]}
`)
	r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0")
	if r.code != ExitUnreachable {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitUnreachable, r.stderr)
	}
	if !strings.Contains(r.stderr, "connection refused") || !strings.Contains(r.stderr, "target.host") {
		t.Errorf("stderr does not say what to fix:\n%s", r.stderr)
	}
	if s := readSummaryFile(t, out); s.Connect.Failed == 0 {
		t.Errorf("report does not count the failures: %+v", s.Connect)
	}
	// What a failed run could not measure reads n/a, not a measured zero.
	for _, bad := range []string{" 0µs/connect", "goroutines peak 0 "} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("the summary of a failed run reads %q:\n%s", bad, r.stdout)
		}
	}
}

func TestInterruptDrainsAndWritesPartialReport(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := Env{onPhase: func(p fleet.Phase) {
		if p == fleet.PhasePublish {
			cancel() // Ctrl-C as soon as publishing starts
		}
	}}
	p := writeScenario(t, strings.Replace(smallEmbedded, "duration: 1s", "duration: 1h", 1))
	r := run(t, ctx, env, "run", p, "--out", out, "--progress", "0")
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitInterrupted, r.stderr)
	}
	s := readSummaryFile(t, out)
	if !s.Interrupted || s.Connect.Connected != 20 {
		t.Errorf("interrupted=%v connected=%d", s.Interrupted, s.Connect.Connected)
	}
	if s.Publish.Sent != s.Publish.Acked+s.Publish.Failed {
		t.Errorf("not drained: sent %d acked %d failed %d", s.Publish.Sent, s.Publish.Acked, s.Publish.Failed)
	}
}

func TestFileLimitIsCheckedBeforeConnecting(t *testing.T) {
	p := writeScenario(t, strings.Replace(smallEmbedded, "count: 20", "count: 5000", 1))
	r := run(t, context.Background(), Env{FileLimit: 1024}, "run", p, "--out", t.TempDir())
	if r.code != ExitRunFailed || !strings.Contains(r.stderr, "10064") || !strings.Contains(r.stderr, "shard") {
		t.Fatalf("exit %d, stderr %q: want the number of files needed and what to do", r.code, r.stderr)
	}
}

func TestPortRangeIsCheckedBeforeConnecting(t *testing.T) {
	p := writeScenario(t, strings.Replace(smallEmbedded, "count: 20", "count: 150", 1))
	r := run(t, context.Background(), Env{PortRange: [2]int{40000, 40099}}, "run", p, "--out", t.TempDir())
	if r.code != ExitRunFailed || !strings.Contains(r.stderr, "150 connections between one source address and one endpoint") ||
		!strings.Contains(r.stderr, "connect.source_addresses") {
		t.Fatalf("exit %d, stderr %q: want the ports needed and what to do", r.code, r.stderr)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs="
	out := t.TempDir()
	p := writeScenario(t, `
target: {kind: mqtt, host: 127.0.0.1, port: 1, tls: false}
auth: {type: azure-sas, hub_host: h.azure-devices.net, key_env: K}
devices: {count: 12}
connect: {rate: 1000/s}
publish: {qos: 1, stages: [{duration: 1s, rate: 10/s}]}
`)
	env := Env{LookupEnv: func(k string) (string, bool) { return secret, k == "K" }}
	r := run(t, context.Background(), env, "run", p, "--out", out, "--progress", "0")
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	for name, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "summary.json": string(b)} {
		if strings.Contains(text, secret) || strings.Contains(text, "SharedAccessSignature") {
			t.Errorf("%s reveals a secret", name)
		}
	}
	var anyJSON map[string]any
	if err := json.Unmarshal(b, &anyJSON); err != nil {
		t.Errorf("summary.json: %v", err)
	}
}

// The quickstart path: a consumer on the embedded hub confirms every
// message end to end.
func TestEmbeddedRunConfirmsEveryMessage(t *testing.T) {
	out := t.TempDir()
	p := writeScenario(t, smallEmbedded+"confirm: {type: mqtt, list_lost: 5}\nthresholds: {delivery.ratio: \">= 1\", e2e.p99: \"< 10s\"}\n")
	r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0", "--set", "publish.stages[0].duration=2500ms")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummaryFile(t, out)
	d := s.Delivery
	if d == nil {
		t.Fatal("no delivery section")
	}
	if d.Confirmed != s.Publish.Sent || d.Lost != 0 || d.Duplicates != 0 || d.Foreign != 0 || d.Ratio != 1 {
		t.Errorf("sent %d, delivery %+v", s.Publish.Sent, *d)
	}
	if d.Latency.Count != d.Confirmed || d.Latency.P50Ms <= 0 {
		t.Errorf("e2e latency %+v for %d confirmed", d.Latency, d.Confirmed)
	}
	if _, err := os.Stat(filepath.Join(out, "e2e.hgrm")); err != nil {
		t.Errorf("no e2e.hgrm: %v", err)
	}
	// The e2e interval log has one interval a second, adding up to the run.
	ivs := s.Intervals[report.HistE2E]
	var total int64
	for i, iv := range ivs {
		h, err := iv.Histogram()
		if err != nil {
			t.Fatal(err)
		}
		total += h.TotalCount()
		if i > 0 && iv.StartMs != ivs[i-1].EndMs {
			t.Errorf("e2e interval %d starts at %.1f ms, the previous ended at %.1f", i, iv.StartMs, ivs[i-1].EndMs)
		}
	}
	if len(ivs) < 2 || total != d.Latency.Count {
		t.Errorf("%d e2e intervals holding %d samples; want at least 2 holding all %d", len(ivs), total, d.Latency.Count)
	}
}

func TestMissingKeyIsAScenarioProblem(t *testing.T) {
	p := writeScenario(t, `
target: {kind: mqtt, host: 127.0.0.1, port: 1, tls: false}
auth: {type: azure-sas, hub_host: h.azure-devices.net, key_env: NOT_SET_ANYWHERE}
devices: {count: 1}
publish: {stages: [{duration: 1s, rate: 1/s}]}
`)
	// validate finds what run finds at start, with the position (issue 11).
	for _, args := range [][]string{{"run", p, "--out", t.TempDir()}, {"validate", p}} {
		r := run(t, context.Background(), Env{}, args...)
		if r.code != ExitInvalidScenario || !strings.Contains(r.stderr, p+":3:65: auth.key_env") || !strings.Contains(r.stderr, "NOT_SET_ANYWHERE") {
			t.Fatalf("%s: exit %d, stderr %q: want the file, the position, the field and the variable", args[0], r.code, r.stderr)
		}
	}
}

// While devices connect the GC target follows the fleet (internal/gctune);
// from the publish phase on it is the steady one again. With GOGC in the
// environment, run leaves the target alone.
func TestConnectPhaseTunesTheGCTarget(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(gctune.SteadyPercent)) // as main sets it
	gcPercent := func() int {
		p := debug.SetGCPercent(gctune.SteadyPercent)
		debug.SetGCPercent(p)
		return p
	}
	for _, gogcSet := range []bool{false, true} {
		seen := map[fleet.Phase]int{}
		env := Env{onPhase: func(p fleet.Phase) { seen[p] = gcPercent() }}
		env.LookupEnv = func(k string) (string, bool) { return "25", k == "GOGC" && gogcSet }
		out := t.TempDir()
		if r := run(t, context.Background(), env, "run", writeScenario(t, smallEmbedded), "--out", out, "--progress", "0"); r.code != ExitOK {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		wantConnect := gctune.MaxPercent // nothing connected yet: the heap may double
		if gogcSet {
			wantConnect = gctune.SteadyPercent
		}
		if seen[fleet.PhaseConnect] != wantConnect || seen[fleet.PhasePublish] != gctune.SteadyPercent || gcPercent() != gctune.SteadyPercent {
			t.Errorf("GOGC in the environment %v: GC target %d while connecting (want %d), %d publishing and %d after (want %d)",
				gogcSet, seen[fleet.PhaseConnect], wantConnect, seen[fleet.PhasePublish], gcPercent(), gctune.SteadyPercent)
		}
		if s := readSummaryFile(t, out); s.Overhead.GCCPUSeconds <= 0 {
			t.Errorf("gc_cpu_seconds not reported: %+v", s.Overhead)
		}
	}
}

// Only a run drains and writes a report on Ctrl-C; the hub must not say so.
func TestInterruptNoticeNamesWhatTheCommandDoes(t *testing.T) {
	if got := interruptNotice([]string{"run", "s.yaml"}); !strings.Contains(got, "writing the report") {
		t.Fatalf("run's notice %q does not promise the report", got)
	}
	for _, args := range [][]string{{"hub"}, {}, {"report", "x"}} {
		if got := interruptNotice(args); strings.Contains(got, "report") || !strings.Contains(got, "Ctrl-C again") {
			t.Fatalf("notice for %v: %q", args, got)
		}
	}
}

// Every metric docs/summary.md names is one a threshold may use: validate
// once rejected publish.unacked, hub.refused, hub.denied and connect.other.
func TestValidateAcceptsThresholdsOnEveryDocumentedCounter(t *testing.T) {
	for _, m := range []string{"publish.unacked", "hub.refused", "hub.denied", "connect.other",
		"publish.unacked_on_disconnect", "devices.taken_over", "publish.sent_in_window"} {
		p := writeScenario(t, smallEmbedded+"thresholds: {"+m+": \"== 0\"}\n")
		if r := run(t, context.Background(), Env{}, "validate", p, "--file-only"); r.code != ExitOK {
			t.Errorf("validate rejects a threshold on %s: exit %d\n%s", m, r.code, r.stderr)
		}
	}
}
