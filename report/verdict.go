package report

import (
	"fmt"
	"strconv"
	"strings"
)

// Verdict is a run's pass/fail outcome as the CI outputs (JUnit, Markdown,
// HTML) present it.
//
// With thresholds, the run passes when every threshold passed. Without
// thresholds, it passes when it "completed without errors": no failed
// connection attempt, no failed, missed or unacknowledged publish, no lost
// or duplicated message (with a consumer) and no interruption. `fleetbench
// run` exits non-zero exactly when this fails (for a run without
// thresholds), so the reports and the exit code always agree.
type Verdict struct {
	Passed bool
	// Thresholds and Failed count the thresholds and the failed ones; 0
	// and 0 when the scenario has none.
	Thresholds, Failed int
	// Problems lists why a run without thresholds failed, one phrase each
	// ("2 connection attempts failed"); empty when it passed or has
	// thresholds.
	Problems []string
}

// NoThresholdsCase is the name of the single check reported for a run
// whose scenario has no thresholds.
const NoThresholdsCase = "run completed without errors"

// Verdict computes the run's outcome; see [Verdict]. Safe for concurrent
// use with other readers of s.
func (s *Summary) Verdict() Verdict {
	v := Verdict{Thresholds: len(s.Thresholds)}
	if v.Thresholds > 0 {
		for _, th := range s.Thresholds {
			if !th.Passed {
				v.Failed++
			}
		}
		v.Passed = v.Failed == 0
		return v
	}
	add := func(n int64, one, many string) {
		if n > 0 {
			what := many
			if n == 1 {
				what = one
			}
			v.Problems = append(v.Problems, fmtCount(n)+" "+what)
		}
	}
	add(s.Connect.Failed, "connection attempt failed", "connection attempts failed")
	add(s.Publish.Failed, "publish failed", "publishes failed")
	add(s.Publish.Missed, "message missed its send time", "messages missed their send time")
	add(s.Publish.Unacked, "message never acknowledged", "messages never acknowledged")
	if s.Delivery != nil {
		add(s.Delivery.Lost, "message lost", "messages lost")
		add(s.Delivery.Duplicates, "message duplicated", "messages duplicated")
	}
	if s.Interrupted {
		v.Problems = append(v.Problems, "the run was interrupted before its planned end")
	}
	v.Passed = len(v.Problems) == 0
	return v
}

// Headline is the verdict in a few words: "all 3 thresholds passed",
// "2 of 3 thresholds failed", "completed without errors" or "failed: 2
// connection attempts failed, 5 messages missed their send time".
func (v Verdict) Headline() string {
	switch {
	case v.Thresholds > 0 && v.Failed == 0:
		if v.Thresholds == 1 {
			return "the threshold passed"
		}
		return fmt.Sprintf("all %d thresholds passed", v.Thresholds)
	case v.Thresholds > 0:
		return fmt.Sprintf("%d of %d thresholds failed", v.Failed, v.Thresholds)
	case v.Passed:
		return "completed without errors"
	default:
		return "failed: " + strings.Join(v.Problems, ", ")
	}
}

// ThresholdMessage explains a threshold result in one line, e.g.
// "delivery.ratio = 98.64% (0.986395), want > 0.999" or "publish.p99: no
// data in this run, want < 50ms".
func ThresholdMessage(th ThresholdResult) string {
	if th.NoData {
		return fmt.Sprintf("%s: no data in this run, want %s", th.Metric, th.Expr)
	}
	shown, raw := fmtMetric(th.Metric, th.Value), strconv.FormatFloat(th.Value, 'g', 6, 64)
	if shown != raw {
		shown += " (" + raw + ")"
	}
	return fmt.Sprintf("%s = %s, want %s", th.Metric, shown, th.Expr)
}
