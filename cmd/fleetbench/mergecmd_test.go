package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/output"
	"github.com/fleetbench/fleetbench/report/reporttest"
)

// writeShardDirs writes each shard's summary.json (and every rendering)
// into its own run directory, as a shard run leaves it.
func writeShardDirs(t *testing.T, shards []*report.Summary) []string {
	t.Helper()
	var dirs []string
	for _, s := range shards {
		dir := filepath.Join(t.TempDir(), s.Run.ID)
		if err := output.WriteAll(dir, s); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

// `fleetbench merge` of shard directories writes one run directory whose
// summary is report.Merge's, which `report` renders in every format and
// `compare` compares with a one-process run of the same fleet.
func TestMergeCommandWritesOneRun(t *testing.T) {
	shards, whole := reporttest.Shards(3, 0)
	dirs := writeShardDirs(t, shards)
	out := filepath.Join(t.TempDir(), "merged")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(out, "e2e.hlog") // an earlier run's file must not survive
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, context.Background(), Env{}, append([]string{"merge", "--out", out}, dirs...)...)
	if r.code != ExitOK {
		t.Fatalf("merge: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a stale e2e.hlog survived the merge into --out")
	}
	got := readSummaryFile(t, out)
	want, err := report.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	if got.Publish != want.Publish || got.Connect.Latency != want.Connect.Latency || len(got.Shards) != 3 || got.Run.ID != "merged" {
		t.Errorf("merged summary differs from report.Merge's:\n%+v\n%+v", got.Publish, want.Publish)
	}
	for _, name := range []string{"publish.hlog", "publish.hgrm", "report.html", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("merged run lacks %s: %v", name, err)
		}
	}
	for _, f := range output.Formats() {
		if r := run(t, context.Background(), Env{}, "report", out, "--format", f); r.code != ExitOK || r.stdout == "" {
			t.Errorf("report --format %s of the merged run: exit %d\n%s", f, r.code, r.stderr)
		}
	}
	single := writeShardDirs(t, []*report.Summary{whole})[0]
	if r := run(t, context.Background(), Env{}, "compare", single, out); r.code != ExitOK {
		t.Errorf("compare of a one-process run with its merged shards: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestMergeCommandExitCodes(t *testing.T) {
	shards, _ := reporttest.Shards(3, 0)
	dirs := writeShardDirs(t, shards)
	out := filepath.Join(t.TempDir(), "merged")

	r := run(t, context.Background(), Env{}, "merge", dirs[0], dirs[2], "--out", out)
	if r.code != ExitInvalidScenario || !strings.Contains(r.stderr, "1 (devices 10-19)") {
		t.Errorf("missing shard: exit %d, want %d naming it:\n%s", r.code, ExitInvalidScenario, r.stderr)
	}
	r = run(t, context.Background(), Env{}, "merge", dirs[0], dirs[2], "--out", out, "--partial")
	if r.code != ExitRunFailed || !readSummaryFile(t, out).Partial {
		t.Errorf("--partial with a missing shard: exit %d, want %d and a partial summary:\n%s", r.code, ExitRunFailed, r.stderr)
	}
	r = run(t, context.Background(), Env{}, "merge", dirs[0], dirs[0], dirs[1], dirs[2], "--out", out)
	if r.code != ExitInvalidScenario || !strings.Contains(r.stderr, "given twice") {
		t.Errorf("duplicate shard: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, context.Background(), Env{}, "merge", filepath.Join(t.TempDir(), "nope"), "--out", out)
	if r.code != ExitInvalidScenario {
		t.Errorf("unreadable shard dir: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, context.Background(), Env{}, "merge", dirs[0]); r.code != ExitUsage {
		t.Errorf("no --out: exit %d", r.code)
	}
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, context.Background(), Env{}, append([]string{"merge", "--out", filepath.Join(blocked, "sub")}, dirs...)...); r.code != ExitOutput {
		t.Errorf("unwritable --out: exit %d\n%s", r.code, r.stderr)
	}
}
