package metrics

import (
	"fmt"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/fleetbench/fleetbench/report"
)

// ClassicBuckets are the upper bounds, in seconds, of every latency
// histogram's classic buckets: 100µs to 60s (the recorder's default
// range), about three to a decade, for histogram_quantile on servers
// without native histograms.
var ClassicBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

// NativeSchema is the schema of the native buckets: 8, the finest
// Prometheus allows, where bucket i holds (2^((i-1)/256), 2^(i/256)]
// seconds, a width of 0.27% of the value. That is coarser than the HDR
// histograms' 0.1% (3 significant digits), so the reports' quantiles stay
// the reference; a Prometheus quantile is within 0.27% of the value plus
// its own interpolation.
const NativeSchema = 8

// ZeroThreshold is the native zero bucket's bound in seconds: 2^-20 s
// (about 0.95µs), below the HDR histograms' 1µs unit, so the zero bucket
// holds exactly the samples recorded as 0 (under 1µs) and lies on a bucket
// boundary at every schema.
var ZeroThreshold = math.Ldexp(1, -20)

// unitSeconds is one HDR histogram unit in seconds.
var unitSeconds = report.HistogramUnit.Seconds()

// histogramMetric converts h (values in report.HistogramUnit) into one
// Prometheus histogram with both ClassicBuckets and native buckets at
// NativeSchema, with desc's constant labels and labelValues. Each HDR
// bucket's samples count at the bucket's middle value, in seconds; the sum
// is taken the same way (as HDR's own mean). It allocates in proportion to
// h's buckets: call it at scrape time, never per sample.
func histogramMetric(desc *prometheus.Desc, h *hdrhistogram.Histogram, labelValues ...string) (prometheus.Metric, error) {
	count := uint64(h.TotalCount())
	classic := make([]uint64, len(ClassicBuckets))
	native := map[int]int64{}
	var zero uint64
	var sum float64
	key, upper := 0, 0.0 // the native bucket of the last sample and its upper bound
	if count > 0 {
		for _, bar := range h.Distribution() { // ascending values
			if bar.Count == 0 {
				continue
			}
			v := (float64(bar.From) + float64(bar.To)) / 2 * unitSeconds
			sum += v * float64(bar.Count)
			for i, le := range ClassicBuckets {
				if v <= le {
					classic[i] += uint64(bar.Count)
					break
				}
			}
			if v <= ZeroThreshold {
				zero += uint64(bar.Count)
			} else {
				if v > upper {
					key = nativeIndex(v)
					upper = math.Exp2(float64(key) / (1 << NativeSchema))
				}
				native[key] += bar.Count
			}
		}
	}
	cumulative := make(map[float64]uint64, len(ClassicBuckets))
	var running uint64
	for i, le := range ClassicBuckets {
		running += classic[i]
		cumulative[le] = running
	}
	c, err := prometheus.NewConstHistogram(desc, count, sum, cumulative, labelValues...)
	if err != nil {
		return nil, err
	}
	n, err := prometheus.NewConstNativeHistogram(desc, count, sum, native, nil, zero, NativeSchema, ZeroThreshold, time.Time{}, labelValues...)
	if err != nil {
		return nil, err
	}
	var both, nat dto.Metric
	if err := c.Write(&both); err != nil {
		return nil, err
	}
	if err := n.Write(&nat); err != nil {
		return nil, err
	}
	bh, nh := both.GetHistogram(), nat.GetHistogram()
	if bh == nil || nh == nil {
		return nil, fmt.Errorf("metrics: %s: client_golang wrote no histogram", desc)
	}
	bh.Schema, bh.ZeroThreshold, bh.ZeroCount = nh.Schema, nh.ZeroThreshold, nh.ZeroCount
	bh.PositiveSpan, bh.PositiveDelta = nh.PositiveSpan, nh.PositiveDelta
	// No created timestamp: a run's histograms start empty with the run.
	return &written{desc: desc, m: &both}, nil
}

// nativeIndex is the index of the native bucket at NativeSchema that
// holds v seconds (v > 0): the smallest i with v <= 2^(i/2^schema).
// Log2 may land a hair off an exact bound; the bounds decide.
func nativeIndex(v float64) int {
	const perOctave = 1 << NativeSchema
	i := int(math.Ceil(math.Log2(v) * perOctave))
	if math.Exp2(float64(i-1)/perOctave) >= v {
		i--
	} else if math.Exp2(float64(i)/perOctave) < v {
		i++
	}
	return i
}

// written is a metric whose protobuf form is built already (a histogram
// with classic and native buckets, which client_golang has no constant
// constructor for).
type written struct {
	desc *prometheus.Desc
	m    *dto.Metric
}

func (w *written) Desc() *prometheus.Desc { return w.desc }

func (w *written) Write(out *dto.Metric) error {
	out.Label, out.Histogram, out.TimestampMs = w.m.Label, w.m.Histogram, w.m.TimestampMs
	return nil
}
