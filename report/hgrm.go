package report

import (
	"bufio"
	"fmt"
	"io"
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HgrmTicksPerHalfDistance is the percentile resolution of .hgrm files:
// HdrHistogram's default of 5 reporting points per halving of the distance
// to 100% (0%, 10%, ... 50%, 55%, ... 75%, 77.5%, ...).
const HgrmTicksPerHalfDistance = 5

// WriteHgrm writes the named latency family's whole-run histogram (a key of
// Summary.Histograms, e.g. [HistPublish]) as an HdrHistogram percentile
// distribution (.hgrm) with values in milliseconds: the file HdrHistogram's
// plotter (hdrhistogram.github.io/HdrHistogram/plotFiles.html) and
// HistogramLogProcessor users know. See [WritePercentileDistribution].
func WriteHgrm(w io.Writer, s *Summary, name string) error {
	h, err := s.Histogram(name)
	if err != nil {
		return fmt.Errorf("write %s.hgrm: %w", name, err)
	}
	if err := WritePercentileDistribution(w, h, HgrmTicksPerHalfDistance, msPerUnit); err != nil {
		return fmt.Errorf("write %s.hgrm: %w", name, err)
	}
	return nil
}

// WritePercentileDistribution writes h's percentile distribution in the
// classic text form of Java HdrHistogram's outputPercentileDistribution:
// a "Value Percentile TotalCount 1/(1-Percentile)" table with
// ticksPerHalfDistance rows per halving of the distance to 100%, values
// divided by valueScale (1000 turns microseconds into milliseconds) and
// printed with h's significant digits as decimals, then the Mean,
// StdDeviation, Max, Total count, Buckets and SubBuckets footer.
//
// hdrhistogram-go's PercentilesPrint writes the same numbers in a different
// layout (tab-separated header, 6-digit percentiles, an "inf" column on the
// last row); this writes Java's, byte for byte. An empty histogram gives the
// header and the footer only, as Java does.
func WritePercentileDistribution(w io.Writer, h *hdrhistogram.Histogram, ticksPerHalfDistance int, valueScale float64) error {
	bw := bufio.NewWriter(w)
	digits := int(h.SignificantFigures())
	fmt.Fprintf(bw, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")
	if h.TotalCount() > 0 {
		for _, b := range h.CumulativeDistributionWithTicks(int32(ticksPerHalfDistance)) {
			v, q := float64(b.ValueAt)/valueScale, b.Quantile/100
			if b.Quantile != 100 {
				fmt.Fprintf(bw, "%12.*f %2.12f %10d %14.2f\n", digits, v, q, b.Count, 1/(1-q))
			} else {
				fmt.Fprintf(bw, "%12.*f %2.12f %10d\n", digits, v, q, b.Count)
			}
		}
	}
	buckets, subBuckets := geometry(h)
	fmt.Fprintf(bw, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", digits, h.Mean()/valueScale, digits, h.StdDev()/valueScale)
	fmt.Fprintf(bw, "#[Max     = %12.*f, Total count    = %12d]\n", digits, float64(maxOf(h))/valueScale, h.TotalCount())
	fmt.Fprintf(bw, "#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, subBuckets)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write percentile distribution: %w", err)
	}
	return nil
}

// geometry returns h's bucket and sub-bucket counts, which hdrhistogram-go
// does not export: the computation of HdrHistogram's constructor (Java's
// AbstractHistogram.init and getBucketsNeededToCoverValue).
func geometry(h *hdrhistogram.Histogram) (buckets, subBuckets int64) {
	digits := int(h.SignificantFigures())
	subBucketCountMagnitude := int(math.Ceil(math.Log2(2 * math.Pow10(digits))))
	subBucketHalfCountMagnitude := max(subBucketCountMagnitude, 1) - 1
	unitMagnitude := max(int(math.Floor(math.Log2(float64(max(h.LowestTrackableValue(), 1))))), 0)
	subBuckets = int64(1) << (subBucketHalfCountMagnitude + 1)
	smallestUntrackable := subBuckets << unitMagnitude
	buckets = 1
	for smallestUntrackable <= h.HighestTrackableValue() {
		if smallestUntrackable > math.MaxInt64/2 {
			return buckets + 1, subBuckets
		}
		smallestUntrackable <<= 1
		buckets++
	}
	return buckets, subBuckets
}
