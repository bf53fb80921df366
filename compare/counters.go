package compare

import (
	"fmt"
	"math"
	"strings"

	"github.com/fleetbench/fleetbench/report"
)

// perLabel names the denominator of an error rate, keyed by its first
// metric.
var perLabel = map[string]string{
	"connect.attempted":  "of connect attempts",
	"connect.connected":  "per connect",
	"publish.sent":       "of sent messages",
	"publish.due":        "of due messages",
	"delivery.confirmed": "of confirmed messages",
	"hub.received":       "of messages the hub received",
}

// compareCounters compares every non-latency metric both runs have, in
// report.MetricNames order, skipping metrics that are 0 in both. A section
// (delivery, hub) present in one run only yields a warning instead.
func compareCounters(base, new *report.Summary, o Options) (rows []MetricDelta, warnings []string) {
	warned := map[string]bool{}
	for _, name := range counterNames() {
		vb, okb := base.Metric(name)
		vn, okn := new.Metric(name)
		if !okb && !okn {
			continue
		}
		if okb != okn {
			section, _, _ := strings.Cut(name, ".")
			if !warned[section] {
				warned[section] = true
				which := "base"
				if okn {
					which = "new"
				}
				warnings = append(warnings, fmt.Sprintf("%s counters exist only in the %s run: not compared", section, which))
			}
			continue
		}
		if vb == 0 && vn == 0 {
			continue
		}
		spec := counterSpecFor(name)
		row := MetricDelta{Metric: name, Base: vb, New: vn, Delta: vn - vb}
		if vb != 0 {
			row.Relative = (vn - vb) / vb
		}
		judgeCounter(&row, spec, denominator(base, spec.per), denominator(new, spec.per), o.counterBudget(spec))
		rows = append(rows, row)
	}
	return rows, warnings
}

// denominator sums the named metrics; 0 when any is missing or none named.
func denominator(s *report.Summary, names []string) float64 {
	sum := 0.0
	for _, n := range names {
		v, ok := s.Metric(n)
		if !ok {
			return 0
		}
		sum += v
	}
	return sum
}

// judgeCounter sets row's verdict and note. na and nb are the error-rate
// denominators of the base and new run (0: unknown, raw counts compared).
func judgeCounter(row *MetricDelta, spec counterSpec, na, nb, budget float64) {
	vb, vn := row.Base, row.New
	switch spec.kind {
	case kindHigherBetter:
		if vb <= 0 {
			return
		}
		// Rounded to 1e-9 so a drop of exactly the budget (0.999 from 1 at
		// 0.1%) is not pushed over it by floating-point error.
		rel := math.Round((vn-vb)/vb*1e9) / 1e9
		switch {
		case rel < -budget:
			row.Verdict = Worse
			row.Note = fmt.Sprintf("dropped by more than %s", fmtBudgetPct(budget))
		case rel > budget && vb < 1:
			row.Verdict = Better
			row.Note = fmt.Sprintf("rose by more than %s", fmtBudgetPct(budget))
		}
	case kindHardErrors, kindSoftErrors:
		hard := spec.kind == kindHardErrors
		ra, rb, p := rateTest(vb, na, vn, nb)
		rateRel := 0.0
		switch {
		case ra > 0:
			rateRel = (rb - ra) / ra
		case rb > 0:
			rateRel = math.Inf(1)
		}
		rates := ""
		if na > 0 && nb > 0 {
			rates = fmt.Sprintf("%s → %s %s, ", fmtErrRate(ra), fmtErrRate(rb), perLabel[spec.per[0]])
		}
		switch {
		case hard && vb == 0 && vn > 0:
			row.Verdict = Worse
			row.Note = "errors appeared"
		case hard && vb > 0 && vn == 0:
			row.Verdict = Better
			row.Note = "errors gone"
		case rateRel > budget && p <= Alpha:
			row.Verdict = Worse
			row.Note = fmt.Sprintf("%srose by more than %s, %s", rates, fmtBudgetPct(budget), fmtP(p))
		case rateRel < -budget && p <= Alpha:
			row.Verdict = Better
			row.Note = fmt.Sprintf("%sfell by more than %s, %s", rates, fmtBudgetPct(budget), fmtP(p))
		case math.Abs(rateRel) > budget:
			row.Note = fmt.Sprintf("%snot significant (%s > %g)", rates, fmtP(p), Alpha)
		}
	}
}

// rateTest compares two event counts a and b observed over exposures na
// and nb (attempts, messages; 0 = unknown, then both exposures count as
// equal). It returns the two rates and the two-sided p-value of a Poisson
// z-test with a pooled rate:
// z = (rb - ra) / √(λ (1/na + 1/nb)), λ = (a+b)/(na+nb). For rare events
// this is the two-proportion test; unlike it, it stays defined when
// counts exceed their exposure (duplicates per confirmed message).
func rateTest(a, na, b, nb float64) (ra, rb, p float64) {
	if na <= 0 || nb <= 0 {
		na, nb = 1, 1
	}
	ra, rb = a/na, b/nb
	lambda := (a + b) / (na + nb)
	se := math.Sqrt(lambda * (1/na + 1/nb))
	if se == 0 {
		return ra, rb, 1
	}
	z := (rb - ra) / se
	return ra, rb, math.Erfc(math.Abs(z) / math.Sqrt2)
}
