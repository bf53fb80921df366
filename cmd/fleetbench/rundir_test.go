package main

import (
	"context"
	runlib "github.com/fleetbench/fleetbench/run"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/fleet"
)

// notADirectory returns a path that cannot be created as a directory by
// anyone, root included: its parent is a regular file.
func notADirectory(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(file, "run")
}

// An --out that cannot be written stops the run before anyone connects,
// with its own message and exit code, not a run failure.
func TestUnwritableOutStopsBeforeConnecting(t *testing.T) {
	connected := false
	env := Env{onPhase: func(fleet.Phase) { connected = true }}
	out := notADirectory(t)
	r := run(t, context.Background(), env, "run", writeScenario(t, smallEmbedded), "--out", out, "--progress", "0")
	if r.code != ExitOutput {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitOutput, r.stderr)
	}
	if connected {
		t.Error("the run started although its directory cannot be written")
	}
	if !strings.Contains(r.stderr, out) || !strings.Contains(r.stderr, "nothing was run") || strings.Contains(r.stderr, "the run had errors") {
		t.Errorf("stderr does not say the directory is the problem:\n%s", r.stderr)
	}
}

// When the report cannot be written at the end anyway (the directory was
// replaced by a file during the run), it goes to a fallback directory that
// stderr names, and the run is not blamed for it.
func TestReportGoesToAFallbackWhenTheRunDirectoryFails(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out := filepath.Join(t.TempDir(), "run")
	env := Env{onPhase: func(p fleet.Phase) {
		if p == fleet.PhaseDrain {
			os.RemoveAll(out)
			os.WriteFile(out, []byte("not a directory any more"), 0o644)
		}
	}}
	r := run(t, context.Background(), env, "run", writeScenario(t, smallEmbedded), "--out", out, "--progress", "0", "--set", "publish.stages[0].duration=300ms")
	if r.code != ExitOutput {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitOutput, r.stderr)
	}
	if strings.Contains(r.stderr, "the run had errors") {
		t.Errorf("the run is blamed for an output error:\n%s", r.stderr)
	}
	dirs, _ := filepath.Glob(filepath.Join(tmp, "fleetbench-*"))
	if len(dirs) != 1 || !strings.Contains(r.stderr, dirs[0]) {
		t.Fatalf("fallback directories %v; stderr must name the one written:\n%s", dirs, r.stderr)
	}
	if s := readSummaryFile(t, dirs[0]); s.Publish.Sent == 0 {
		t.Errorf("the fallback report holds no run: %+v", s.Publish)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], runlib.ScenarioFileName)); err != nil {
		t.Errorf("the fallback directory lacks the scenario: %v", err)
	}
}

// An unwritable $GITHUB_STEP_SUMMARY is a warning: the run passes.
func TestUnwritableStepSummaryIsAWarning(t *testing.T) {
	summary := notADirectory(t)
	env := Env{LookupEnv: func(k string) (string, bool) { return summary, k == "GITHUB_STEP_SUMMARY" }}
	out := t.TempDir()
	r := run(t, context.Background(), env, "run", writeScenario(t, smallEmbedded), "--out", out, "--progress", "0", "--set", "publish.stages[0].duration=300ms")
	if r.code != ExitOK {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitOK, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "GITHUB_STEP_SUMMARY") || strings.Contains(r.stderr, "the run had errors") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	readSummaryFile(t, out)
}

// The run directory holds the scenario the run used — the file with its
// --set overrides applied — and summary.json records the overrides and
// that scenario.
func TestOverridesAreRecorded(t *testing.T) {
	out := t.TempDir()
	sets := []string{"devices.count=7", "publish.stages[0].duration=300ms"}
	r := run(t, context.Background(), Env{}, "run", writeScenario(t, smallEmbedded), "--out", out, "--progress", "0", "--set", sets[0], "--set", sets[1])
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	s := readSummaryFile(t, out)
	if !slices.Equal(s.Run.Overrides, sets) || !strings.Contains(s.Run.EffectiveScenario, "count: 7") {
		t.Errorf("summary.json run: overrides %q, effective scenario:\n%s", s.Run.Overrides, s.Run.EffectiveScenario)
	}
	saved, err := os.ReadFile(filepath.Join(out, runlib.ScenarioFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"count: 7", "--set devices.count=7", `duration: "300ms"`} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("scenario.yaml lacks %q:\n%s", want, saved)
		}
	}
	if orig, err := os.ReadFile(filepath.Join(out, runlib.OriginalScenarioFileName)); err != nil || string(orig) != smallEmbedded {
		t.Errorf("scenario.original.yaml: %v\n%s", err, orig)
	}
	// The saved scenario alone reproduces the run.
	again := t.TempDir()
	if r := run(t, context.Background(), Env{}, "run", filepath.Join(out, runlib.ScenarioFileName), "--out", again, "--progress", "0"); r.code != ExitOK {
		t.Fatalf("rerunning the saved scenario: exit %d\n%s", r.code, r.stderr)
	}
	if s := readSummaryFile(t, again); s.Config.Devices != 7 || len(s.Run.Overrides) != 0 {
		t.Errorf("the rerun had %d devices and overrides %q", s.Config.Devices, s.Run.Overrides)
	}
}

// A reused --out does not keep the previous run's files: a run without a
// consumer leaves no e2e.hlog from an earlier one beside its own. Files
// fleetbench did not write stay.
func TestReusedOutDropsTheEarlierRunsFiles(t *testing.T) {
	out := t.TempDir()
	for _, name := range []string{"e2e.hlog", "e2e.hgrm", "summary.json", "scenario.original.yaml", "notes-of-mine.txt"} {
		if err := os.WriteFile(filepath.Join(out, name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := writeScenario(t, strings.Replace(smallEmbedded, "duration: 1s", "duration: 300ms", 1)) // no overrides
	r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"e2e.hlog", "e2e.hgrm", "scenario.original.yaml"} {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s of the earlier run is still there", name)
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "notes-of-mine.txt")); err != nil || string(b) != "old" {
		t.Errorf("a file fleetbench did not write was touched: %v", err)
	}
	if !strings.Contains(r.stderr, "earlier run") {
		t.Errorf("stderr does not say the earlier run's files were removed:\n%s", r.stderr)
	}
	readSummaryFile(t, out)
}
