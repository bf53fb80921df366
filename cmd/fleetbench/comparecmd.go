package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/fleetbench/fleetbench/compare"
	"github.com/fleetbench/fleetbench/report"
)

// cmdCompare is `fleetbench compare BASE NEW [--max-regression M=L ...]
// [--format text|markdown|html|json]`: side-by-side percentiles and counters
// of two saved runs with a verdict per metric and overall. It exits
// ExitRegression when NEW is worse than BASE. BASE and NEW may be bucket
// URLs (docs/storage.md).
func cmdCompare(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("compare", "compare BASE_RUN NEW_RUN [--max-regression publish.p99=10% ...] [--format text|markdown|html]", env)
	var budgets stringList
	fs.Var(&budgets, "max-regression", "allowed regression of a metric: publish.p99=10% (relative) or =5ms (absolute); repeatable (default 10% and 100µs per latency family)")
	format := fs.String("format", "text", "output format: text, markdown or html")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 2 {
		fmt.Fprintln(env.Stderr, "fleetbench compare: give two run directories: BASE NEW")
		return ExitUsage
	}
	opts, err := compare.ParseOptions(budgets)
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench compare:", err)
		return ExitUsage
	}
	var runs [2]*report.Summary
	for i, arg := range pos {
		dir, cleanup, err := fetchRun(ctx, arg, env)
		defer cleanup()
		if err == nil {
			runs[i], err = readSummary(dir, env)
		}
		if err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench compare:", err)
			return ExitUsage
		}
	}
	base, cur := runs[0], runs[1]
	res, err := compare.Compare(base, cur, opts)
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench compare:", err)
		return ExitRunFailed
	}
	switch *format {
	case "text":
		err = compare.WriteText(env.Stdout, res, base, cur)
	case "markdown":
		err = compare.WriteMarkdown(env.Stdout, res, base, cur)
	case "html":
		err = compare.WriteHTML(env.Stdout, res, base, cur)
	default:
		fmt.Fprintf(env.Stderr, "fleetbench compare: unknown --format %q (text, markdown or html)\n", *format)
		return ExitUsage
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench compare:", err)
		return ExitRunFailed
	}
	if res.Verdict == compare.Worse {
		fmt.Fprintf(env.Stderr, "fleetbench compare: regression: %s\n", strings.Join(res.Regressions(), "; "))
		return ExitRegression
	}
	return ExitOK
}
