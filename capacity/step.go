package capacity

import "github.com/fleetbench/fleetbench/report"

// Step is one step's figures, all over its measured window unless said
// otherwise (docs/capacity.md, "capacity.json").
type Step struct {
	Load      float64 `json:"load"`       // the dimension's value: msgs/s, devices or connects/s
	Dir       string  `json:"dir"`        // the step's run directory (its own full report)
	WindowS   float64 `json:"window_s"`   // seconds of the measured window covered by series points
	Offered   float64 `json:"offered"`    // msgs/s the step's schedule offers (publish dimensions; else what fell due)
	Achieved  float64 `json:"achieved"`   // msgs/s sent in the window
	RateRatio float64 `json:"rate_ratio"` // achieved / offered
	// Publish latency (corrected for coordinated omission, PUBACKs from
	// the window's start to the run's end), milliseconds; nil without
	// samples.
	P50Ms *float64 `json:"p50_ms"`
	P99Ms *float64 `json:"p99_ms"`
	// Errors are failed publishes and failed connects in the window.
	Errors      int64 `json:"errors"`
	Disconnects int64 `json:"disconnects"` // dropped connections in the window
	// Thresholds is every threshold judged on the window (metrics that
	// report.Windowed leaves whole-step are judged on the whole step).
	Thresholds []report.ThresholdResult `json:"thresholds"`
	Passed     bool                     `json:"passed"`
	// Emergency names the emergency bound the step tripped ("" none):
	// judged over the whole step, warm-up included.
	Emergency string `json:"emergency,omitempty"`
	// GeneratorLateMs is the scheduler lateness p99 of the whole step,
	// ms: how late the generator itself sent. Large beside the latency
	// bound means the machine, not the target, may have set the knee.
	GeneratorLateMs float64 `json:"generator_late_p99_ms"`
}

// Failures lists the step's failed thresholds as "metric expr (value)".
func (s Step) Failures() []string {
	var out []string
	for _, th := range s.Thresholds {
		if th.Passed {
			continue
		}
		v := report.FormatMetric(th.Metric, th.Value)
		if th.NoData {
			v = "no data"
		}
		out = append(out, th.Metric+" "+th.Expr+" (was "+v+")")
	}
	return out
}
