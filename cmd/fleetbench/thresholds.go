package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/threshold"
)

// evaluateThresholds judges every threshold of the scenario against the
// finished summary, in scenario order. A metric the run did not measure
// (no samples, no consumer) fails its threshold with NoData set: a
// criterion on something never measured must not pass silently.
func evaluateThresholds(sc *scenario.Scenario, s *report.Summary) (results []report.ThresholdResult, allPassed bool) {
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

// monotone maps counter metrics that only ever grow during a run to their
// live value. A threshold on one of them with <, <= or == that is already
// exceeded can never pass again, so abort_on_fail may stop the run.
var monotone = map[string]func(report.Totals) float64{
	"connect.failed":      func(t report.Totals) float64 { return float64(t.ConnectFailed) },
	"publish.failed":      func(t report.Totals) float64 { return float64(t.Failed) },
	"publish.missed":      func(t report.Totals) float64 { return float64(t.Missed) },
	"publish.late":        func(t report.Totals) float64 { return float64(t.Late) },
	"devices.disconnects": func(t report.Totals) float64 { return float64(t.Disconnects) },
	"connect.refused_auth": func(t report.Totals) float64 {
		return float64(t.FailedBy[report.FailRefusedAuth])
	},
	"connect.refused_throttled": func(t report.Totals) float64 {
		return float64(t.FailedBy[report.FailRefusedThrottled])
	},
	"connect.timeout": func(t report.Totals) float64 { return float64(t.FailedBy[report.FailTimeout]) },
	"connect.tls":     func(t report.Totals) float64 { return float64(t.FailedBy[report.FailTLS]) },
	"connect.network": func(t report.Totals) float64 { return float64(t.FailedBy[report.FailNetwork]) },
}

// watchThresholds implements abort_on_fail: once AbortDelay has passed,
// every second it checks the thresholds that can already be known to have
// failed and calls abort with the reason. It returns when ctx ends.
func watchThresholds(ctx context.Context, sc *scenario.Scenario, rec *report.Recorder, start time.Time, abort func(reason string), log io.Writer) {
	type live struct {
		th   scenario.Threshold
		cond threshold.Cond
		val  func(report.Totals) float64
	}
	var watch []live
	for _, th := range sc.Thresholds {
		val, ok := monotone[th.Metric]
		if !ok {
			continue
		}
		c, err := threshold.Parse(th.Expr)
		if err != nil || !(c.Op == threshold.Less || c.Op == threshold.LessEq || c.Op == threshold.Equal) {
			continue
		}
		watch = append(watch, live{th, c, val})
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
			tot := rec.Totals()
			for _, w := range watch {
				// Past its bound a growing count fails for good (for ==,
				// only once it is above the value).
				if v := w.val(tot); !w.cond.Holds(v) && (w.cond.Op != threshold.Equal || v > w.cond.Value) {
					reason := fmt.Sprintf("threshold %s %s failed at %v (value %g): abort_on_fail stops the run", w.th.Metric, w.th.Expr, now.Sub(start).Round(time.Second), v)
					fmt.Fprintln(log, "fleetbench:", reason)
					abort(reason)
					return
				}
			}
		}
	}
}
