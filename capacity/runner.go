package capacity

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/run"
	"github.com/fleetbench/fleetbench/scenario"
)

// RunSteps is the real StepRunner: each step is its own run (run.Run) of
// the scenario file with the user's overrides and the step's load, in
// OutDir/steps/NN-LOAD, kept whole (CO-corrected histograms, interval logs)
// so it can be re-reported, compared and merged as any run.
type RunSteps struct {
	File    string             // the scenario file
	Sets    []string           // the user's --set overrides
	Base    *scenario.Scenario // the loaded scenario (with its Search)
	OutDir  string
	Version string
	Env     run.Env // Stdout is replaced by io.Discard: each step's text summary is in its directory
}

// StepError is a step that could not be carried out.
type StepError struct {
	Outcome run.Outcome
	Load    float64
	Dir     string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("the step at %s ended %s (see %s)", strconv.FormatFloat(e.Load, 'f', -1, 64), e.Outcome, e.Dir)
}

// StepSets are the overrides that turn the scenario into the step at
// load: one stage of warmup+window at the load (publish.rate), the
// fleet size at the scenario's per-device rate (devices.count), or the
// connect rate with a fleet whose ramp lasts warmup+window
// (connect.rate). The search section and the thresholds are removed: the
// step is judged on its window by the search, not as a whole run.
func StepSets(base *scenario.Scenario, load float64) []string {
	sr := base.Search
	total := (sr.Warmup + sr.Window).String()
	sets := []string{"search=", "thresholds=", "abort_on_fail=", "abort_delay="}
	stage := func(rate float64) []string {
		return []string{"publish.start_rate=", "duration=",
			fmt.Sprintf("publish.stages=[{duration: %s, rate: %s}]", total, scenario.FormatRate(rate))}
	}
	switch sr.Dimension {
	case scenario.SearchPublishRate:
		sets = append(sets, stage(load)...)
	case scenario.SearchDevicesCount:
		perDevice := firstRate(base) / float64(base.Devices.Count)
		sets = append(sets, "devices.count="+strconv.Itoa(int(load)))
		sets = append(sets, stage(perDevice*load)...)
	case scenario.SearchConnectRate:
		n := int(math.Ceil(load * (sr.Warmup + sr.Window).Seconds()))
		sets = append(sets, "connect.rate="+scenario.FormatRate(load), "devices.count="+strconv.Itoa(max(n, 1)))
	}
	return sets
}

func firstRate(sc *scenario.Scenario) float64 {
	for _, st := range sc.Publish.Stages {
		if st.Rate > 0 {
			return st.Rate
		}
	}
	return 0
}

// Step runs and judges one step.
func (r *RunSteps) Step(ctx context.Context, i int, load float64) (Step, error) {
	sets := append(append([]string{}, r.Sets...), StepSets(r.Base, load)...)
	dir := filepath.Join(r.OutDir, "steps", fmt.Sprintf("%02d-%s", i+1, strconv.FormatFloat(load, 'f', -1, 64)))
	st := Step{Load: load, Dir: dir}
	sc, err := scenario.Load(r.File, sets)
	if err != nil {
		return st, fmt.Errorf("the step at %v: %w", load, err)
	}
	opts := run.Options{Scenario: sc, ScenarioFile: r.File, Overrides: sets, OutDir: dir, Version: r.Version}
	opts.ScenarioBytes, _ = r.Env.ReadFile(r.File)
	if opts.EffectiveScenario, err = scenario.Effective(r.File, opts.ScenarioBytes, sets); err != nil {
		return st, err
	}
	env := r.Env
	env.Stdout = io.Discard
	res := run.Run(ctx, opts, env)
	switch {
	case res.Summary == nil || res.Outcome == run.Interrupted || res.Outcome == run.Unreachable ||
		res.Outcome == run.InvalidScenario || res.Outcome == run.Output:
		return st, &StepError{Outcome: res.Outcome, Load: load, Dir: dir}
	}
	return Judge(r.Base, res.Summary, st)
}

// Judge computes a finished step's figures on its measured window and
// judges them by the base scenario's thresholds and emergency bounds.
func Judge(base *scenario.Scenario, s *report.Summary, st Step) (Step, error) {
	sr := base.Search
	warm := report.Ms(sr.Warmup)
	from, to := s.Run.ConnectPhaseMs+warm, s.Run.ConnectPhaseMs+s.Run.PublishPhaseMs
	if sr.Dimension == scenario.SearchConnectRate {
		from, to = warm, s.Run.ConnectPhaseMs
	}
	w, secs, err := s.Window(from, to)
	if err != nil {
		return st, err
	}
	st.WindowS = secs
	// The offered rate is the schedule's, not what fell due: a device
	// whose in-flight window is full (the hub holds its PUBACKs) reaches
	// its due messages late, so counting due would hide the shortfall.
	if offered := offeredRate(base, st.Load); offered > 0 && secs > 0 {
		w.Publish.TargetRate = offered
		w.Publish.RateRatio = w.Publish.AchievedRate / offered
	}
	st.Offered, st.Achieved, st.RateRatio = w.Publish.TargetRate, w.Publish.AchievedRate, w.Publish.RateRatio
	if w.Publish.Latency.Count > 0 {
		p50, p99 := w.Publish.Latency.P50Ms, w.Publish.Latency.P99Ms
		st.P50Ms, st.P99Ms = &p50, &p99
	}
	st.Errors = w.Publish.Failed + w.Connect.Failed
	st.Disconnects = w.Connect.Disconnects
	st.GeneratorLateMs = s.Publish.Lateness.P99Ms
	st.Thresholds, st.Passed = run.EvaluateThresholds(base, w)
	st.Emergency = emergency(sr, s)
	return st, nil
}

// offeredRate is the publish rate the step's schedule offers, msgs/s
// (0: the dimension does not set it).
func offeredRate(base *scenario.Scenario, load float64) float64 {
	switch base.Search.Dimension {
	case scenario.SearchPublishRate:
		return load
	case scenario.SearchDevicesCount:
		return firstRate(base) / float64(base.Devices.Count) * load
	}
	return 0
}

// emergency judges the whole step (warm-up included) against the
// emergency bounds and names the one it reached.
func emergency(sr *scenario.Search, s *report.Summary) string {
	secs := (s.Run.ConnectPhaseMs + s.Run.PublishPhaseMs) / 1000
	if sr.DisconnectRate > 0 && s.Config.Devices > 0 && secs > 0 {
		r := float64(s.Connect.Disconnects) / float64(s.Config.Devices) / secs
		if r >= sr.DisconnectRate {
			return fmt.Sprintf("disconnect rate %.2f%%/s of the devices reached the bound %.2f%%/s (%d dropped connections in %.0f s)",
				r*100, sr.DisconnectRate*100, s.Connect.Disconnects, secs)
		}
	}
	ops := s.Publish.Sent + s.Connect.Attempted
	if sr.ErrorRate > 0 && ops > 0 {
		errs := s.Publish.Failed + s.Connect.Failed
		if r := float64(errs) / float64(ops); r >= sr.ErrorRate {
			return fmt.Sprintf("error rate %.2f%% reached the bound %.2f%% (%d failed of %d publishes and connects)", r*100, sr.ErrorRate*100, errs, ops)
		}
	}
	return ""
}
