package compare

import (
	"fmt"
	"math"
	"strings"

	"github.com/fleetbench/fleetbench/report"
)

// The renderers share one view: every cell already formatted, so text,
// Markdown and HTML agree to the character.

type pageView struct {
	Verdict  Verdict
	Headline string   // "regression in publish, connect.failed"
	Scenario string   // the different-scenarios warning, or ""
	Warnings []string // the other warnings
	Runs     []runView
	Families []tableView
	Counters tableView
}

type runView struct {
	Label    string // "base", "new"
	ID       string
	Scenario string
	SHA      string // first 12 hex digits
	Started  string
	Target   string
	Version  string
}

type tableView struct {
	Name     string // "publish", "counters"
	Title    string
	Verdict  Verdict
	Gating   bool
	Rows     []rowView
	Evidence string
	Notes    []string
	Shift    string // median relative shift over the band: "+30.1%"
	Test     string // "D=0.310 p<0.001"
}

type rowView struct {
	Metric, Base, New, Delta, Change string
	Judged                           bool // the row carries a verdict (judged counters)
	Verdict                          Verdict
	Mark                             string // ▲ / ▼ for latency quantiles beyond budget
	Note                             string
}

func newPage(r *Result, base, new *report.Summary) pageView {
	p := pageView{Verdict: r.Verdict, Headline: headline(r)}
	for _, w := range r.Warnings {
		if strings.HasPrefix(w, scenarioPrefix) {
			p.Scenario = w
		} else {
			p.Warnings = append(p.Warnings, w)
		}
	}
	for _, s := range []struct {
		label string
		s     *report.Summary
	}{{"base", base}, {"new", new}} {
		rv := runView{Label: s.label, ID: "-", Scenario: "-", SHA: "-", Started: "-", Target: "-", Version: "-"}
		if s.s != nil {
			run := s.s.Run
			rv.ID, rv.Scenario, rv.SHA = orDash(run.ID), orDash(run.Scenario), orDash(shortSHA(run.ScenarioSHA256))
			if !run.Started.IsZero() {
				rv.Started = run.Started.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			rv.Target, rv.Version = target(run), orDash(run.FleetbenchVersion)
		}
		p.Runs = append(p.Runs, rv)
	}
	for _, f := range r.Families {
		t := tableView{Name: f.Name, Title: f.Title, Verdict: f.Verdict, Gating: f.Gating,
			Evidence: f.Evidence, Notes: f.Notes, Shift: fmtRel(f.Shift), Test: fmt.Sprintf("D=%.3f %s", f.KSD, fmtP(f.KSP))}
		for _, m := range f.Rows {
			_, q, _ := strings.Cut(m.Metric, ".")
			row := rowView{Metric: q, Base: fmtSec(m.Base), New: fmtSec(m.New), Delta: fmtSignedSec(m.Delta),
				Change: fmtRel(m.Relative), Note: m.Note}
			switch m.Verdict {
			case Worse:
				row.Mark = "▲"
			case Better:
				row.Mark = "▼"
			}
			t.Rows = append(t.Rows, row)
		}
		p.Families = append(p.Families, t)
	}
	p.Counters = tableView{Name: "counters", Title: "errors, ratios and volumes (0 in both runs: omitted)"}
	for _, c := range r.Counters {
		spec := counterSpecFor(c.Metric)
		row := rowView{Metric: c.Metric, Judged: spec.hasVerdict(), Verdict: c.Verdict, Note: c.Note}
		kind, _ := report.KindOf(c.Metric)
		switch kind {
		case report.KindRatio:
			row.Base, row.New = report.FormatPct(c.Base), report.FormatPct(c.New)
			row.Delta = fmtPoints(c.Delta)
		case report.KindRate:
			row.Base, row.New = fmtRate(c.Base), fmtRate(c.New)
			row.Delta = fmtSignedRate(c.Delta)
		default:
			row.Base, row.New, row.Delta = fmtCount(c.Base), fmtCount(c.New), fmtSignedCount(c.Delta)
		}
		row.Change = fmtRel(c.Relative)
		if c.Base == 0 {
			row.Change = "new"
		}
		p.Counters.Rows = append(p.Counters.Rows, row)
	}
	return p
}

// headline says the overall verdict in a few words.
func headline(r *Result) string {
	switch r.Verdict {
	case Worse:
		return "regression in " + strings.Join(r.Regressions(), ", ")
	case Better:
		var names []string
		for _, f := range r.Families {
			if f.Gating && f.Verdict == Better {
				names = append(names, f.Name)
			}
		}
		for _, c := range r.Counters {
			if c.Verdict == Better {
				names = append(names, c.Metric)
			}
		}
		return "no regression; improved: " + strings.Join(names, ", ")
	case Inconclusive:
		var names []string
		for _, f := range r.Families {
			if f.Gating && f.Verdict == Inconclusive {
				names = append(names, f.Name)
			}
		}
		return "no regression found, but too few samples to judge " + strings.Join(names, ", ")
	}
	return "no regression: nothing moved beyond its budget"
}

// fmtPoints formats a ratio delta in percentage points: +0.10pp.
func fmtPoints(d float64) string {
	if d == 0 {
		return "0"
	}
	s := strings.TrimSuffix(report.FormatPct(math.Abs(d)), "%") + "pp"
	if d < 0 {
		return "-" + s
	}
	return "+" + s
}

// fmtSignedRate formats a rate delta: +12.3/s.
func fmtSignedRate(d float64) string { return signed(d, fmtRate) }
