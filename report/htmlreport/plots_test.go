package htmlreport

import (
	"regexp"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/report/reporttest"
)

// The p99 plot leaves a gap where an interval holds no samples: the
// corrected publish line (solid orange) is drawn as two pieces around an
// interval without acknowledgements, not as one line sloping across it.
func TestP99PlotLeavesAGapWhereNoSamples(t *testing.T) {
	s := reporttest.Run(reporttest.Options{})
	gap := &s.Series[len(s.Series)/2]
	gap.Acked, gap.AckedRate = 0, 0
	gap.PublishP50Ms, gap.PublishP99Ms, gap.PublishMaxMs = nil, nil, nil
	out := render(t, s)
	a := strings.Index(out, `id="plot-p99"`)
	b := strings.Index(out[a:], "</figure>")
	solidOrange := regexp.MustCompile(`<path d="[^"]*" style="fill:none;stroke:#F28E2B;stroke-width:[0-9.]+" />`)
	// One is the legend's sample of the line; the rest are data.
	if n := len(solidOrange.FindAllString(out[a:a+b], -1)) - 1; n != 2 {
		t.Errorf("corrected publish p99 drawn as %d lines, want 2 (one each side of the interval without samples at %.0fs)", n, gap.TMs/1000)
	}
}

// Runs of intervals with samples become segments; an interval without
// samples ends one, and a lone interval is a segment of one point.
func TestP99Segments(t *testing.T) {
	segs := p99Segments([]ivStat{
		{endS: 1, count: 5, p99ms: 2}, {endS: 2, count: 0}, {endS: 3, count: 1, p99ms: 4},
		{endS: 4, count: 0}, {endS: 5, count: 0}, {endS: 6, count: 3, p99ms: 1}, {endS: 7, count: 2, p99ms: 3},
	})
	want := [][]float64{{1}, {3}, {6, 7}}
	if len(segs) != len(want) {
		t.Fatalf("%d segments %v, want %d", len(segs), segs, len(want))
	}
	for i, seg := range segs {
		if len(seg) != len(want[i]) {
			t.Fatalf("segment %d = %v, want x %v", i, seg, want[i])
		}
		for j, xy := range seg {
			if xy.X != want[i][j] {
				t.Errorf("segment %d point %d at x=%v, want %v", i, j, xy.X, want[i][j])
			}
		}
	}
	if segs := p99Segments([]ivStat{{endS: 1}, {endS: 2}}); len(segs) != 0 {
		t.Errorf("no samples at all gave segments %v", segs)
	}
}
