package main

import runlib "github.com/fleetbench/fleetbench/run" // the test helper is called run

// Exit codes. Documented in README.md; each class of outcome has its own so
// that a CI job can tell a regression from a broken setup.
const (
	ExitOK              = 0   // the run completed and every threshold passed
	ExitRunFailed       = 1   // the run completed with errors (failed connects or messages), or could not be carried out
	ExitUsage           = 2   // bad command line
	ExitInvalidScenario = 3   // the scenario file is missing, malformed or invalid
	ExitUnreachable     = 4   // no device could connect (target down, TLS not trusted, credentials refused), or the confirm consumer could not attach
	ExitThresholds      = 5   // the run completed but a threshold failed
	ExitRegression      = 6   // compare: the new run is worse than the base
	ExitOutput          = 7   // the run directory (--out) cannot be written: nothing ran, or the report went to a fallback directory, or its upload to a bucket URL failed (the local copy is kept)
	ExitPartial         = 8   // a sharded run lost a shard: the merged report covers the others and names it
	ExitNotFound        = 9   // capacity: no knee within the range (every step passed: capacity >= to; or the first failed: below from)
	ExitAborted         = 10  // capacity: a step reached an emergency bound (disconnect or error rate); the search stopped
	ExitInterrupted     = 130 // interrupted (Ctrl-C / SIGTERM); the partial report was written
)

// exitCode maps a run's outcome to its exit code.
func exitCode(o runlib.Outcome) int {
	switch o {
	case runlib.OK:
		return ExitOK
	case runlib.InvalidScenario:
		return ExitInvalidScenario
	case runlib.Unreachable:
		return ExitUnreachable
	case runlib.Thresholds:
		return ExitThresholds
	case runlib.Output:
		return ExitOutput
	case runlib.Interrupted:
		return ExitInterrupted
	case runlib.Partial:
		return ExitPartial
	}
	return ExitRunFailed
}
