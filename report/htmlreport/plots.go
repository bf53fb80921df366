package htmlreport

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fleetbench/fleetbench/report"
)

// family is one latency distribution as the plots and tables show it.
type family struct {
	name   string // key in Summary.Histograms
	label  string
	color  color.RGBA
	dashed bool
}

// families are the latency distributions drawn in the spectrum, in legend
// order. Scheduler lateness is left out: it is the generator's own delay,
// shown in the tables.
var families = []family{
	{report.HistConnect, "connect", blue, false},
	{report.HistPublish, "publish → PUBACK (corrected)", orange, false},
	{report.HistPublishUncorrected, "publish → PUBACK (uncorrected)", orange, true},
	{report.HistE2E, "end to end", green, false},
	{report.HistE2EDeviceToHub, "device → hub", teal, true},
}

// spectrumPlot is the latency percentile spectrum as HdrHistogram plots
// it: x is 1/(1-q) on a log scale labelled 0%, 90%, 99%, 99.9% ..., y the
// latency in milliseconds, one line per family with samples.
func spectrumPlot(s *report.Summary) (*plot.Plot, error) {
	p := newPlot("Latency by percentile", "percentile", "latency (ms)")
	// The x axis reaches the decade of the largest sample count: beyond
	// 1/(1-q) = count a percentile is just the maximum.
	var most int64
	for _, f := range families {
		if l := latencyBlock(s, f.name); l != nil {
			most = max(most, l.Count)
		}
	}
	decades := min(max(math.Ceil(math.Log10(float64(max(most, 1)))), 2), 7)
	xMax := math.Pow(10, decades)
	maxY := 0.0
	for _, f := range families {
		if _, ok := s.Histograms[f.name]; !ok {
			continue
		}
		h, err := s.Histogram(f.name)
		if err != nil {
			return nil, err
		}
		if h.TotalCount() == 0 {
			continue
		}
		var xys plotter.XYs
		for _, b := range h.CumulativeDistributionWithTicks(report.HgrmTicksPerHalfDistance) {
			if b.Quantile >= 100 {
				continue
			}
			x := 1 / (1 - b.Quantile/100)
			if x > xMax {
				break
			}
			y := float64(b.ValueAt) * msPerUnit
			xys = append(xys, plotter.XY{X: x, Y: y})
			maxY = max(maxY, y)
		}
		if len(xys) == 0 { // one distinct value: a flat line from 0%
			y := float64(h.Max()) * msPerUnit
			xys = plotter.XYs{{X: 1, Y: y}, {X: 100, Y: y}}
			maxY = max(maxY, y)
		}
		if err := addLine(p, f.label, xys, lineStyle(f.color, f.dashed)); err != nil {
			return nil, err
		}
	}
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = 1, xMax
	var ticks []plot.Tick
	for d := 0.0; d <= decades; d++ {
		ticks = append(ticks, plot.Tick{Value: math.Pow(10, d), Label: percentileLabel(d)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	if maxY == 0 {
		p.Title.Text += " (no samples)"
	}
	headroom(p, maxY, 1)
	return p, nil
}

// latencyBlock is the summary block of a latency family, or nil.
func latencyBlock(s *report.Summary, name string) *report.Latency {
	switch name {
	case report.HistConnect:
		return &s.Connect.Latency
	case report.HistPublish:
		return &s.Publish.Latency
	case report.HistPublishUncorrected:
		return &s.Publish.LatencyUncorrected
	case report.HistLateness:
		return &s.Publish.Lateness
	case report.HistE2E:
		if s.Delivery != nil {
			return &s.Delivery.Latency
		}
	case report.HistE2EDeviceToHub:
		if s.Delivery != nil {
			return s.Delivery.DeviceToHub
		}
	}
	return nil
}

// percentileLabel names the decade 10^d of 1/(1-q): 0%, 90%, 99%, 99.9%.
func percentileLabel(d float64) string {
	if d == 0 {
		return "0%"
	}
	q := 100 - 100/math.Pow(10, d)
	return strconv.FormatFloat(q, 'f', max(int(d)-2, 0), 64) + "%"
}

// msPerUnit converts histogram values (report.HistogramUnit) to ms.
const msPerUnit = float64(report.HistogramUnit) / float64(time.Millisecond)

// addLine adds a line and its legend entry.
func addLine(p *plot.Plot, label string, xys plotter.XYs, style draw.LineStyle) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", label, err)
	}
	l.LineStyle = style
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

// minRateIntervalMs: a series interval shorter than this (the sliver
// between the last whole second and the end of a run) is left out of rate
// plots, where a few messages over milliseconds would read as a huge rate.
// Its counts are still in every total.
const minRateIntervalMs = 200

// ratesPlot shows offered, sent, acknowledged and (with a consumer)
// confirmed messages per second over the run.
func ratesPlot(s *report.Summary, e2e []ivStat) (*plot.Plot, error) {
	p := newPlot("Messages per second", "seconds since start", "messages/s")
	var due, sent, acked plotter.XYs
	for _, pt := range s.Series {
		if pt.IntervalMs < minRateIntervalMs {
			continue
		}
		t, sec := pt.TMs/1000, pt.IntervalMs/1000
		due = append(due, plotter.XY{X: t, Y: float64(pt.Due) / sec})
		sent = append(sent, plotter.XY{X: t, Y: pt.SentRate})
		acked = append(acked, plotter.XY{X: t, Y: pt.AckedRate})
	}
	var confirmed plotter.XYs
	for _, iv := range e2e {
		if iv.lenS > 0 {
			confirmed = append(confirmed, plotter.XY{X: iv.endS, Y: float64(iv.count) / iv.lenS})
		}
	}
	if len(confirmed) == 0 && s.Delivery != nil { // no e2e interval log: the series' samples
		for _, pt := range s.Series {
			if pt.IntervalMs >= minRateIntervalMs {
				confirmed = append(confirmed, plotter.XY{X: pt.TMs / 1000, Y: float64(pt.Confirmed) / (pt.IntervalMs / 1000)})
			}
		}
	}
	peak := 0.0
	for _, l := range []struct {
		label string
		xys   plotter.XYs
		style draw.LineStyle
	}{
		// Decreasing widths keep coinciding lines visible as layers.
		{"offered", due, lineStyle(gray, true)},
		{"sent", sent, widened(lineStyle(blue, false), 4)},
		{"acknowledged (PUBACK)", acked, widened(lineStyle(orange, false), 2.5)},
		{"confirmed by consumer", confirmed, widened(lineStyle(green, false), 1.2)},
	} {
		if len(l.xys) == 0 || (l.label == "acknowledged (PUBACK)" && s.Config.QoS == 0) {
			continue
		}
		for _, xy := range l.xys {
			peak = max(peak, xy.Y)
		}
		if err := addLine(p, l.label, l.xys, l.style); err != nil {
			return nil, err
		}
	}
	timeAxis(p, s)
	headroom(p, peak, 1)
	return p, nil
}

// p99Plot shows each interval's 99th percentile latency over the run: publish
// from the series, the other families from their interval histograms. A
// line stops where an interval holds no samples and resumes after it, so
// the plot never draws a latency nobody measured.
func p99Plot(s *report.Summary, ivs map[string][]ivStat) (*plot.Plot, error) {
	p := newPlot("p99 latency over time", "seconds since start", "p99 latency (ms)")
	peak := 0.0
	for _, f := range families {
		segs := p99Segments(p99Points(s, ivs, f.name))
		for _, seg := range segs {
			for _, xy := range seg {
				peak = max(peak, xy.Y)
			}
		}
		if err := addSegments(p, f.label, segs, lineStyle(f.color, f.dashed)); err != nil {
			return nil, err
		}
	}
	timeAxis(p, s)
	headroom(p, peak, 1)
	return p, nil
}

// p99Points are one family's intervals for the p99 plot: publish from the
// series (an interval without acknowledgements has no p99 there), the
// other families from their interval histograms.
func p99Points(s *report.Summary, ivs map[string][]ivStat, name string) []ivStat {
	if name != report.HistPublish {
		return ivs[name]
	}
	pts := make([]ivStat, 0, len(s.Series))
	for _, pt := range s.Series {
		st := ivStat{endS: pt.TMs / 1000, lenS: pt.IntervalMs / 1000}
		if pt.PublishP99Ms != nil && pt.Acked > 0 {
			st.count, st.p99ms = pt.Acked, *pt.PublishP99Ms
		}
		pts = append(pts, st)
	}
	return pts
}

// p99Segments splits a family's intervals into runs of intervals with
// samples, one point per interval at its end; an interval without samples
// ends a run.
func p99Segments(pts []ivStat) []plotter.XYs {
	var segs []plotter.XYs
	var cur plotter.XYs
	for _, iv := range pts {
		if iv.count == 0 {
			if len(cur) > 0 {
				segs, cur = append(segs, cur), nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: iv.endS, Y: iv.p99ms})
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}

// addSegments draws the segments of one series in one style with one
// legend entry; a segment of a single interval is drawn as a dot.
func addSegments(p *plot.Plot, label string, segs []plotter.XYs, style draw.LineStyle) error {
	if len(segs) == 0 {
		return nil
	}
	for _, seg := range segs {
		if len(seg) == 1 {
			dot, err := plotter.NewScatter(seg)
			if err != nil {
				return fmt.Errorf("plot %s: %w", label, err)
			}
			dot.GlyphStyle = draw.GlyphStyle{Color: style.Color, Radius: style.Width * 1.5, Shape: draw.CircleGlyph{}}
			p.Add(dot)
			continue
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return fmt.Errorf("plot %s: %w", label, err)
		}
		l.LineStyle = style
		p.Add(l)
	}
	p.Legend.Add(label, &plotter.Line{LineStyle: style})
	return nil
}

// connectPlot is the connect ramp: devices connected over time against
// the planned ramp (connect_rate, up to the fleet size), and the failed
// attempts so far.
func connectPlot(s *report.Summary) (*plot.Plot, error) {
	p := newPlot("Connected devices", "seconds since start", "devices")
	connected := plotter.XYs{{X: 0, Y: 0}}
	failed := plotter.XYs{{X: 0, Y: 0}}
	var nFailed int64
	peak := float64(s.Config.Devices)
	for _, pt := range s.Series {
		nFailed += pt.ConnectFailed
		connected = append(connected, plotter.XY{X: pt.TMs / 1000, Y: float64(pt.Connected)})
		failed = append(failed, plotter.XY{X: pt.TMs / 1000, Y: float64(nFailed)})
		peak = max(peak, float64(pt.Connected), float64(nFailed))
	}
	end := 0.0
	if n := len(s.Series); n > 0 {
		end = s.Series[n-1].TMs / 1000
	}
	if c := s.Config; c.ConnectRate > 0 && c.Devices > 0 {
		full := float64(c.Devices) / c.ConnectRate
		planned := plotter.XYs{{X: 0, Y: 0}, {X: full, Y: float64(c.Devices)}}
		if end > full {
			planned = append(planned, plotter.XY{X: end, Y: float64(c.Devices)})
		}
		if err := addLine(p, fmt.Sprintf("planned (%s)", report.FormatRate(c.ConnectRate)), planned, lineStyle(gray, true)); err != nil {
			return nil, err
		}
	}
	if err := addLine(p, "connected", connected, lineStyle(blue, false)); err != nil {
		return nil, err
	}
	if nFailed > 0 {
		if err := addLine(p, "failed attempts (cumulative)", failed, lineStyle(red, false)); err != nil {
			return nil, err
		}
	}
	timeAxis(p, s)
	headroom(p, peak, 1)
	return p, nil
}

// errorCount is one bar of the error breakdown.
type errorCount struct {
	metric string // metric name, as thresholds name it
	n      int64
}

// errorGroup is a set of bars drawn in one colour.
type errorGroup struct {
	name   string
	color  color.RGBA
	counts []errorCount
}

// errorGroups lists every failure and problem counter the run has, grouped
// by where it happened; sections the run did not measure are left out.
func errorGroups(s *report.Summary) []errorGroup {
	var conn []errorCount
	for r := range report.NumFailReasons {
		conn = append(conn, errorCount{"connect." + r.String(), s.Connect.FailedByReason[r.String()]})
	}
	conn = append(conn, errorCount{"devices.disconnects", s.Connect.Disconnects})
	for r := range report.NumDisconnectReasons {
		conn = append(conn, errorCount{"devices." + r.String(), s.Connect.DisconnectsByReason[r.String()]})
	}
	pub := s.Publish
	groups := []errorGroup{
		{"connect", blue, conn},
		{"publish", orange, []errorCount{
			{"publish.failed", pub.Failed}, {"publish.unacked", pub.Unacked},
			{"publish.missed", pub.Missed}, {"publish.late", pub.Late},
		}},
	}
	if d := s.Delivery; d != nil {
		groups = append(groups, errorGroup{"delivery", green, []errorCount{
			{"delivery.lost", d.Lost}, {"delivery.duplicates", d.Duplicates},
			{"delivery.reordered", d.Reordered}, {"delivery.foreign", d.Foreign},
		}})
	}
	if h := s.Hub; h != nil {
		groups = append(groups, errorGroup{"hub", purple, []errorCount{
			{"hub.dropped", h.Dropped}, {"hub.refused", h.Refused}, {"hub.denied", h.Denied},
			{"hub.throttled", h.Throttled}, {"hub.taken_over", h.TakenOver},
		}})
	}
	return groups
}

// errorsPlot is a horizontal bar chart of every failure counter, the first
// at the top, each bar labelled with its count.
func errorsPlot(s *report.Summary) (*plot.Plot, int, error) {
	groups := errorGroups(s)
	var names []string
	var total, most int64
	for _, g := range groups {
		for _, c := range g.counts {
			names = append(names, c.metric)
			total += c.n
			most = max(most, c.n)
		}
	}
	n := len(names)
	title := "Failures and problems"
	if total == 0 {
		title += ": none"
	}
	p := newPlot(title, "count", "")
	// Nominal Y counts from the bottom: reverse so the list reads downwards.
	rev := make([]string, n)
	for i, name := range names {
		rev[n-1-i] = name
	}
	p.NominalY(rev...)
	p.Y.Tick.Label.Font.Variant = "Mono"
	var labels plotter.XYLabels
	i := 0
	for _, g := range groups {
		vals := make(plotter.Values, len(g.counts))
		for j, c := range g.counts {
			// Bars are drawn bottom-up from XMin; fill them in reverse.
			vals[len(g.counts)-1-j] = float64(c.n)
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c.n), Y: float64(n - 1 - i - j)})
			labels.Labels = append(labels.Labels, report.FormatCount(c.n))
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(11))
		if err != nil {
			return nil, 0, fmt.Errorf("plot errors: %w", err)
		}
		bars.Horizontal = true
		bars.XMin = float64(n - i - len(g.counts))
		bars.Color = g.color
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.Legend.Add(g.name, bars)
		i += len(g.counts)
	}
	lbl, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, 0, fmt.Errorf("plot error labels: %w", err)
	}
	for k := range lbl.TextStyle {
		lbl.TextStyle[k].Font = p.X.Tick.Label.Font
		lbl.TextStyle[k].Color = ink
		lbl.TextStyle[k].YAlign = -0.5
	}
	lbl.Offset = vg.Point{X: vg.Points(4)}
	p.Add(lbl)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(-6), vg.Points(6)
	p.X.Min, p.X.Max = 0, max(float64(most)*1.25, 1)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	if most < 5 { // integer ticks for small counts
		var ticks []plot.Tick
		for v := int64(0); float64(v) <= p.X.Max; v++ {
			ticks = append(ticks, plot.Tick{Value: float64(v), Label: strconv.FormatInt(v, 10)})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	return p, n, nil
}

// widened returns st with another width in points.
func widened(st draw.LineStyle, points float64) draw.LineStyle {
	st.Width = vg.Points(points)
	return st
}

// timeAxis sets the x range to the run's measured span.
func timeAxis(p *plot.Plot, s *report.Summary) {
	p.X.Min = 0
	if n := len(s.Series); n > 0 {
		p.X.Max = max(s.Series[n-1].TMs/1000, 1)
	} else {
		p.X.Max = 1
	}
}
