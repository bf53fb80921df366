package main

import (
	"testing"

	runlib "github.com/fleetbench/fleetbench/run"
)

// Each outcome of a run has its own documented exit code.
func TestEveryRunOutcomeHasItsExitCode(t *testing.T) {
	want := map[runlib.Outcome]int{
		runlib.OK: ExitOK, runlib.RunFailed: ExitRunFailed, runlib.InvalidScenario: ExitInvalidScenario,
		runlib.Unreachable: ExitUnreachable, runlib.Thresholds: ExitThresholds, runlib.Output: ExitOutput,
		runlib.Interrupted: ExitInterrupted,
	}
	for o := runlib.OK; o <= runlib.Interrupted; o++ {
		code, ok := want[o]
		if !ok || exitCode(o) != code {
			t.Errorf("outcome %v: exit %d, want %d", o, exitCode(o), code)
		}
	}
}
