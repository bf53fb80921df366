package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"time"

	runlib "github.com/fleetbench/fleetbench/run" // the test helper is called run
	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/store"
)

// cmdRun is `fleetbench run SCENARIO [--out DIR] [--set path=value ...]`.
func cmdRun(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("run", "run SCENARIO [--out DIR] [--set path=value ...]", env)
	out := fs.String("out", "", "directory for the run's report (default runs/NAME-TIMESTAMP), or a bucket URL to upload it to (docs/storage.md)")
	local := fs.String("local", "", "with --out a bucket URL: the local run directory written before the upload and kept after it (default: a temporary one, removed once uploaded)")
	var sets stringList
	fs.Var(&sets, "set", "override a scenario value, e.g. --set devices.count=500 (repeatable)")
	progress := fs.Duration("progress", 5*time.Second, "interval of progress lines on stderr (0: none)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the generator to this file (to study its own overhead)")
	memProfile := fs.String("memprofile", "", "write the generator's allocation profile to this file at the end of the run")
	var sf shardFlags
	sf.register(fs)
	metricsAddr := fs.String("metrics-addr", "", "serve live Prometheus metrics at http://ADDR/metrics during the run (e.g. :9464, or 127.0.0.1:0 for any free port; docs/metrics.md)")
	metricsLinger := fs.Duration("metrics-linger", 0, "with --metrics-addr: keep serving the final figures this long after the report is written, for a last scrape")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench run: give exactly one scenario file (e.g. fleetbench run scenarios/quickstart.yaml)")
		return ExitUsage
	}
	if *metricsAddr != "" {
		if _, _, err := net.SplitHostPort(*metricsAddr); err != nil {
			fmt.Fprintf(env.Stderr, "fleetbench run: --metrics-addr %q: want host:port, e.g. :9464 or 127.0.0.1:9464\n", *metricsAddr)
			return ExitUsage
		}
	}
	sc, code := loadScenario(pos[0], sets, env, true)
	if sc == nil {
		return code
	}
	outDir, upload, temp, err := runOutDir(*out, *local)
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench run: --out:", err)
		return ExitUsage
	}
	opts := runlib.Options{Scenario: sc, ScenarioFile: pos[0], Overrides: sets, OutDir: outDir, Progress: *progress, Version: version,
		MetricsAddr: *metricsAddr}
	opts.ScenarioBytes, _ = env.ReadFile(pos[0])
	if opts.EffectiveScenario, err = scenario.Effective(pos[0], opts.ScenarioBytes, sets); err != nil {
		fmt.Fprintln(env.Stderr, err) // Load accepted the same input: cannot happen
		return ExitInvalidScenario
	}
	onMetricsFinal := func(addr string) { lingerForScrape(ctx, addr, *metricsLinger, env) }
	if sf.sharded() {
		// A shard uploads its shard directory, a coordinator the merged
		// run (with its shards/ below it), as a single run would.
		code := sf.run(ctx, opts, env, onMetricsFinal)
		if upload != "" {
			if publishRunDir(context.WithoutCancel(ctx), outDir, upload, temp, env) != nil && code == ExitOK {
				code = ExitOutput
			}
		}
		return code
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
		OnMetricsFinal: onMetricsFinal,
	})
	code = exitCode(res.Outcome)
	if upload != "" && res.Dir != "" {
		// The upload ignores ctx's cancellation: an interrupted run's
		// partial report is uploaded all the same (a second Ctrl-C exits).
		if publishRunDir(context.WithoutCancel(ctx), res.Dir, upload, temp, env) != nil && code == ExitOK {
			code = ExitOutput
		}
	}
	return code
}

// runOutDir resolves --out: a directory is the run directory; a bucket
// URL gives a local directory (--local, or a temporary one: temp) and the
// URL to upload it to.
func runOutDir(out, local string) (dir, upload string, temp bool, err error) {
	if !store.IsURL(out) {
		return out, "", false, nil
	}
	dir, temp, err = localFor(out, local)
	return dir, out, temp, err
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

// lingerForScrape keeps the metrics server up for linger after the report
// is written (or until ctx ends: an interrupted run does not linger), so
// that Prometheus can take the final figures.
func lingerForScrape(ctx context.Context, addr string, linger time.Duration, env Env) {
	if env.onMetricsFinal != nil {
		env.onMetricsFinal(addr)
	}
	if linger <= 0 {
		return
	}
	fmt.Fprintf(env.Stderr, "fleetbench: serving the final metrics for %s more\n", linger)
	t := time.NewTimer(linger)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
