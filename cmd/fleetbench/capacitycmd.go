package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fleetbench/fleetbench/capacity"
	runlib "github.com/fleetbench/fleetbench/run"
	"github.com/fleetbench/fleetbench/scenario"
)

// cmdCapacity is `fleetbench capacity SCENARIO [--out DIR] [--set ...]`:
// the capacity search of the scenario's search section (docs/capacity.md).
func cmdCapacity(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("capacity", "capacity SCENARIO [--out DIR] [--set path=value ...]", env)
	out := fs.String("out", "", "directory for the search: capacity.json, .md, .html and steps/NN-LOAD/ (default runs/NAME-capacity-TIMESTAMP)")
	var sets stringList
	fs.Var(&sets, "set", "override a scenario value, e.g. --set search.to=8000/s (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench capacity: give exactly one scenario file with a search section (docs/capacity.md)")
		return ExitUsage
	}
	sc, code := loadScenario(pos[0], sets, env, true)
	if sc == nil {
		return code
	}
	if sc.Search == nil {
		fmt.Fprintf(env.Stderr, "%s: no search section: add one, e.g. search: {dimension: publish.rate, from: 500/s, to: 20000/s} (docs/capacity.md)\n", pos[0])
		return ExitInvalidScenario
	}
	// The plan check of the top step: what the highest load would exceed.
	if top, err := scenario.Load(pos[0], append(append([]string{}, sets...), capacity.StepSets(sc, sc.Search.To)...)); err == nil {
		for _, w := range top.Warnings {
			fmt.Fprintf(env.Stderr, "warning: at the top step (%g %s): %s\n", sc.Search.To, sc.Search.Unit(), w)
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", sc.Name+"-capacity-"+time.Now().UTC().Format("20060102-150405"))
	}
	sr := sc.Search
	plan := capacity.Plan{From: sr.From, To: sr.To, Factor: sr.Factor, Add: sr.Add, Resolution: sr.Resolution, MaxSteps: sr.MaxSteps,
		Whole: sr.Dimension == scenario.SearchDevicesCount}
	steps := &capacity.RunSteps{File: pos[0], Sets: sets, Base: sc, OutDir: dir, Version: version,
		Env: runlib.Env{Stderr: env.Stderr, LookupEnv: env.LookupEnv, ReadFile: env.ReadFile, FileLimit: env.FileLimit,
			PortRange: env.PortRange, Hostname: os.Hostname, OnPhase: env.onPhase}}
	res := capacity.Search(ctx, plan, steps)
	rep := capacity.NewReport(sc, res)
	if err := rep.WriteText(env.Stdout); err != nil {
		return ExitOutput
	}
	if err := rep.Write(dir); err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench capacity: cannot write the report in %s: %v\n", dir, err)
		return ExitOutput
	}
	fmt.Fprintf(env.Stdout, "report: %s\n", filepath.Join(dir, "capacity.html"))
	return capacityExit(res)
}

// capacityExit maps a search's outcome to its exit code.
func capacityExit(res capacity.Result) int {
	switch res.Outcome {
	case capacity.Found:
		return ExitOK
	case capacity.AboveRange, capacity.BelowRange:
		return ExitNotFound
	case capacity.Aborted:
		return ExitAborted
	}
	var se *capacity.StepError
	if errors.As(res.Err, &se) {
		return exitCode(se.Outcome)
	}
	if errors.Is(res.Err, scenario.ErrNotFound) {
		return ExitInvalidScenario
	}
	return ExitRunFailed
}
