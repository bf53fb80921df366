package compare

import (
	"errors"
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/report"
)

// Result is a whole comparison, the one model every renderer reads. It is
// plain data: safe to read from many goroutines once Compare returns.
type Result struct {
	Families []Family      `json:"families"`           // latency families present in both runs, in a fixed order
	Counters []MetricDelta `json:"counters"`           // counters, ratios and rates non-zero in either run
	Verdict  Verdict       `json:"verdict"`            // Worse if any gating family or counter is Worse; see combine
	Warnings []string      `json:"warnings,omitempty"` // what makes the runs hard to compare; the scenario warning first
}

// Regressions names every gating family and counter whose verdict is
// Worse, families first: "publish", "connect.failed".
func (r *Result) Regressions() []string {
	var out []string
	for _, f := range r.Families {
		if f.Gating && f.Verdict == Worse {
			out = append(out, f.Name)
		}
	}
	for _, c := range r.Counters {
		if c.Verdict == Worse {
			out = append(out, c.Metric)
		}
	}
	return out
}

// Compare compares the new run against the base run. It never modifies
// either summary. It fails when o names an unknown metric or a stored
// histogram cannot be decoded (a damaged summary.json); a family or a
// counter section present in only one run becomes a warning.
//
// The overall verdict is Worse if any gating family or judged counter is
// Worse; else Better if any is Better; else Inconclusive if any gating
// family is; else Same.
func Compare(base, new *report.Summary, o Options) (*Result, error) {
	if base == nil || new == nil {
		return nil, errors.New("compare: both a base and a new summary are needed")
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	r := &Result{Warnings: scenarioWarnings(base, new)}
	var verdicts []Verdict
	for _, spec := range families {
		hb, err := histogram(base, spec.name, "base")
		if err != nil {
			return nil, err
		}
		hn, err := histogram(new, spec.name, "new")
		if err != nil {
			return nil, err
		}
		switch {
		case hb == nil && hn == nil:
			continue
		case hb == nil || hn == nil:
			which := "base"
			if hn != nil {
				which = "new"
			}
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s latency was measured only in the %s run: not compared", spec.name, which))
			continue
		}
		f := compareFamily(spec, hb, hn, o.familyBudget(spec.name))
		r.Families = append(r.Families, f)
		if f.Gating {
			verdicts = append(verdicts, f.Verdict)
		}
	}
	counters, warnings := compareCounters(base, new, o)
	r.Counters = counters
	r.Warnings = append(r.Warnings, warnings...)
	for _, c := range counters {
		verdicts = append(verdicts, c.Verdict)
	}
	r.Verdict = combine(verdicts...)
	return r, nil
}

// histogram returns the named histogram of s, or nil when s has none or
// it is empty.
func histogram(s *report.Summary, name, which string) (*hdrhistogram.Histogram, error) {
	if _, ok := s.Histograms[name]; !ok {
		return nil, nil
	}
	h, err := s.Histogram(name)
	if err != nil {
		return nil, fmt.Errorf("compare: %s run: %w (the summary.json is damaged: re-save it with fleetbench report --format json, or re-run)", which, err)
	}
	if h.TotalCount() == 0 {
		return nil, nil
	}
	return h, nil
}
