package compare

import (
	"slices"
	"strings"

	"github.com/fleetbench/fleetbench/report"
)

// familySpec describes one latency distribution stored in a summary.
type familySpec struct {
	name   string // histogram name in report.Summary.Histograms, and metric prefix
	title  string // what it measures, for readers: "dial + TLS + CONNACK"
	gating bool   // whether its verdict counts toward the overall verdict
}

// families are compared in this order. Lateness (how far the generator's
// own scheduler fell behind) is judged and shown but does not gate: it
// measures the load generator, not the system under test, and whatever it
// adds is already inside the corrected publish latency.
var families = []familySpec{
	{report.HistConnect, "dial + TLS + CONNACK", true},
	{report.HistPublish, "intended send → PUBACK, corrected for coordinated omission", true},
	{report.HistPublishUncorrected, "actual send → PUBACK, uncorrected", true},
	{report.HistE2E, "intended send → consumer receipt", true},
	{report.HistE2EDeviceToHub, "intended send → hub enqueue", true},
	{report.HistLateness, "intended → actual send: the generator's own schedule keeping; informational, never gates", false},
	{report.HistReconnect, "a dropped device's successful dial + TLS + CONNACK (churn and storms)", true},
	{report.HistRecovery, "drop → connected again, back-off included: the time to recover (churn and storms)", true},
}

func familyByName(name string) (familySpec, bool) {
	i := slices.IndexFunc(families, func(f familySpec) bool { return f.name == name })
	if i < 0 {
		return familySpec{}, false
	}
	return families[i], true
}

// quantile is one row of a family table.
type quantile struct {
	label string  // "p50", "max"
	q     float64 // percentile in [0,100]; 100 for max
	band  bool    // part of the verdict band
}

// rowQuantiles are the rows of every family table. The band (p50..p99)
// decides the verdict; p99.9 and max rest on very few samples and only
// annotate it.
var rowQuantiles = []quantile{
	{"p50", 50, true},
	{"p75", 75, true},
	{"p90", 90, true},
	{"p95", 95, true},
	{"p99", 99, true},
	{"p99.9", 99.9, false},
	{"max", 100, false},
}

// bandLabel names the band in evidence lines.
const bandLabel = "p50–p99"

// counterKind says how a counter is judged.
type counterKind int

const (
	kindInfo         counterKind = iota // volumes, and ratios that restate an error count: reported, no verdict
	kindBreakdown                       // one reason behind connect.failed: shown when non-zero, no verdict
	kindHardErrors                      // errors: appearing is Worse; a significant rate increase beyond budget is Worse
	kindSoftErrors                      // anomalies: only a significant rate increase beyond budget is Worse
	kindHigherBetter                    // ratios that should stay high: a relative drop beyond budget is Worse
)

// counterSpec says how compare judges one count, ratio or rate of the
// metric table (report.Metrics; its kind says how the value prints).
type counterSpec struct {
	name   string
	kind   counterKind
	per    []string // metrics whose sum is the denominator of the error rate; empty = compare raw counts
	budget float64  // default budget: allowed relative rate increase (errors) or relative drop (ratios)
}

// Default counter budgets.
const (
	// DefaultErrorBudget is the relative increase of an error rate (errors
	// per attempt, per message) that a significant change must exceed to
	// count as a regression.
	DefaultErrorBudget = 0.10
	// DefaultDeliveryRatioBudget is the relative drop of delivery.ratio
	// allowed: 0.1% (99.9% -> 99.8% is already a doubling of losses, and
	// delivery.lost judges that with its own test).
	DefaultDeliveryRatioBudget = 0.001
	// DefaultRateRatioBudget is the relative drop of publish.rate_ratio
	// (achieved / offered rate) allowed: 2%.
	DefaultRateRatioBudget = 0.02
)

