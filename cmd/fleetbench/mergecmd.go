package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/output"
	runlib "github.com/fleetbench/fleetbench/run"
	"github.com/fleetbench/fleetbench/store"
)

// cmdMerge is `fleetbench merge SHARD_DIR... --out DIR [--partial]`: it
// merges the summaries of a sharded run's shard directories (report.Merge)
// and writes every rendering of the merged run into --out.
//
// Exit codes: 0 merged; 1 merged with --partial but shards were missing
// (the figures cover part of the fleet); 2 usage; 3 a shard directory is
// unreadable or the shards do not belong together; 7 --out not writable.
// The shard directories are left as they are, so a failed write is
// repaired by merging again. Shard directories and --out may be bucket
// URLs (docs/storage.md): a merged run bound for a bucket is written to a
// temporary directory first (--local DIR to choose it) and uploaded; a
// failed upload keeps it there and exits 7.
func cmdMerge(ctx context.Context, args []string, env Env) int {
	fset := newFlagSet("merge", "merge SHARD_DIR... --out DIR [--partial]", env)
	out := fset.String("out", "", "directory to write the merged run into (required)")
	partial := fset.Bool("partial", false, "merge even when shards are missing; the result is marked partial and names them")
	local := fset.String("local", "", "with --out a bucket URL: the local directory to write the merged run into before the upload (default: a temporary one)")
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return flagExit(fset, err, env)
	}
	if len(pos) == 0 || *out == "" {
		fmt.Fprintln(env.Stderr, "fleetbench merge: give the shard run directories and --out DIR")
		return ExitUsage
	}
	var shards []*report.Summary
	for _, arg := range pos {
		dir, cleanup, err := fetchRun(ctx, arg, env)
		defer cleanup()
		var s *report.Summary
		if err == nil {
			s, err = readSummary(dir, env)
		}
		if err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench merge:", err)
			return ExitInvalidScenario
		}
		shards = append(shards, s)
	}
	merged, err := report.MergeWith(shards, report.MergeOptions{AllowPartial: *partial})
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench", err)
		return ExitInvalidScenario
	}
	outDir, temp := *out, false
	if store.IsURL(*out) {
		if outDir, temp, err = localFor(*out, *local); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench merge: --out:", err)
			return ExitUsage
		}
	}
	merged.Run.ID = filepath.Base(filepath.Clean(outDir))
	_, err = runlib.ClearOwnFiles(outDir)
	if err == nil {
		err = output.WriteAll(outDir, merged)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench merge: writing %s: %v (the shard directories are untouched: merge again into a writable --out)\n", outDir, err)
		return ExitOutput
	}
	if outDir != *out && publishRunDir(ctx, outDir, *out, temp, env) != nil {
		return ExitOutput
	}
	fmt.Fprintf(env.Stdout, "merged %d shards into %s\n", len(merged.Shards), *out)
	if merged.Partial {
		fmt.Fprintf(env.Stderr, "fleetbench merge: partial result: %d of %d shards missing (see missing_shards in %s)\n",
			len(merged.MissingShards), len(merged.MissingShards)+len(merged.Shards), filepath.Join(*out, "summary.json"))
		return ExitRunFailed
	}
	return ExitOK
}
