package capacity

import (
	"context"
	"math"
)

// Plan is what a search varies and how far: loads in the dimension's unit.
type Plan struct {
	From, To   float64
	Factor     float64 // > 1: multiply the load each step; 0: add Add
	Add        float64
	Resolution float64 // stop bisecting when first failing / last passing - 1 <= Resolution
	MaxSteps   int     // most steps in all, bisection included
	Whole      bool    // loads are counts (devices): rounded to whole numbers
}

// StepRunner runs one step at a load and judges it. i counts the steps
// from 0. An error means the step could not be carried out or judged
// (target unreachable, interrupted): the search stops and reports it.
type StepRunner interface {
	Step(ctx context.Context, i int, load float64) (Step, error)
}

// Outcome is how a search ended.
type Outcome string

const (
	Found      Outcome = "found"       // a step passed and a higher one failed: the knee lies between
	AboveRange Outcome = "above_range" // every step up to `to` passed: the capacity is at least `to`
	BelowRange Outcome = "below_range" // the first step failed: the capacity is below `from`
	Aborted    Outcome = "aborted"     // a step tripped an emergency bound: the search stopped there
	Failed     Outcome = "failed"      // a step could not be carried out (Err says why)
)

// Result is a search's findings. Steps are in the order they ran.
type Result struct {
	Outcome Outcome
	Steps   []Step
	Knee    *Step // the highest load that passed; nil when none did
	Next    *Step // the lowest load that failed (or aborted); nil when none did
	// Resolved is true when Next/Knee - 1 <= the resolution (Found only);
	// false when max_steps ran out first.
	Resolved bool
	Err      error // Failed: why the step could not run
}

// Search carries out the plan with run: steps rise from From (by Factor
// or Add, the last clamped to To) until one fails, then bisect (geometric
// mean) between the last passing and the first failing load until they
// are within Resolution, at most MaxSteps steps in all. A step that trips
// an emergency bound stops the search at once: no higher load is tried.
func Search(ctx context.Context, p Plan, run StepRunner) Result {
	var res Result
	step := func(load float64) (Step, bool) {
		s, err := run.Step(ctx, len(res.Steps), load)
		if err != nil {
			res.Outcome, res.Err = Failed, err
			return s, false
		}
		res.Steps = append(res.Steps, s)
		return s, true
	}
	var pass, fail *Step
	load := p.round(p.From)
	for {
		if len(res.Steps) >= p.MaxSteps {
			break
		}
		s, ok := step(load)
		if !ok {
			return res.finish(pass, fail)
		}
		if s.Emergency != "" {
			res.Outcome = Aborted
			return res.finish(pass, &s)
		}
		if !s.Passed {
			fail = &s
			break
		}
		pass = &s
		if load >= p.To {
			res.Outcome = AboveRange
			return res.finish(pass, nil)
		}
		load = min(p.round(p.next(load)), p.To)
	}
	switch {
	case pass == nil && fail != nil:
		res.Outcome = BelowRange
		return res.finish(nil, fail)
	case fail == nil: // max_steps ran out while every step passed
		res.Outcome = AboveRange
		return res.finish(pass, nil)
	}
	for fail.Load/pass.Load-1 > p.Resolution && len(res.Steps) < p.MaxSteps {
		mid := p.round(math.Sqrt(pass.Load * fail.Load))
		if mid <= pass.Load || mid >= fail.Load {
			break // whole loads: nothing left between them
		}
		s, ok := step(mid)
		if !ok {
			return res.finish(pass, fail)
		}
		if s.Emergency != "" {
			res.Outcome = Aborted
			return res.finish(pass, &s)
		}
		if s.Passed {
			pass = &s
		} else {
			fail = &s
		}
	}
	res.Outcome = Found
	res.Resolved = fail.Load/pass.Load-1 <= p.Resolution || p.Whole && fail.Load-pass.Load <= 1
	return res.finish(pass, fail)
}

func (r Result) finish(pass, fail *Step) Result {
	r.Knee, r.Next = pass, fail
	return r
}

func (p Plan) next(load float64) float64 {
	if p.Factor > 1 {
		return load * p.Factor
	}
	return load + p.Add
}

// round makes a load whole for count dimensions; rates keep 0.1/s.
func (p Plan) round(load float64) float64 {
	if p.Whole {
		return math.Round(load)
	}
	return math.Round(load*10) / 10
}
