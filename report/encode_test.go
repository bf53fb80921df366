package report

import (
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The encoder must produce what hdrhistogram-go (and so every HdrHistogram
// reader) decodes to the very same histogram, for empty, sparse, dense and
// extreme contents.
func TestEncodeHistogramRoundTripsThroughHdrHistogramGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func(h *hdrhistogram.Histogram){
		"empty":  func(*hdrhistogram.Histogram) {},
		"one":    func(h *hdrhistogram.Histogram) { h.RecordValue(812) },
		"lowest": func(h *hdrhistogram.Histogram) { h.RecordValue(1) },
		"top":    func(h *hdrhistogram.Histogram) { h.RecordValue(h.HighestTrackableValue()) },
		"huge counts": func(h *hdrhistogram.Histogram) {
			h.RecordValues(5, 1<<62)
			h.RecordValues(70000, 1<<40)
		},
		"lognormal": func(h *hdrhistogram.Histogram) {
			for range 100000 {
				h.RecordValue(min(int64(rng.ExpFloat64()*500)+1, h.HighestTrackableValue()))
			}
		},
	}
	for name, fill := range cases {
		t.Run(name, func(t *testing.T) {
			h := NewLatencyHistogram(time.Minute)
			fill(h)
			enc, err := EncodeHistogram(h)
			if err != nil {
				t.Fatal(err)
			}
			got, err := hdrhistogram.Decode([]byte(enc))
			if err != nil {
				t.Fatalf("hdrhistogram-go cannot decode it: %v", err)
			}
			if !got.Equals(h) {
				t.Fatalf("decoded histogram differs: count %d max %d, want %d %d", got.TotalCount(), got.Max(), h.TotalCount(), h.Max())
			}
			// The library's own encoding decodes to the same histogram.
			lib, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := hdrhistogram.Decode(lib)
			if err != nil || !ref.Equals(got) {
				t.Fatalf("library round trip differs (%v)", err)
			}
		})
	}
}

// benchHistogram is a typical one-second interval: 5,000 latencies.
func benchHistogram() *hdrhistogram.Histogram {
	h := NewLatencyHistogram(time.Minute)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		h.RecordValue(int64(rng.ExpFloat64()*500) + 1)
	}
	return h
}

func BenchmarkEncodeHistogram(b *testing.B) {
	h := benchHistogram()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeHistogram(h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeHistogramLibrary is hdrhistogram-go's own encoder, for
// comparison.
func BenchmarkEncodeHistogramLibrary(b *testing.B) {
	h := benchHistogram()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
			b.Fatal(err)
		}
	}
}
