package htmlreport

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Element ids of the capacity page's plots.
const (
	IDCapacityLatency = "plot-capacity-latency" // p50 and p99 against offered load
	IDCapacityRate    = "plot-capacity-rate"    // rate ratio and errors against offered load
)

// CapacityPlotIDs lists the capacity page's plot ids, in page order.
func CapacityPlotIDs() []string { return []string{IDCapacityLatency, IDCapacityRate} }

// CapacityPoint is one step of a capacity search, as the page draws it.
type CapacityPoint struct {
	Load         float64
	P50Ms, P99Ms *float64 // nil: no samples
	RateRatio    float64
	Errors       int64
	Passed       bool
	Cells        []string // the table row, as the text report writes it
}

// Capacity is what the capacity page (capacity.html) shows: the finding,
// why the next load failed, and the curve.
type Capacity struct {
	Scenario, Dimension, Unit string
	Found                     bool // the knee was found
	Headline                  string
	Why, Notes                []string
	Knee                      *float64 // drawn as a vertical line; nil: none
	Columns                   []string
	Points                    []CapacityPoint // in load order
}

var capacityTemplate = template.Must(template.New("capacity").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetbench · {{.C.Scenario}} · capacity · {{.C.Headline}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header class="verdict {{if .C.Found}}pass{{else}}fail{{end}}">
  <div class="badge">{{if .C.Found}}KNEE FOUND{{else}}NO KNEE{{end}}</div>
  <div>
    <h1>fleetbench · {{.C.Scenario}} · capacity by {{.C.Dimension}}</h1>
    <p class="headline">{{.C.Headline}}</p>
  </div>
</header>
<main>
{{if or .C.Why .C.Notes}}<section class="card" id="why"><h2>Why</h2><ul class="errors">
{{range .C.Why}}<li><code>{{.}}</code></li>
{{end}}{{range .C.Notes}}<li>{{.}}</li>
{{end}}</ul></section>
{{end}}<section class="card"><figure id="plot-capacity-latency">{{.Latency}}</figure></section>
<section class="card"><figure id="plot-capacity-rate">{{.Rate}}</figure></section>
<section class="card" id="steps"><h2>Steps</h2><table>
<thead><tr>{{range .C.Columns}}<th class="n">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .C.Points}}<tr>{{range .Cells}}<td class="n">{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
<p class="note">Each step's figures cover its measured window only (after the warm-up); each step's full report is in its run directory.</p></section>
</main>
</body>
</html>
`))

// pageStyle is the run report's style sheet, shared by the capacity page.
func pageStyle() template.CSS {
	s := pageSource[strings.Index(pageSource, "<style>")+len("<style>") : strings.Index(pageSource, "</style>")]
	return template.CSS(s)
}

// WriteCapacity renders a capacity search as one self-contained HTML
// page: p50 and p99 against offered load, rate ratio and errors against
// offered load, and the steps' table.
func WriteCapacity(w io.Writer, c Capacity) error {
	lat, err := capacityLatencyPlot(c)
	if err != nil {
		return err
	}
	rate, err := capacityRatePlot(c)
	if err != nil {
		return err
	}
	latSVG, err := renderSVG(lat, vg.Points(fullWidth), vg.Points(plotTall), "Publish latency against offered load")
	if err != nil {
		return err
	}
	rateSVG, err := renderSVG(rate, vg.Points(fullWidth), vg.Points(plotShort), "Rate ratio and errors against offered load")
	if err != nil {
		return err
	}
	data := struct {
		C             Capacity
		Style         template.CSS
		Latency, Rate template.HTML
	}{c, pageStyle(), latSVG, rateSVG}
	if err := capacityTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("write capacity HTML: %w", err)
	}
	return nil
}

func capacityLatencyPlot(c Capacity) (*plot.Plot, error) {
	p := newPlot("Publish latency (corrected) against offered load", "offered load ("+c.Unit+")", "latency (ms)")
	maxY := 0.0
	for _, s := range []struct {
		label  string
		get    func(CapacityPoint) *float64
		dashed bool
	}{
		{"p99", func(pt CapacityPoint) *float64 { return pt.P99Ms }, false},
		{"p50", func(pt CapacityPoint) *float64 { return pt.P50Ms }, true},
	} {
		var xys plotter.XYs
		for _, pt := range c.Points {
			if v := s.get(pt); v != nil {
				xys = append(xys, plotter.XY{X: pt.Load, Y: *v})
				maxY = max(maxY, *v)
			}
		}
		if len(xys) == 0 {
			continue
		}
		if err := addPoints(p, s.label, xys, lineStyle(orange, s.dashed)); err != nil {
			return nil, err
		}
	}
	headroom(p, maxY, 1)
	return p, kneeLine(p, c)
}

func capacityRatePlot(c Capacity) (*plot.Plot, error) {
	p := newPlot("Rate ratio and errors against offered load", "offered load ("+c.Unit+")", "sent / offered; errors / 1,000")
	var ratio, errs plotter.XYs
	maxY := 1.0
	for _, pt := range c.Points {
		ratio = append(ratio, plotter.XY{X: pt.Load, Y: pt.RateRatio})
		e := float64(pt.Errors) / 1000
		errs = append(errs, plotter.XY{X: pt.Load, Y: e})
		maxY = max(maxY, pt.RateRatio, e)
	}
	if len(ratio) > 0 {
		if err := addPoints(p, "rate ratio", ratio, lineStyle(blue, false)); err != nil {
			return nil, err
		}
		if err := addPoints(p, "errors (thousands)", errs, lineStyle(red, true)); err != nil {
			return nil, err
		}
	}
	headroom(p, maxY, 1)
	return p, kneeLine(p, c)
}

// addPoints draws a line with a mark at each step.
func addPoints(p *plot.Plot, label string, xys plotter.XYs, style draw.LineStyle) error {
	if err := addLine(p, label, xys, style); err != nil {
		return err
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", label, err)
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: style.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
	p.Add(sc)
	return nil
}

// kneeLine marks the knee with a vertical line.
func kneeLine(p *plot.Plot, c Capacity) error {
	if c.Knee == nil || !c.Found {
		return nil
	}
	return addLine(p, "knee", plotter.XYs{{X: *c.Knee, Y: p.Y.Min}, {X: *c.Knee, Y: p.Y.Max}}, lineStyle(green, true))
}
