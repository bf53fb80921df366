package compare

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// Budget is how much a metric may get worse before it counts as a
// regression. The zero value means "not set" (the default applies).
//
// For a latency family the shift is measured over the band p50..p99:
// Relative bounds the median relative increase (0.10 = 10%), Absolute the
// median absolute increase. When both are set the shift must exceed both,
// so "10% and 2ms" ignores large relative moves of sub-millisecond
// latencies. For an error counter Relative bounds the relative increase of
// its rate (errors per attempt or per message); for a ratio that should stay
// high (delivery.ratio, publish.rate_ratio) it bounds the relative drop.
// Absolute applies to latency families only.
type Budget struct {
	Relative float64       `json:"relative,omitempty"`    // fraction: 0.10 = 10%; 0 = not set
	Absolute time.Duration `json:"absolute_ns,omitempty"` // 0 = not set
}

// Default budget of every latency family: the band must move by more than
// 10% and by more than 100µs. The absolute floor keeps scheduler and GC
// jitter (tens of microseconds) on fast loopback latencies from counting
// as a regression. A --max-regression entry for a family replaces both.
const (
	DefaultLatencyRelative = 0.10
	DefaultLatencyAbsolute = 100 * time.Microsecond
)

var defaultLatencyBudget = Budget{Relative: DefaultLatencyRelative, Absolute: DefaultLatencyAbsolute}

// IsZero reports whether neither bound is set.
func (b Budget) IsZero() bool { return b.Relative == 0 && b.Absolute == 0 }

// String formats b as it is written on the command line: "10%", "5ms",
// "10% and 5ms"; "none" when unset.
func (b Budget) String() string {
	var parts []string
	if b.Relative != 0 {
		parts = append(parts, fmtBudgetPct(b.Relative))
	}
	if b.Absolute != 0 {
		parts = append(parts, b.Absolute.String())
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " and ")
}

// fmtBudgetPct prints 0.1 as "10%", 0.001 as "0.1%".
func fmtBudgetPct(r float64) string {
	return strconv.FormatFloat(r*100, 'f', -1, 64) + "%"
}

// Options tune a comparison. The zero value uses every default budget. An
// Options is read-only during Compare and safe to share.
type Options struct {
	// MaxRegression maps a metric to its budget, as written on the command
	// line: a latency family ("publish") or one of its percentiles
	// ("publish.p99": the budget then applies to the family's whole band),
	// or a judged counter ("connect.failed", "delivery.ratio"). Several
	// entries for one family combine to the strictest relative and the
	// strictest absolute bound. Build it with ParseOptions.
	MaxRegression map[string]Budget
}

// ParseBudget parses one --max-regression argument, METRIC=LIMIT, where
// LIMIT is a percentage ("10%"), a fraction ("0.1", at most 1) or, for
// latency metrics, a duration ("5ms", "250us"). Errors quote the argument
// and say how to write it.
func ParseBudget(s string) (metric string, b Budget, err error) {
	fail := func(format string, args ...any) (string, Budget, error) {
		return "", Budget{}, fmt.Errorf("max regression %q: %s", s, fmt.Sprintf(format, args...))
	}
	name, limit, ok := strings.Cut(strings.TrimSpace(s), "=")
	name, limit = strings.TrimSpace(name), strings.TrimSpace(limit)
	switch {
	case !ok:
		return fail(`missing "=": write METRIC=LIMIT, e.g. publish.p99=10%% or publish.p99=5ms`)
	case name == "":
		return fail("missing metric before \"=\": write METRIC=LIMIT, e.g. publish.p99=10%%")
	case limit == "":
		return fail("missing limit after \"=\": write a percentage (10%%), a fraction (0.1) or a duration (5ms)")
	}
	latency, err := checkBudgetMetric(name)
	if err != nil {
		return fail("%v", err)
	}
	b, err = parseLimit(limit, latency)
	if err != nil {
		return fail("%v", err)
	}
	return name, b, nil
}

// parseLimit reads the part after "=".
func parseLimit(limit string, latency bool) (Budget, error) {
	if num, ok := strings.CutSuffix(limit, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Budget{}, fmt.Errorf("cannot read %q as a percentage: write e.g. 10%%", limit)
		}
		if v <= 0 {
			return Budget{}, fmt.Errorf("limit %s must be greater than 0%% (a budget of 0 would flag noise; use e.g. 1%%)", limit)
		}
		return Budget{Relative: v / 100}, nil
	}
	if v, err := strconv.ParseFloat(limit, 64); err == nil {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return Budget{}, fmt.Errorf("cannot read %q as a limit: write a percentage (10%%), a fraction (0.1) or a duration (5ms)", limit)
		case v <= 0:
			return Budget{}, fmt.Errorf("limit %s must be greater than 0 (a budget of 0 would flag noise; use e.g. 0.01)", limit)
		case v > 1:
			return Budget{}, fmt.Errorf("a plain number is a fraction and %s would mean %s%%: write %s%% if you mean per cent, or add a unit (%sms) for a duration",
				limit, strconv.FormatFloat(v*100, 'f', -1, 64), limit, limit)
		}
		return Budget{Relative: v}, nil
	}
	d, err := time.ParseDuration(limit)
	if err != nil {
		return Budget{}, fmt.Errorf("cannot read %q: write a percentage (10%%), a fraction (0.1) or a duration (5ms)", limit)
	}
	if !latency {
		return Budget{}, fmt.Errorf("a duration (%s) only bounds latency metrics: give this counter a relative budget such as 10%%", limit)
	}
	if d <= 0 {
		return Budget{}, fmt.Errorf("duration %s must be greater than 0", limit)
	}
	return Budget{Absolute: d}, nil
}

