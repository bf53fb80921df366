package htmlreport

import (
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fleetbench/fleetbench/report"
)

// The Tableau 10 palette: distinct, colour-blind friendly, calm on white.
var (
	blue   = rgb(0x4e79a7)
	orange = rgb(0xf28e2b)
	red    = rgb(0xe15759)
	teal   = rgb(0x76b7b2)
	green  = rgb(0x59a14f)
	purple = rgb(0xb07aa1)
	brown  = rgb(0x9c755f)
	gray   = rgb(0x79706e)
	light  = rgb(0xe6e6e6)
	ink    = rgb(0x333333)
)

func rgb(v uint32) color.RGBA {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// hex is c as a CSS colour, so the tables match the plots.
func hex(c color.RGBA) string {
	const digits = "0123456789abcdef"
	b := []byte{'#', 0, 0, 0, 0, 0, 0}
	for i, v := range []uint8{c.R, c.G, c.B} {
		b[1+2*i], b[2+2*i] = digits[v>>4], digits[v&0xf]
	}
	return string(b)
}

var (
	sans     = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

// Plot sizes in points (the SVG viewBox); CSS scales them to the page.
const (
	fullWidth = 920
	halfWidth = 470
	plotTall  = 330
	plotShort = 290
)

// newPlot returns a plot in the report's style: sans-serif text, a light
// grid, grey axes and the legend in the top left corner (callers leave
// headroom for it).
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansBold, 13)
	p.Title.TextStyle.Color = ink
	p.Title.Padding = vg.Points(8)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Label.TextStyle.Color = ink
		a.Tick.Label.Font = font.From(sans, 10)
		a.Tick.Label.Color = ink
		a.Color = gray
		a.Tick.Color = gray
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = font.From(sans, 10.5)
	p.Legend.TextStyle.Color = ink
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), vg.Points(-4)
	p.Legend.ThumbnailWidth = vg.Points(22)
	p.Legend.Padding = vg.Points(3)
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	g := plotter.NewGrid()
	g.Vertical = draw.LineStyle{Color: light, Width: vg.Points(0.6)}
	g.Horizontal = draw.LineStyle{Color: light, Width: vg.Points(0.6)}
	p.Add(g)
	return p
}

// lineStyle is a data line: 1.8pt, solid or dashed.
func lineStyle(c color.Color, dashed bool) draw.LineStyle {
	s := draw.LineStyle{Color: c, Width: vg.Points(1.8)}
	if dashed {
		s.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return s
}

// headroom sets the Y range to [0, 1.3 x the data maximum] (at least
// minMax) so the legend in the top left corner never hides data.
func headroom(p *plot.Plot, dataMax, minMax float64) {
	p.Y.Min = 0
	p.Y.Max = max(dataMax*1.3, minMax)
}

// niceTicks places about six labelled ticks at round steps (1, 2, 2.5 or
// 5 times a power of ten) and writes them as plain numbers: "1,500" and
// "2.5", not "1500.00".
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi+step*1e-9; i++ {
		v := i * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ts = append(ts, plot.Tick{Value: v, Label: numLabel(v)})
	}
	return ts
}

// numLabel formats a tick value: whole numbers with thousands separators,
// others with up to six significant digits.
func numLabel(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return report.FormatCount(int64(v))
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
