package report

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HistogramUnit is the unit of every value in fleetbench's latency
// histograms: a recorded value of 812 means 812µs. Histograms produced by
// other packages (the end-to-end matcher) must use it too; use
// [NewLatencyHistogram] and [RecordLatency].
const HistogramUnit = time.Microsecond

// SignificantDigits is the precision of every latency histogram: values are
// kept to within 0.1%.
const SignificantDigits = 3

// DefaultMaxLatency is the largest latency a histogram tracks unless
// configured otherwise; larger values are recorded as this value.
const DefaultMaxLatency = 60 * time.Second

// NewLatencyHistogram returns an empty histogram tracking 1µs..maxLatency (maxLatency
// <= 0 means [DefaultMaxLatency]) at [SignificantDigits]. At 60s it holds
// about 140 KB. Like every HDR histogram it is not safe for concurrent use.
func NewLatencyHistogram(maxLatency time.Duration) *hdrhistogram.Histogram {
	if maxLatency <= 0 {
		maxLatency = DefaultMaxLatency
	}
	return hdrhistogram.New(1, durToUnits(maxLatency), SignificantDigits)
}

// RecordLatency records d into h (a histogram from [NewLatencyHistogram]),
// clamping negative durations to 0 and durations above h's range to its
// highest trackable value. It reports whether d was clamped from above. It
// never allocates and is as safe as h is (not for concurrent use).
func RecordLatency(h *hdrhistogram.Histogram, d time.Duration) (overMax bool) {
	v := durToUnits(d)
	if v < 0 {
		v = 0
	}
	if hi := h.HighestTrackableValue(); v > hi {
		v, overMax = hi, true
	}
	_ = h.RecordValue(v) // cannot fail: v is within [0, highest]
	return overMax
}

func durToUnits(d time.Duration) int64 { return int64(d / HistogramUnit) }

// unitsToMs converts a histogram value to milliseconds.
func unitsToMs(v float64) float64 { return v * float64(HistogramUnit) / float64(time.Millisecond) }

// EncodeHistogram returns h in the HdrHistogram V2 compressed, base64 form
// stored in [Summary.Histograms] (readable by every HdrHistogram
// implementation and by HistogramLogAnalyzer).
// It reuses a pooled encoder (histEncoder), so it is cheap to call once a
// second per family; safe for concurrent use.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	e := encoders.Get().(*histEncoder)
	defer encoders.Put(e)
	s, err := e.encode(h)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return s, nil
}

// DecodeHistogram is the inverse of [EncodeHistogram].
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram (HdrHistogram V2 compressed base64 expected): %w", err)
	}
	return h, nil
}