// ParseOptions parses every --max-regression argument into Options. The
// same metric may be given twice, once relative and once absolute
// ("publish.p99=10%", "publish.p99=2ms": the shift must exceed both); the
// same bound twice is an error. All problems are reported at once.
func ParseOptions(args []string) (Options, error) {
	o := Options{MaxRegression: map[string]Budget{}}
	var errs []error
	for _, a := range args {
		m, b, err := ParseBudget(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		old := o.MaxRegression[m]
		if (old.Relative != 0 && b.Relative != 0) || (old.Absolute != 0 && b.Absolute != 0) {
			errs = append(errs, fmt.Errorf("max regression %q: %s already has a budget of %s: give each metric at most one relative and one absolute limit", a, m, old))
			continue
		}
		o.MaxRegression[m] = Budget{Relative: old.Relative + b.Relative, Absolute: old.Absolute + b.Absolute}
	}
	return o, errors.Join(errs...)
}

// checkBudgetMetric validates the metric of a budget and reports whether it
// names a latency family.
func checkBudgetMetric(name string) (latency bool, err error) {
	if _, ok := familyByName(name); ok {
		return true, nil
	}
	if fam, ok := latencyFamilyOf(name); ok {
		_, sfx, _ := strings.Cut(name, ".")
		switch {
		case sfx == "max" || sfx == "min" || sfx == "mean":
			return false, fmt.Errorf("%s cannot carry a budget: a single outlier moves it, so it never decides a verdict; name a percentile such as %s.p99 (the budget applies to the band p50..p99)", name, fam)
		case !report.IsMetric(name):
			return false, fmt.Errorf("unknown percentile %q: write p<q> with 0 <= q <= 100, e.g. %s.p99", sfx, fam)
		}
		return true, nil
	}
	if s, ok := counterSpecs[name]; ok && s.hasVerdict() {
		return false, nil
	}
	if report.IsMetric(name) {
		return false, fmt.Errorf("%s is reported but never judged, so a budget for it has no effect; judged counters: %s", name, strings.Join(judgedCounters(), ", "))
	}
	msg := fmt.Sprintf("unknown metric %q", name)
	if s := suggest(name, budgetCandidates()); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return false, fmt.Errorf("%s: name a latency family (%s), one of its percentiles (publish.p99) or a judged counter", msg, strings.Join(familyNames(), ", "))
}

func familyNames() []string {
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = f.name
	}
	return out
}

func judgedCounters() []string {
	var out []string
	for n, s := range counterSpecs {
		if s.hasVerdict() {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func budgetCandidates() []string {
	var out []string
	for _, f := range families {
		out = append(out, f.name)
		for _, q := range rowQuantiles {
			if q.label != "max" {
				out = append(out, f.name+"."+q.label)
			}
		}
	}
	return append(out, judgedCounters()...)
}

// validate checks every key of o.MaxRegression as ParseBudget would.
func (o Options) validate() error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(o.MaxRegression)) {
		b := o.MaxRegression[name]
		latency, err := checkBudgetMetric(name)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("max regression %s: %w", name, err))
		case b.Relative < 0 || b.Absolute < 0 || math.IsNaN(b.Relative) || math.IsInf(b.Relative, 0):
			errs = append(errs, fmt.Errorf("max regression %s: budget %v must not be negative", name, b))
		case !latency && b.Absolute != 0:
			errs = append(errs, fmt.Errorf("max regression %s: a duration only bounds latency metrics: give this counter a relative budget such as 10%%", name))
		}
	}
	return errors.Join(errs...)
}

// familyBudget merges every entry naming fam or one of its percentiles into
// the strictest relative and absolute bound; the default when none does.
func (o Options) familyBudget(fam string) Budget {
	var b Budget
	for name, e := range o.MaxRegression {
		if f, ok := latencyFamilyOf(name); name != fam && (!ok || f != fam) {
			continue
		}
		b.Relative = minSet(b.Relative, e.Relative)
		b.Absolute = time.Duration(minSet(float64(b.Absolute), float64(e.Absolute)))
	}
	if b.IsZero() {
		return defaultLatencyBudget
	}
	return b
}

// counterBudget returns the relative budget of a judged counter.
func (o Options) counterBudget(s counterSpec) float64 {
	if b, ok := o.MaxRegression[s.name]; ok && b.Relative > 0 {
		return b.Relative
	}
	return s.budget
}

// minSet is the smaller of two bounds where 0 means unset.
func minSet(a, b float64) float64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// suggest returns the candidate closest to s in edit distance, if within 2.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
