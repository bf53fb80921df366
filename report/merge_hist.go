package report

import (
	"fmt"
	"maps"
	"math"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// histMerger adds up encoded histograms of many shards exactly. Every
// histogram must share the first one's settings (lowest and highest
// trackable value, significant figures): a histogram of another range
// could not be added without losing or moving samples.
type histMerger struct {
	settings   *hdrhistogram.Histogram // the first histogram seen; nil before
	settingsOf string                  // where it came from, for errors
}

// add decodes enc and adds it to dst (allocated with the settings on first
// use when nil). what names the histogram for errors ("shard 2/4 publish
// histogram").
func (m *histMerger) add(dst **hdrhistogram.Histogram, enc, what string) error {
	h, err := DecodeHistogram(enc)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if m.settings == nil {
		m.settings, m.settingsOf = h, what
	}
	if err := sameSettings(m.settings, h); err != nil {
		return fmt.Errorf("%s tracks %s, but %s tracks %s: shards must run the same fleetbench with the same histogram range",
			what, err, m.settingsOf, describeSettings(m.settings))
	}
	if *dst == nil {
		*dst = hdrhistogram.New(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	}
	if dropped := (*dst).Merge(h); dropped > 0 {
		return fmt.Errorf("%s: merging would drop %d of its %d values", what, dropped, h.TotalCount())
	}
	return nil
}

// sameSettings is nil when a and b share their geometry, else b's settings.
func sameSettings(a, b *hdrhistogram.Histogram) error {
	if a.LowestTrackableValue() == b.LowestTrackableValue() &&
		a.HighestTrackableValue() == b.HighestTrackableValue() &&
		a.SignificantFigures() == b.SignificantFigures() {
		return nil
	}
	return fmt.Errorf("%s", describeSettings(b))
}

func describeSettings(h *hdrhistogram.Histogram) string {
	return fmt.Sprintf("%d..%d µs at %d significant figures",
		h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures())
}

// mergeWholeRun merges every shard's Histograms by name into out; it
// returns the decoded merged histograms by name for the statistics.
func mergeWholeRun(m *histMerger, shards []*Summary, out *Summary) (map[string]*hdrhistogram.Histogram, error) {
	merged := map[string]*hdrhistogram.Histogram{}
	for _, s := range shards {
		for _, name := range slices.Sorted(maps.Keys(s.Histograms)) {
			h := merged[name]
			if err := m.add(&h, s.Histograms[name], shardName(s)+" "+name+" histogram"); err != nil {
				return nil, err
			}
			merged[name] = h
		}
	}
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		if err := out.SetHistogram(name, merged[name]); err != nil {
			return nil, err
		}
	}
	return merged, nil
}

// timeGrid places series points and intervals of shards that share one
// epoch on one grid of collection intervals. A shard ticks at (about)
// every multiple of the interval since the epoch, a little late on a
// loaded machine, and once more at its end; a time t belongs to grid step
// ceil(t/interval - lateSlack): ticks up to a quarter of an interval late
// stay on their step, and a final tick more than that past the last step
// gets a step of its own.
type timeGrid struct{ intervalMs float64 }

const lateSlack = 0.25

func (g timeGrid) step(tMs float64) int {
	return int(math.Ceil(tMs/g.intervalMs - lateSlack))
}

// gridOf infers the shards' collection interval: the median length of
// their series points (a point after a skipped tick is longer, the last
// one shorter; the median is neither). 1 s without points.
func gridOf(shards []*Summary) timeGrid {
	var lens []float64
	for _, s := range shards {
		for _, p := range s.Series {
			if p.IntervalMs > 0 {
				lens = append(lens, p.IntervalMs)
			}
		}
	}
	if len(lens) == 0 {
		return timeGrid{intervalMs: Ms(DefaultInterval)}
	}
	slices.Sort(lens)
	return timeGrid{intervalMs: lens[len(lens)/2]}
}

// mergedInterval is one grid step's merged interval histogram of a family.
type mergedInterval struct {
	from, to int // grid steps: the interval covers steps (from, to]
	startMs  float64
	endMs    float64
	h        *hdrhistogram.Histogram
}

// mergeIntervals merges every shard's interval histograms, family by
// family, on the grid: entries of the same step add up. It stores them in
// out.Intervals and returns them by family, in time order.
func mergeIntervals(m *histMerger, g timeGrid, shards []*Summary, out *Summary) (map[string][]*mergedInterval, error) {
	byFamily := map[string]map[int]*mergedInterval{}
	for _, s := range shards {
		for _, name := range slices.Sorted(maps.Keys(s.Intervals)) {
			steps := byFamily[name]
			if steps == nil {
				steps = map[int]*mergedInterval{}
				byFamily[name] = steps
			}
			for _, iv := range s.Intervals[name] {
				to := g.step(iv.EndMs)
				mi := steps[to]
				if mi == nil {
					mi = &mergedInterval{from: g.step(iv.StartMs), to: to, startMs: iv.StartMs, endMs: iv.EndMs}
					steps[to] = mi
				}
				mi.from, mi.startMs = min(mi.from, g.step(iv.StartMs)), min(mi.startMs, iv.StartMs)
				mi.endMs = max(mi.endMs, iv.EndMs)
				what := fmt.Sprintf("%s %s interval at %.3fs", shardName(s), name, iv.StartMs/1000)
				if err := m.add(&mi.h, iv.Hist, what); err != nil {
					return nil, err
				}
			}
		}
	}
	result := map[string][]*mergedInterval{}
	for name, steps := range byFamily {
		var ivs []IntervalHist
		for _, to := range slices.Sorted(maps.Keys(steps)) {
			mi := steps[to]
			enc, err := EncodeHistogram(mi.h)
			if err != nil {
				return nil, fmt.Errorf("merged %s interval at %.3fs: %w", name, mi.startMs/1000, err)
			}
			ivs = append(ivs, IntervalHist{StartMs: mi.startMs, EndMs: mi.endMs, Hist: enc})
			result[name] = append(result[name], mi)
		}
		out.SetIntervals(name, ivs)
	}
	return result, nil
}
