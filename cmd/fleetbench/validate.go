package main

import (
	"fmt"
	"runtime"

	"github.com/fleetbench/fleetbench/scenario"
)

// cmdValidate is `fleetbench validate SCENARIO [--set path=value ...]`.
func cmdValidate(args []string, env Env) int {
	fs := newFlagSet("validate", "validate SCENARIO [--set path=value ...] [--file-only]", env)
	var sets stringList
	fs.Var(&sets, "set", "override a scenario value before validating (repeatable)")
	fileOnly := fs.Bool("file-only", false, "check the file alone, not this machine's key variables, key and CA files and processors (e.g. in CI without the secrets)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench validate: give exactly one scenario file")
		return ExitUsage
	}
	sc, code := loadScenario(pos[0], sets, env, !*fileOnly)
	if sc == nil {
		return code
	}
	fmt.Fprintf(env.Stdout, "%s: valid — %d devices, %s target, %d publish stage(s), %v publish phase\n",
		pos[0], sc.Devices.Count, sc.Target.Kind, len(sc.Publish.Stages), sc.Duration)
	return ExitOK
}

// checkOnHost checks a loaded scenario against this machine
// (scenario.Check: key variables, key, CA and certificate files, rates),
// prints its warnings and problems, and returns ExitOK or
// ExitInvalidScenario.
func checkOnHost(sc *scenario.Scenario, env Env) int {
	warnings, err := sc.Check(scenario.Host{LookupEnv: env.LookupEnv, ReadFile: env.ReadFile, CPUs: runtime.GOMAXPROCS(0)})
	for _, w := range warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return ExitInvalidScenario
	}
	return ExitOK
}
