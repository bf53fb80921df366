package capacity

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/threshold"
)

// Schema identifies capacity.json's format (docs/capacity.md).
const Schema = "fleetbench.capacity/v1"

// Report is capacity.json: the search's plan, outcome, knee and every
// step's figures, in the order the steps ran.
type Report struct {
	Schema     string  `json:"schema"`
	Scenario   string  `json:"scenario"`
	Dimension  string  `json:"dimension"`
	Unit       string  `json:"unit"`
	From       float64 `json:"from"`
	To         float64 `json:"to"`
	Resolution float64 `json:"resolution"`
	WarmupS    float64 `json:"warmup_s"`
	WindowS    float64 `json:"window_s"`
	Outcome    Outcome `json:"outcome"`
	// Knee is the highest load that passed, Next the lowest that failed
	// (nil when there is none).
	Knee     *float64 `json:"knee"`
	Next     *float64 `json:"next"`
	Resolved bool     `json:"resolved"`
	// Why says why Next failed: its failed thresholds with their values,
	// or the emergency bound it reached.
	Why   []string `json:"why,omitempty"`
	Notes []string `json:"notes,omitempty"`
	Error string   `json:"error,omitempty"`
	Steps []Step   `json:"steps"`
}

// NewReport describes a finished search of sc.
func NewReport(sc *scenario.Scenario, r Result) *Report {
	sr := sc.Search
	rep := &Report{Schema: Schema, Scenario: sc.Name, Dimension: sr.Dimension, Unit: sr.Unit(), From: sr.From, To: sr.To,
		Resolution: sr.Resolution, WarmupS: sr.Warmup.Seconds(), WindowS: sr.Window.Seconds(), Outcome: r.Outcome,
		Resolved: r.Resolved, Steps: r.Steps}
	if rep.Steps == nil {
		rep.Steps = []Step{}
	}
	if r.Knee != nil {
		rep.Knee = &r.Knee.Load
	}
	if r.Next != nil {
		rep.Next = &r.Next.Load
		if r.Next.Emergency != "" {
			rep.Why = []string{r.Next.Emergency}
		} else {
			rep.Why = r.Next.Failures()
		}
		if bound := latencyBound(sc); bound > 0 && r.Next.GeneratorLateMs > bound/2 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("the devices sent late in the failing step (scheduler lateness p99 %.1f ms beside a latency bound of %.0f ms): either their in-flight windows were full because the target held PUBACKs (the target's limit), or the machine running fleetbench was saturated (then the knee is the machine's) — compare the step's overhead figures in its report, or rerun with more generator capacity (--procs)", r.Next.GeneratorLateMs, bound))
		}
	}
	if r.Outcome == Found && !r.Resolved {
		rep.Notes = append(rep.Notes, fmt.Sprintf("max_steps ran out before the knee was within %.3g%%: raise max_steps or start nearer the knee", sr.Resolution*100))
	}
	if r.Err != nil {
		rep.Error = r.Err.Error()
	}
	return rep
}

// latencyBound is the smallest upper bound the thresholds put on a
// publish latency, ms (0: none).
func latencyBound(sc *scenario.Scenario) float64 {
	b := 0.0
	for _, th := range sc.Thresholds {
		if strings.HasPrefix(th.Metric, "publish.p") && (th.Cond.Op == threshold.Less || th.Cond.Op == threshold.LessEq) {
			ms := th.Cond.Value * 1000
			if b == 0 || ms < b {
				b = ms
			}
		}
	}
	return b
}

// WriteJSON writes capacity.json.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Headline is the search's finding in one sentence.
func (r *Report) Headline() string {
	load := func(v *float64) string { return formatLoad(*v, r.Unit) }
	switch r.Outcome {
	case Found:
		return fmt.Sprintf("knee: %s passed, %s failed", load(r.Knee), load(r.Next))
	case AboveRange:
		return fmt.Sprintf("not found within range: every step passed up to %s — the capacity is at least that", load(r.Knee))
	case BelowRange:
		return fmt.Sprintf("not found within range: the first step, %s, failed — the capacity is below it", load(r.Next))
	case Aborted:
		s := fmt.Sprintf("aborted at %s", load(r.Next))
		if r.Knee != nil {
			s += fmt.Sprintf("; the highest load that passed was %s", load(r.Knee))
		}
		return s
	}
	return "search failed: " + r.Error
}

func formatLoad(v float64, unit string) string {
	if unit == "devices" {
		return fmt.Sprintf("%.0f devices", v)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// byLoad is the curve: the steps in load order.
func (r *Report) byLoad() []Step {
	s := slices.Clone(r.Steps)
	slices.SortStableFunc(s, func(a, b Step) int { return cmp.Compare(a.Load, b.Load) })
	return s
}

func ms(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *v)
}

func verdict(s Step) string {
	switch {
	case s.Emergency != "":
		return "EMERGENCY"
	case s.Passed:
		return "pass"
	}
	return "FAIL"
}

// WriteText writes the terminal report: headline, why, notes and the
// curve as a table.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "capacity search of %s by %s (%s steps, warm-up %gs, window %gs)\n", r.Scenario, r.Dimension, r.Unit, r.WarmupS, r.WindowS)
	fmt.Fprintf(&b, "%s\n", r.Headline())
	for _, y := range r.Why {
		fmt.Fprintf(&b, "  why: %s\n", y)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	fmt.Fprintf(&b, "\n%12s %10s %10s %8s %9s %9s %7s %7s  %s\n", "load", "offered/s", "sent/s", "ratio", "p50 ms", "p99 ms", "errors", "drops", "verdict")
	for _, s := range r.byLoad() {
		fmt.Fprintf(&b, "%12.1f %10.1f %10.1f %8.4f %9s %9s %7d %7d  %s\n", s.Load, s.Offered, s.Achieved, s.RateRatio, ms(s.P50Ms), ms(s.P99Ms), s.Errors, s.Disconnects, verdict(s))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes capacity.md.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Capacity: %s by %s\n\n**%s**\n\n", r.Scenario, r.Dimension, r.Headline())
	for _, y := range r.Why {
		fmt.Fprintf(&b, "- why: %s\n", y)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- note: %s\n", n)
	}
	fmt.Fprintf(&b, "\n| load (%s) | offered/s | sent/s | rate ratio | p50 ms | p99 ms | errors | drops | verdict |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|\n", r.Unit)
	for _, s := range r.byLoad() {
		fmt.Fprintf(&b, "| %.1f | %.1f | %.1f | %.4f | %s | %s | %d | %d | %s |\n", s.Load, s.Offered, s.Achieved, s.RateRatio, ms(s.P50Ms), ms(s.P99Ms), s.Errors, s.Disconnects, verdict(s))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
