package htmlreport

import (
	"fmt"

	"github.com/fleetbench/fleetbench/report"
)

// ivStat is what the time-series plots need of one interval histogram.
type ivStat struct {
	endS, lenS float64 // interval end since run start, and its length, in seconds
	count      int64   // samples in the interval
	p99ms      float64 // 99th percentile in milliseconds; 0 without samples
}

// intervalStats decodes every stored interval histogram once.
func intervalStats(s *report.Summary) (map[string][]ivStat, error) {
	out := make(map[string][]ivStat, len(s.Intervals))
	for name, ivs := range s.Intervals {
		stats := make([]ivStat, 0, len(ivs))
		for _, iv := range ivs {
			h, err := iv.Histogram()
			if err != nil {
				return nil, fmt.Errorf("%s interval at %.3fs: %w", name, iv.StartMs/1000, err)
			}
			st := ivStat{endS: iv.EndMs / 1000, lenS: (iv.EndMs - iv.StartMs) / 1000, count: h.TotalCount()}
			if st.count > 0 {
				st.p99ms = float64(h.ValueAtQuantile(99)) * msPerUnit
			}
			stats = append(stats, st)
		}
		out[name] = stats
	}
	return out, nil
}
