package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/output"
)

// cmdReport is `fleetbench report RUN_DIR [--format text|json]`: it
// re-renders a saved run from its summary.json. RUN_DIR may be a bucket
// URL (docs/storage.md).
func cmdReport(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("report", "report RUN_DIR [--format "+strings.Join(output.Formats(), "|")+"]", env)
	format := fs.String("format", "text", "output format: "+strings.Join(output.Formats(), ", "))
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench report: give exactly one run directory (the --out of a run)")
		return ExitUsage
	}
	dir, cleanup, err := fetchRun(ctx, pos[0], env)
	defer cleanup()
	var s *report.Summary
	if err == nil {
		s, err = readSummary(dir, env)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench report:", err)
		return ExitUsage
	}
	if !slices.Contains(output.Formats(), *format) {
		fmt.Fprintf(env.Stderr, "fleetbench report: unknown --format %q (one of %s)\n", *format, strings.Join(output.Formats(), ", "))
		return ExitUsage
	}
	if err := output.Render(env.Stdout, s, *format); err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench report:", err)
		return ExitRunFailed
	}
	return ExitOK
}

// readSummary loads RUN_DIR/summary.json (or a summary.json path).
func readSummary(path string, env Env) (*report.Summary, error) {
	file := path
	if filepath.Ext(path) != ".json" {
		file = filepath.Join(path, "summary.json")
	}
	b, err := env.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w (is %s a run directory?)", file, err, path)
	}
	s, err := report.ReadJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}
