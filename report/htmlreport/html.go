package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/fleetbench/fleetbench/report"
)

// Element ids of the plots in the page, one <figure> each holding an
// inline <svg>; tests and readers can address them.
const (
	IDSpectrum = "plot-spectrum" // latency percentile spectrum
	IDRates    = "plot-rates"    // offered/sent/acknowledged/confirmed per second
	IDP99      = "plot-p99"      // p99 latency per interval
	IDConnect  = "plot-connect"  // connected devices over time
	IDErrors   = "plot-errors"   // failure counters
)

// PlotIDs lists every plot's element id, in page order. The slice is new
// on every call.
func PlotIDs() []string { return []string{IDSpectrum, IDRates, IDP99, IDConnect, IDErrors} }

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("report").Parse(pageSource))

// Write renders s as one self-contained HTML page (report.html). It reads
// only s; see the package documentation for what the page shows.
func Write(w io.Writer, s *report.Summary) error {
	pg, err := build(s)
	if err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	if err := pageTemplate.Execute(w, pg); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

// page is the template's data.
type page struct {
	Scenario    string
	Passed      bool
	Headline    string
	Interrupted bool
	Facts       []fact
	Thresholds  []thresholdRow
	NoThreshold *thresholdRow // the implicit check when the scenario has none
	Latency     []latencyRow
	Plots       map[string]template.HTML
	Counters    []counterGroup
	Errors      []string
	Notes       []string
	Footer      string
}

type fact struct{ Key, Value string }

type thresholdRow struct {
	Passed                bool
	Metric, Expr, Measure string
}

type latencyRow struct {
	Label, Color                           string
	Count, P50, P90, P99, P999, P9999, Max string
	Dashed, Empty                          bool
	MinMean                                string
	OverMax                                string
	Extra                                  string
}

type counterGroup struct {
	Name string
	Rows []counterRow
}

type counterRow struct {
	Name, Value string
	Bad         bool // a problem count above zero
}

func build(s *report.Summary) (*page, error) {
	v := s.Verdict()
	pg := &page{
		Scenario:    s.Run.Scenario,
		Passed:      v.Passed,
		Headline:    v.Headline(),
		Interrupted: s.Interrupted,
		Facts:       facts(s),
		Latency:     latencyRows(s),
		Counters:    counterGroups(s),
		Errors:      s.Errors,
		Notes:       s.Notes,
		Plots:       map[string]template.HTML{},
	}
	if pg.Scenario == "" {
		pg.Scenario = "run"
	}
	for _, th := range s.Thresholds {
		m := report.FormatMetric(th.Metric, th.Value)
		if th.NoData {
			m = "no data"
		}
		pg.Thresholds = append(pg.Thresholds, thresholdRow{th.Passed, th.Metric, th.Expr, m})
	}
	if len(s.Thresholds) == 0 {
		row := thresholdRow{Passed: v.Passed, Metric: report.NoThresholdsCase, Measure: "yes"}
		if !v.Passed {
			row.Measure = strings.Join(v.Problems, ", ")
		}
		pg.NoThreshold = &row
	}
	var parts []string
	for _, p := range []string{s.Run.FleetbenchVersion, s.Run.GoVersion, s.Run.ID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	pg.Footer = strings.Join(parts, " · ")

	ivs, err := intervalStats(s)
	if err != nil {
		return nil, err
	}
	if err := plots(pg, s, ivs); err != nil {
		return nil, err
	}
	return pg, nil
}

func plots(pg *page, s *report.Summary, ivs map[string][]ivStat) error {
	spectrum, err := spectrumPlot(s)
	if err != nil {
		return err
	}
	rates, err := ratesPlot(s, ivs[report.HistE2E])
	if err != nil {
		return err
	}
	p99, err := p99Plot(s, ivs)
	if err != nil {
		return err
	}
	conn, err := connectPlot(s)
	if err != nil {
		return err
	}
	errs, bars, err := errorsPlot(s)
	if err != nil {
		return err
	}
	for _, r := range []struct {
		id, label string
		p         *plot.Plot
		w, h      float64
	}{
		{IDSpectrum, "Latency by percentile", spectrum, fullWidth, plotTall},
		{IDRates, "Messages per second over time", rates, halfWidth, plotShort},
		{IDP99, "p99 latency over time", p99, halfWidth, plotShort},
		{IDConnect, "Connected devices over time", conn, halfWidth, plotShort},
		{IDErrors, "Failures and problems", errs, halfWidth, float64(max(plotShort, 60+bars*14))},
	} {
		svg, err := renderSVG(r.p, vg.Points(r.w), vg.Points(r.h), r.label)
		if err != nil {
			return err
		}
		pg.Plots[r.id] = svg
	}
	return nil
}
