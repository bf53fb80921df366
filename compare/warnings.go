package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fleetbench/fleetbench/report"
)

// scenarioPrefix starts the warning that the two runs did not run the same
// load; renderers print it first and prominently.
const scenarioPrefix = "comparing runs of different scenarios: "

// scenarioWarnings lists what makes the two runs hard to compare: a
// different scenario (name, file hash, devices, offered load, target), an
// interrupted run, a different machine or fleetbench version.
func scenarioWarnings(base, new *report.Summary) []string {
	b, n := base, new
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if b.Run.Scenario != n.Run.Scenario {
		add("name %q vs %q", b.Run.Scenario, n.Run.Scenario)
	}
	if b.Run.ScenarioSHA256 != "" && n.Run.ScenarioSHA256 != "" && b.Run.ScenarioSHA256 != n.Run.ScenarioSHA256 {
		add("scenario file sha256 %s vs %s", shortSHA(b.Run.ScenarioSHA256), shortSHA(n.Run.ScenarioSHA256))
	}
	if b.Config.Devices != n.Config.Devices {
		add("devices %d vs %d", b.Config.Devices, n.Config.Devices)
	}
	switch tb, tn := b.Publish.TargetRate, n.Publish.TargetRate; {
	case differs(tb, tn, 0.01):
		add("offered rate %s vs %s", fmtRate(tb), fmtRate(tn))
	case b.Config.StartRate != n.Config.StartRate || !slices.Equal(b.Config.Stages, n.Config.Stages):
		add("rate stages differ")
	}
	if b.Config.DurationMs != n.Config.DurationMs {
		add("duration %s vs %s", report.FormatMs(b.Config.DurationMs), report.FormatMs(n.Config.DurationMs))
	}
	if b.Config.QoS != n.Config.QoS {
		add("QoS %d vs %d", b.Config.QoS, n.Config.QoS)
	}
	if b.Config.PayloadBytes != n.Config.PayloadBytes {
		add("payload %d vs %d bytes", b.Config.PayloadBytes, n.Config.PayloadBytes)
	}
	if !slices.Equal(b.Config.TLSKeyExchange, n.Config.TLSKeyExchange) {
		add("TLS key exchange %s vs %s", keyExchange(b.Config.TLSKeyExchange), keyExchange(n.Config.TLSKeyExchange))
	}
	// The embedded hub listens on a new port every run: for it, the kind is
	// the target.
	embedded := b.Run.TargetKind == "embedded" && n.Run.TargetKind == "embedded"
	if b.Run.TargetKind != n.Run.TargetKind || (!embedded && b.Run.Target != n.Run.Target) {
		add("target %s vs %s", target(b.Run), target(n.Run))
	}

	var out []string
	if len(diffs) > 0 {
		out = append(out, scenarioPrefix+strings.Join(diffs, "; "))
	}
	if b.Run.ID != "" && b.Run.ID == n.Run.ID {
		out = append(out, fmt.Sprintf("base and new are the same run (%s)", b.Run.ID))
	}
	for _, r := range []struct {
		which string
		s     *report.Summary
	}{{"base", b}, {"new", n}} {
		if r.s.Interrupted {
			out = append(out, fmt.Sprintf("the %s run was interrupted: its results are partial", r.which))
		}
	}
	if b.Run.Hostname != "" && n.Run.Hostname != "" && b.Run.Hostname != n.Run.Hostname {
		out = append(out, fmt.Sprintf("the runs were made on different machines (%s vs %s): machine differences show up as changes",
			b.Run.Hostname, n.Run.Hostname))
	}
	if b.Run.FleetbenchVersion != n.Run.FleetbenchVersion && b.Run.FleetbenchVersion != "" && n.Run.FleetbenchVersion != "" {
		out = append(out, fmt.Sprintf("the runs were made by different fleetbench versions (%s vs %s)",
			b.Run.FleetbenchVersion, n.Run.FleetbenchVersion))
	}
	return out
}

// differs reports whether a and b differ by more than tol relative to the
// larger.
func differs(a, b, tol float64) bool {
	m := math.Max(math.Abs(a), math.Abs(b))
	return m > 0 && math.Abs(a-b) > tol*m
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func target(r report.RunInfo) string {
	t := orDash(r.Target)
	if r.TargetKind != "" {
		t += " (" + r.TargetKind + ")"
	}
	return t
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// keyExchange names a run's offered key-exchange groups; older summaries
// and plain-TCP runs have none.
func keyExchange(groups []string) string {
	if len(groups) == 0 {
		return "none"
	}
	return strings.Join(groups, ",")
}
