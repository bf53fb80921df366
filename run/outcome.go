package run

import (
	"errors"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/report"
)

// Outcome is how a run ended, from the most specific cause; the command
// line maps each to its documented exit code (cmd/fleetbench/exitcode.go).
type Outcome int

const (
	OK              Outcome = iota // the run completed and every threshold passed (or, without thresholds, nothing failed)
	RunFailed                      // the run completed with errors, or could not be carried out
	InvalidScenario                // the scenario or its environment must change (a missing key, an unreadable CA file)
	Unreachable                    // no device could connect, or the confirm consumer could not attach
	Thresholds                     // the run completed but a threshold failed
	Output                         // the run directory cannot be written: nothing ran, or the report went to a fallback directory
	Interrupted                    // ctx was cancelled (Ctrl-C); the partial report was written
	Partial                        // a sharded run lost a shard: the merged report covers the others and names it
)

var outcomeNames = [...]string{"ok", "run failed", "invalid scenario", "unreachable", "thresholds failed", "output", "interrupted", "partial"}

// String names the outcome ("thresholds failed").
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return "unknown"
	}
	return outcomeNames[o]
}

// judgeRun decides a finished run's outcome; the most specific wins. With
// thresholds, they are the verdict on the run's errors; without, any error
// fails the run (the reports' verdict, report.Summary.Verdict). aborted
// means abort_on_fail stopped the run (not the caller): its threshold
// decides, not the interruption it caused. An output problem is added by
// the caller after the report is written.
func judgeRun(runErr error, interrupted, aborted, hasThresholds, thresholdsPassed bool, s *report.Summary) Outcome {
	switch {
	case errors.Is(runErr, fleet.ErrTargetUnreachable):
		return Unreachable
	case interrupted && !aborted:
		return Interrupted
	case runErr != nil && !aborted:
		return RunFailed
	case hasThresholds && !thresholdsPassed:
		return Thresholds
	case !hasThresholds && !s.Verdict().Passed:
		return RunFailed
	}
	return OK
}
