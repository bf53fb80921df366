package run

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/threshold"
)

// EvaluateThresholds judges every threshold of the scenario against the
// finished summary, in scenario order. A metric the run did not measure
// (no samples, no consumer) fails its threshold with NoData set: a
// criterion on something never measured must not pass silently.
func EvaluateThresholds(sc *scenario.Scenario, s *report.Summary) (results []report.ThresholdResult, allPassed bool) {
	allPassed = true
	for _, th := range sc.Thresholds {
		r := report.ThresholdResult{Metric: th.Metric, Expr: th.Expr}
		cond, err := threshold.Parse(th.Expr)
		v, ok := s.Metric(th.Metric)
		switch {
		case err != nil: // validated at load; cannot happen
			r.NoData = true
		case !ok:
			r.NoData = true
		default:
			r.Value = v
			r.Passed = cond.Holds(v)
		}
		allPassed = allPassed && r.Passed
		results = append(results, r)
	}
	return results, allPassed
}

// liveCounter returns how to read a metric during the run when it is a
// count that only grows (report.MetricDef.Monotone): a threshold on one
// with <, <= or == that is already exceeded can never pass again, so
// abort_on_fail may stop the run.
func liveCounter(name string) (func(report.Totals) float64, bool) {
	m, ok := report.LookupMetric(name)
	if !ok || !m.Monotone || m.Live == nil {
		return nil, false
	}
	return m.Live, true
}

// minTailSamples is how many samples must lie above a quantile before
// abort_on_fail judges it on the running histogram. With fewer, the
// estimate rests on a handful of values: one slow message (a retransmit, a
// GC pause, the first connect's handshake) would move it past its bound
// and stop a run that would have passed. Ten keeps the estimate's own
// spread small beside typical bounds while still deciding early: p50 is
// judged from 20 samples, p90 from 100, p99 from 1,000, p99.9 from 10,000.
// A max needs one sample: past its bound, it never comes back.
const minTailSamples = 10

// minSamples is the sample count from which quantile q (percent) is
// judged during the run.
func minSamples(q float64) int64 {
	if q >= 100 {
		return 1
	}
	return int64(math.Ceil(minTailSamples/(1-q/100) - 1e-6)) // 1e-6: 10/(1-0.9) is 100.00000000000001 in floating point
}

// runningLatencies is where live latency values come from: the
// Recorder's running histograms, or a fake feed in tests.
type runningLatencies interface {
	RunningLatency(name string) (seconds float64, samples int64, quantile float64, ok bool)
}

// liveCheck is one threshold that abort_on_fail judges while the run goes
// on: a growing count past its bound, or a latency over its bound on
// enough samples.
type liveCheck struct {
	th      scenario.Threshold
	cond    threshold.Cond
	counter func(report.Totals) float64 // nil for a latency metric
}

// liveChecks selects the thresholds that can be judged during the run;
// the others (e2e latency, mean and min, ratios, lower bounds on a
// latency) are judged at the end only, and are returned by name.
func liveChecks(sc *scenario.Scenario, lat runningLatencies) (checks []liveCheck, endOnly []string) {
	for _, th := range sc.Thresholds {
		c, err := threshold.Parse(th.Expr)
		upper := err == nil && (c.Op == threshold.Less || c.Op == threshold.LessEq)
		if val, ok := liveCounter(th.Metric); ok && (upper || (err == nil && c.Op == threshold.Equal)) {
			checks = append(checks, liveCheck{th: th, cond: c, counter: val})
			continue
		}
		if _, _, _, ok := lat.RunningLatency(th.Metric); ok && upper {
			checks = append(checks, liveCheck{th: th, cond: c})
			continue
		}
		endOnly = append(endOnly, th.Metric+" "+th.Expr)
	}
	return checks, endOnly
}

// judge returns the first live check that has failed, as a reason to
// abort, or "" when none has.
func judge(checks []liveCheck, tot report.Totals, lat runningLatencies) string {
	for _, w := range checks {
		if w.counter != nil {
			// Past its bound a growing count fails for good (for ==,
			// only once it is above the value).
			if v := w.counter(tot); !w.cond.Holds(v) && (w.cond.Op != threshold.Equal || v > w.cond.Value) {
				return fmt.Sprintf("threshold %s %s failed (value %g)", w.th.Metric, w.th.Expr, v)
			}
			continue
		}
		v, n, q, _ := lat.RunningLatency(w.th.Metric)
		if n >= minSamples(q) && !w.cond.Holds(v) {
			return fmt.Sprintf("threshold %s %s failed on the first %d samples (value %s)",
				w.th.Metric, w.th.Expr, n, time.Duration(v*float64(time.Second)).Round(time.Microsecond))
		}
	}
	return ""
}

// watchThresholds implements abort_on_fail: once AbortDelay has passed,
// every second it judges the thresholds that can be judged during the run
// (liveChecks, judge) and calls abort with the reason of the first that
// failed. It returns when ctx ends.
func watchThresholds(ctx context.Context, sc *scenario.Scenario, rec *report.Recorder, start time.Time, abort func(reason string), log io.Writer) {
	watch, endOnly := liveChecks(sc, rec)
	if len(endOnly) > 0 {
		fmt.Fprintf(log, "fleetbench: abort_on_fail judges %s at the end of the run only (not counts or latencies it can judge while running)\n",
			strings.Join(endOnly, ", "))
	}
	if len(watch) == 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(start) < sc.AbortDelay {
				continue
			}
			if reason := judge(watch, rec.Totals(), rec); reason != "" {
				reason += fmt.Sprintf(" at %v: abort_on_fail stops the run", now.Sub(start).Round(time.Second))
				fmt.Fprintln(log, "fleetbench:", reason)
				abort(reason)
				return
			}
		}
	}
}
