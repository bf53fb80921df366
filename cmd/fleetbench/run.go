package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	runlib "github.com/fleetbench/fleetbench/run" // the test helper is called run
	"github.com/fleetbench/fleetbench/scenario"
)

// cmdRun is `fleetbench run SCENARIO [--out DIR] [--set path=value ...]`.
func cmdRun(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("run", "run SCENARIO [--out DIR] [--set path=value ...]", env)
	out := fs.String("out", "", "directory for the run's report (default runs/NAME-TIMESTAMP)")
	var sets stringList
	fs.Var(&sets, "set", "override a scenario value, e.g. --set devices.count=500 (repeatable)")
	progress := fs.Duration("progress", 5*time.Second, "interval of progress lines on stderr (0: none)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the generator to this file (to study its own overhead)")
	memProfile := fs.String("memprofile", "", "write the generator's allocation profile to this file at the end of the run")
	var sf shardFlags
	sf.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench run: give exactly one scenario file (e.g. fleetbench run scenarios/quickstart.yaml)")
		return ExitUsage
	}
	sc, code := loadScenario(pos[0], sets, env, true)
	if sc == nil {
		return code
	}
	opts := runlib.Options{Scenario: sc, ScenarioFile: pos[0], Overrides: sets, OutDir: *out, Progress: *progress, Version: version}
	opts.ScenarioBytes, _ = env.ReadFile(pos[0])
	if opts.EffectiveScenario, err = scenario.Effective(pos[0], opts.ScenarioBytes, sets); err != nil {
		fmt.Fprintln(env.Stderr, err) // Load accepted the same input: cannot happen
		return ExitInvalidScenario
	}
	if sf.sharded() {
		return sf.run(ctx, opts, env)
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(env.Stderr, "fleetbench run: --cpuprofile: %v\n", err)
			return ExitUsage
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintf(env.Stderr, "fleetbench run: --cpuprofile: %v\n", err)
			return ExitUsage
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer func() {
			pf, err := os.Create(*memProfile)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(pf, 0)
				pf.Close()
			}
			if err != nil {
				fmt.Fprintf(env.Stderr, "fleetbench run: --memprofile: %v\n", err)
			}
		}()
	}
	res := runlib.Run(ctx, opts, runlib.Env{
		Stdout: env.Stdout, Stderr: env.Stderr, LookupEnv: env.LookupEnv, ReadFile: env.ReadFile,
		FileLimit: env.FileLimit, PortRange: env.PortRange, Hostname: os.Hostname, OnPhase: env.onPhase,
	})
	return exitCode(res.Outcome)
}

// loadScenario loads and validates a scenario, printing every problem;
// onHost also checks it against this machine (checkOnHost).
func loadScenario(path string, sets []string, env Env, onHost bool) (*scenario.Scenario, int) {
	sc, err := scenario.Load(path, sets)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		if errors.Is(err, scenario.ErrNotFound) {
			return nil, ExitInvalidScenario
		}
		return nil, ExitInvalidScenario
	}
	for _, w := range sc.Warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	if !onHost {
		return sc, ExitOK
	}
	if code := checkOnHost(sc, env); code != ExitOK {
		return nil, code
	}
	return sc, ExitOK
}