var counterSpecs = func() map[string]counterSpec {
	attempted := []string{"connect.attempted"}
	sent := []string{"publish.sent"}
	confirmed := []string{"delivery.confirmed"}
	connected := []string{"connect.connected"}
	specs := []counterSpec{
		{name: "connect.failed", kind: kindHardErrors, per: attempted},
		{name: "connect.failed_ratio"},
		{name: "publish.failed", kind: kindHardErrors, per: sent},
		// Late sends measure the generator's own schedule keeping, not the
		// system under test (like the lateness family, and already inside the
		// corrected publish latency): reported, never a verdict of their own.
		{name: "publish.late", kind: kindInfo},
		{name: "publish.missed", kind: kindHardErrors, per: []string{"publish.due"}},
		{name: "publish.unacked", kind: kindSoftErrors, per: sent},
		{name: "publish.late_ratio"},
		{name: "publish.missed_ratio"},
		{name: "publish.rate"},
		{name: "publish.rate_ratio", kind: kindHigherBetter, budget: DefaultRateRatioBudget},
		{name: "delivery.lost", kind: kindHardErrors, per: []string{"delivery.confirmed", "delivery.lost"}},
		{name: "delivery.duplicates", kind: kindSoftErrors, per: confirmed},
		{name: "delivery.reordered", kind: kindSoftErrors, per: confirmed},
		{name: "delivery.foreign", kind: kindSoftErrors, per: confirmed},
		{name: "delivery.ratio", kind: kindHigherBetter, budget: DefaultDeliveryRatioBudget},
		{name: "hub.dropped", kind: kindHardErrors, per: []string{"hub.received"}},
		{name: "hub.denied", kind: kindHardErrors, per: []string{"hub.received"}},
		{name: "hub.refused", kind: kindSoftErrors, per: attempted},
		{name: "devices.disconnects", kind: kindSoftErrors, per: connected},
		{name: "devices.reconnects", kind: kindSoftErrors, per: connected},
	}
	m := make(map[string]counterSpec, len(specs))
	for _, s := range specs {
		if (s.kind == kindHardErrors || s.kind == kindSoftErrors) && s.budget == 0 {
			s.budget = DefaultErrorBudget
		}
		m[s.name] = s
	}
	return m
}()

// counterSpecFor returns how to judge a non-latency metric. Names this
// package does not know (added to report later) are informational counts;
// the connect failure reasons are breakdown rows.
func counterSpecFor(name string) counterSpec {
	if s, ok := counterSpecs[name]; ok {
		return s
	}
	if strings.HasPrefix(name, "connect.") && !slices.Contains([]string{"connect.attempted", "connect.connected"}, name) {
		return counterSpec{name: name, kind: kindBreakdown}
	}
	return counterSpec{name: name, kind: kindInfo}
}

// latencyFamilyOf returns the family of a latency metric name
// ("publish.p99" -> "publish"); ok is false for counters, whose names may
// share a family's prefix ("publish.failed").
func latencyFamilyOf(name string) (fam string, ok bool) {
	fam, sfx, found := strings.Cut(name, ".")
	if !found {
		return "", false
	}
	if _, ok := familyByName(fam); !ok {
		return "", false
	}
	switch {
	case sfx == "max" || sfx == "mean" || sfx == "min":
		return fam, true
	case len(sfx) > 1 && sfx[0] == 'p' && sfx[1] >= '0' && sfx[1] <= '9':
		return fam, true
	}
	return "", false
}

func isLatencyMetric(name string) bool {
	_, ok := latencyFamilyOf(name)
	return ok
}

// counterNames lists the non-latency metrics of report.MetricNames, in its
// order.
func counterNames() []string {
	var out []string
	for _, n := range report.MetricNames() {
		if !isLatencyMetric(n) {
			out = append(out, n)
		}
	}
	return out
}

// hasVerdict reports whether a counter is judged (and so takes a budget).
func (s counterSpec) hasVerdict() bool {
	return s.kind == kindHardErrors || s.kind == kindSoftErrors || s.kind == kindHigherBetter
}
