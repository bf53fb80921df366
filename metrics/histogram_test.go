package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/fleetbench/fleetbench/report"
)

func writeHistogram(t *testing.T, samples []time.Duration) *dto.Histogram {
	t.Helper()
	h := report.NewLatencyHistogram(0)
	for _, d := range samples {
		report.RecordLatency(h, d)
	}
	desc := prometheus.NewDesc("x_seconds", "test", nil, nil)
	m, err := histogramMetric(desc, h)
	if err != nil {
		t.Fatal(err)
	}
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetHistogram()
}

// nativeCounts expands a native histogram's spans and deltas into counts
// by bucket index.
func nativeCounts(h *dto.Histogram) map[int]uint64 {
	counts := map[int]uint64{}
	idx, deltaAt := 0, 0
	var running int64
	for i, sp := range h.GetPositiveSpan() {
		if i == 0 {
			idx = int(sp.GetOffset())
		} else {
			idx += int(sp.GetOffset())
		}
		for range sp.GetLength() {
			running += h.GetPositiveDelta()[deltaAt]
			deltaAt++
			if running != 0 {
				counts[idx] = uint64(running)
			}
			idx++
		}
	}
	return counts
}

// The classic buckets count exactly the samples at or below each bound
// (samples chosen away from the bounds, where HDR's 0.1% cannot blur
// them), the native buckets hold each sample in the bucket whose bounds
// contain it, and both add up to the count.
func TestHistogramHasClassicAndNativeBuckets(t *testing.T) {
	samples := []time.Duration{
		0, 300 * time.Nanosecond, // under 1µs: the zero bucket
		40 * time.Microsecond, 700 * time.Microsecond, 700 * time.Microsecond,
		3 * time.Millisecond, 42 * time.Millisecond, 420 * time.Millisecond,
		7 * time.Second, 45 * time.Second,
	}
	h := writeHistogram(t, samples)
	if h.GetSampleCount() != uint64(len(samples)) {
		t.Fatalf("count %d, want %d", h.GetSampleCount(), len(samples))
	}
	var wantSum float64
	for _, d := range samples {
		wantSum += d.Truncate(time.Microsecond).Seconds()
	}
	if math.Abs(h.GetSampleSum()-wantSum) > wantSum*0.001 {
		t.Errorf("sum %g s, want %g s within 0.1%%", h.GetSampleSum(), wantSum)
	}
	if len(h.GetBucket()) != len(ClassicBuckets) {
		t.Fatalf("%d classic buckets, want %d", len(h.GetBucket()), len(ClassicBuckets))
	}
	for _, b := range h.GetBucket() {
		var want uint64
		for _, d := range samples {
			if d.Seconds() <= b.GetUpperBound() {
				want++
			}
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%g holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if h.GetSchema() != NativeSchema || h.GetZeroThreshold() != ZeroThreshold {
		t.Errorf("schema %d zero threshold %g, want %d and %g", h.GetSchema(), h.GetZeroThreshold(), NativeSchema, ZeroThreshold)
	}
	if h.GetZeroCount() != 2 {
		t.Errorf("zero bucket %d, want the 2 samples under 1µs", h.GetZeroCount())
	}
	got := nativeCounts(h)
	want := map[int]uint64{}
	for _, d := range samples[2:] {
		want[int(math.Ceil(math.Log2(d.Seconds())*256))]++
	}
	var total uint64
	for i, n := range got {
		total += n
		if want[i] != n {
			t.Errorf("native bucket %d holds %d, want %d", i, n, want[i])
		}
	}
	if total+h.GetZeroCount() != h.GetSampleCount() {
		t.Errorf("native buckets hold %d + zero %d, count %d", total, h.GetZeroCount(), h.GetSampleCount())
	}
}

// An empty histogram is still a native histogram (zero threshold set), with
// no buckets filled.
func TestEmptyHistogram(t *testing.T) {
	h := writeHistogram(t, nil)
	if h.GetSampleCount() != 0 || h.GetZeroThreshold() == 0 || len(nativeCounts(h)) != 0 {
		t.Errorf("empty histogram: %v", h)
	}
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() != 0 {
			t.Errorf("empty histogram has %d in le=%g", b.GetCumulativeCount(), b.GetUpperBound())
		}
	}
}

// The native bucket index follows Prometheus' definition: bucket i holds
// (2^((i-1)/256), 2^(i/256)].
func TestNativeIndex(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want int
	}{
		{1, 0},                           // upper bound of bucket 0
		{math.Exp2(1.0 / 256), 1},        // upper bound of bucket 1
		{math.Exp2(1.0/256) * 1.0001, 2}, // just above it
		{0.5, -256},
		{2, 256},
	} {
		if got := nativeIndex(c.v); got != c.want {
			t.Errorf("nativeIndex(%g) = %d, want %d", c.v, got, c.want)
		}
	}
}
