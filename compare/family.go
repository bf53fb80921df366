package compare

import (
	"fmt"
	"slices"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/report"
)

// MetricDelta is one metric side by side. Latencies are in seconds (as
// [report.Summary.Metric] returns them), counts as counts, ratios in [0,1],
// rates per second.
//
// In a latency family's rows, Verdict says only whether this quantile by
// itself moved beyond the family's budget (Worse up, Better down); it is
// not significance-tested and the family's Verdict is what counts. For a
// counter, Verdict is the counter's judged verdict.
type MetricDelta struct {
	Metric   string  `json:"metric"`         // e.g. "publish.p99", "connect.failed"
	Base     float64 `json:"base"`           // value in the base run
	New      float64 `json:"new"`            // value in the new run
	Delta    float64 `json:"delta"`          // New - Base
	Relative float64 `json:"relative"`       // Delta / Base (latencies: Base floored at 1µs; counters: 0 when Base is 0)
	Verdict  Verdict `json:"verdict"`        // see the type's doc
	Note     string  `json:"note,omitempty"` // why, for a reader
}

// Family is the comparison of one latency distribution present in both
// runs.
type Family struct {
	Name     string        `json:"name"`            // histogram name: connect, publish, publish_uncorrected, e2e, e2e_device_to_hub, lateness, reconnect, recovery
	Title    string        `json:"title"`           // what it measures
	Gating   bool          `json:"gating"`          // whether Verdict counts toward the overall verdict (false for lateness)
	Rows     []MetricDelta `json:"rows"`            // p50 p75 p90 p95 p99 p99.9 max
	Verdict  Verdict       `json:"verdict"`         // the family's verdict
	Evidence string        `json:"evidence"`        // one line: band shift and test, e.g. "shift across p50–p99: +42% ...; KS D=0.310 p<0.001 ..."
	Notes    []string      `json:"notes,omitempty"` // why the verdict is what it is, and tail quantiles that rose beyond budget
	Budget   Budget        `json:"budget"`          // the budget applied to the band

	BaseCount int64   `json:"base_count"`  // values in the base run's histogram
	NewCount  int64   `json:"new_count"`   // values in the new run's histogram
	Shift     float64 `json:"shift"`       // median relative shift over the band p50..p99
	ShiftAbs  float64 `json:"shift_abs_s"` // median absolute shift over the band, seconds
	KSD       float64 `json:"ks_d"`        // Kolmogorov–Smirnov distance of the two distributions
	KSP       float64 `json:"ks_p"`        // its p-value at the effective sample sizes (see EffectiveSampleCap)
}

// unitSeconds converts a histogram value to seconds.
var unitSeconds = report.HistogramUnit.Seconds()

// compareFamily judges one latency distribution; hb and hn are non-empty.
func compareFamily(spec familySpec, hb, hn *hdrhistogram.Histogram, budget Budget) Family {
	f := Family{
		Name: spec.name, Title: spec.title, Gating: spec.gating, Budget: budget,
		BaseCount: hb.TotalCount(), NewCount: hn.TotalCount(),
	}
	var rel, abs []float64
	var tail []string
	for _, q := range rowQuantiles {
		vb, vn := valueAt(hb, q.q), valueAt(hn, q.q)
		r := relShift(vb, vn)
		row := MetricDelta{Metric: spec.name + "." + q.label, Base: vb, New: vn, Delta: vn - vb, Relative: r}
		switch {
		case budget.exceeded(r, vn-vb, +1):
			row.Verdict = Worse
		case budget.exceeded(r, vn-vb, -1):
			row.Verdict = Better
		}
		if q.band {
			rel, abs = append(rel, r), append(abs, vn-vb)
		} else if row.Verdict == Worse {
			tail = append(tail, q.label+" "+fmtRel(r))
		}
		f.Rows = append(f.Rows, row)
	}
	f.Shift, f.ShiftAbs = median(rel), median(abs)
	t := ks(hb, hn)
	f.KSD, f.KSP = t.D, t.P
	f.Evidence = fmt.Sprintf("shift across %s: %s (%s) median of band, budget %s; KS D=%.3f %s (n=%s vs %s)",
		bandLabel, fmtRel(f.Shift), fmtSignedSec(f.ShiftAbs), budget, t.D, fmtP(t.P),
		report.FormatCount(f.BaseCount), report.FormatCount(f.NewCount))

	up, down := budget.exceeded(f.Shift, f.ShiftAbs, +1), budget.exceeded(f.Shift, f.ShiftAbs, -1)
	switch {
	case !up && !down:
		f.Verdict = Same
	case min(f.BaseCount, f.NewCount) < MinSamples:
		f.Verdict = Inconclusive
		f.Notes = append(f.Notes, fmt.Sprintf("too few samples to decide (%s and %s values; at least %d per run are needed)",
			report.FormatCount(f.BaseCount), report.FormatCount(f.NewCount), MinSamples))
	case t.P > Alpha:
		f.Verdict = Same
		f.Notes = append(f.Notes, fmt.Sprintf("the band moved beyond budget but the distributions do not differ significantly (%s > %g): treated as noise",
			fmtP(t.P), Alpha))
	case up:
		f.Verdict = Worse
	default:
		f.Verdict = Better
	}
	if len(tail) > 0 && f.Verdict != Worse {
		f.Notes = append(f.Notes, fmt.Sprintf("the tail rose beyond budget (%s): worth a look, but p99.9 and max rest on a few samples and never decide the verdict",
			strings.Join(tail, ", ")))
	}
	return f
}

// valueAt returns the q-th percentile of h in seconds (q = 100: the max).
func valueAt(h *hdrhistogram.Histogram, q float64) float64 {
	if q >= 100 {
		return float64(h.Max()) * unitSeconds
	}
	return float64(h.ValueAtQuantile(q)) * unitSeconds
}

// relShift is (vn - vb) / vb with vb floored at the histogram's 1µs
// resolution, so a 0µs base (possible for lateness) stays finite.
func relShift(vb, vn float64) float64 {
	return (vn - vb) / max(vb, unitSeconds)
}

// exceeded reports whether a shift (relative, and absolute in seconds)
// goes beyond b in direction dir (+1 worse, -1 better): beyond every bound
// that is set.
func (b Budget) exceeded(rel, abs float64, dir float64) bool {
	if b.IsZero() {
		return false
	}
	if b.Relative != 0 && !(rel*dir > b.Relative) {
		return false
	}
	if b.Absolute != 0 && !(abs*dir > b.Absolute.Seconds()) {
		return false
	}
	return true
}

// median of a non-empty slice (mean of the middle two for even lengths).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
