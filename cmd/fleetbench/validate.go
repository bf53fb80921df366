package main

import "fmt"

// cmdValidate is `fleetbench validate SCENARIO [--set path=value ...]`.
func cmdValidate(args []string, env Env) int {
	fs := newFlagSet("validate", "validate SCENARIO [--set path=value ...]", env)
	var sets stringList
	fs.Var(&sets, "set", "override a scenario value before validating (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench validate: give exactly one scenario file")
		return ExitUsage
	}
	sc, code := loadScenario(pos[0], sets, env)
	if sc == nil {
		return code
	}
	fmt.Fprintf(env.Stdout, "%s: valid — %d devices, %s target, %d publish stage(s), %v publish phase\n",
		pos[0], sc.Devices.Count, sc.Target.Kind, len(sc.Publish.Stages), sc.Duration)
	return ExitOK
}
