// Package capacity is the capacity search of `fleetbench capacity`
// (docs/capacity.md): it runs the scenario at a rising load, one run per
// step on the open model, judges each step by the scenario's thresholds
// over the step's measured window, bisects between the last passing and
// the first failing step to a stated resolution, and stops at once when a
// step trips an emergency bound. Search holds the logic and takes the
// steps from a StepRunner (RunSteps, the real one, uses run.Run); the
// report files are written by Write.
package capacity
