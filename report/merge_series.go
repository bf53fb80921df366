package report

import (
	"maps"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// mergeSeries puts the shards' series points on one grid: counts of the
// same step add up, the connected gauge is the sum of every shard's latest
// gauge at that step, rates are recomputed over the merged interval, and
// the latency percentiles come from the merged interval histograms of the
// step (publish, lateness), null where the step has no samples. coarse
// reports that some interval histograms covered more than one point (a
// run longer than the interval log's cap): those points' percentiles are
// those of the longer interval.
func mergeSeries(g timeGrid, shards []*Summary, ivs map[string][]*mergedInterval) (series []Point, coarse bool) {
	acc := map[int]*Point{}
	gauges := make([]map[int]int64, len(shards)) // per shard: step -> gauge at its last point there
	for i, s := range shards {
		gauges[i] = map[int]int64{}
		for _, p := range s.Series {
			k := g.step(p.TMs)
			a := acc[k]
			if a == nil {
				a = &Point{TMs: p.TMs}
				acc[k] = a
			}
			a.TMs = max(a.TMs, p.TMs)
			a.Connects += p.Connects
			a.ConnectFailed += p.ConnectFailed
			a.Disconnects += p.Disconnects
			a.Due += p.Due
			a.Sent += p.Sent
			a.Acked += p.Acked
			a.Failed += p.Failed
			a.Late += p.Late
			a.Missed += p.Missed
			a.Confirmed += p.Confirmed
			gauges[i][k] = p.Connected
		}
	}
	steps := slices.Sorted(maps.Keys(acc))
	last := make([]int64, len(shards)) // each shard's gauge so far
	series = make([]Point, 0, len(steps))
	prevEnd := 0.0
	for _, k := range steps {
		p := *acc[k]
		p.IntervalMs = p.TMs - prevEnd // every shard's series starts at the epoch
		prevEnd = p.TMs
		for i := range shards {
			if v, ok := gauges[i][k]; ok {
				last[i] = v
			}
			p.Connected += last[i]
		}
		if p.IntervalMs > 0 {
			p.SentRate = float64(p.Sent) / (p.IntervalMs / 1000)
			p.AckedRate = float64(p.Acked) / (p.IntervalMs / 1000)
		}
		if h, wide := covering(ivs[HistPublish], k, steps); h != nil {
			p.PublishP50Ms = intervalQuantileMs(h, 50)
			p.PublishP99Ms = intervalQuantileMs(h, 99)
			p.PublishMaxMs = intervalMaxMs(h)
			coarse = coarse || wide
		}
		if h, wide := covering(ivs[HistLateness], k, steps); h != nil {
			p.LatenessP99Ms = intervalQuantileMs(h, 99)
			coarse = coarse || wide
		}
		series = append(series, p)
	}
	return series, coarse
}

// covering returns the merged interval histogram whose steps (from, to]
// hold step k, and whether it also holds another point's step; nil when
// none does.
func covering(ivs []*mergedInterval, k int, steps []int) (*hdrhistogram.Histogram, bool) {
	i, _ := slices.BinarySearchFunc(ivs, k, func(mi *mergedInterval, k int) int { return mi.to - k })
	if i == len(ivs) || ivs[i].from >= k {
		return nil, false
	}
	mi := ivs[i]
	lo, _ := slices.BinarySearch(steps, mi.from+1)
	hi, _ := slices.BinarySearch(steps, mi.to+1)
	return mi.h, hi-lo > 1
}
