package report

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// msPerUnit converts histogram values (microseconds) to the milliseconds
// HdrHistogram's tools show: the "value unit ratio" of .hlog Interval_Max
// and of .hgrm values.
const msPerUnit = float64(time.Millisecond / HistogramUnit)

// WriteHlog writes the named latency family (a key of Summary.Histograms,
// e.g. [HistPublish]) as an HdrHistogram interval log, format version 1.3:
// the .hlog that HdrHistogram's own tools read (HistogramLogProcessor,
// HistogramLogAnalyzer, hdrhistogram-go's HistogramLogReader), line for
// line the form Java's HistogramLogWriter writes.
//
// Interval timestamps are seconds since the run's start, with StartTime and
// BaseTime headers set to Summary.Run.Started (omitted when unknown) so
// readers recover absolute times. Histogram values are microseconds; the
// Interval_Max column is in milliseconds (max value unit ratio 1000). A
// family without per-interval histograms (an older summary, or "lateness")
// is written as one interval spanning the whole run.
func WriteHlog(w io.Writer, s *Summary, name string) error {
	ivs, err := hlogIntervals(s, name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "#[fleetbench %s latency, run %s, scenario %s: values in microseconds, Interval_Max in milliseconds]\n",
		name, orDash(s.Run.ID), orDash(s.Run.Scenario))
	fmt.Fprintf(bw, "#[Histogram log format version 1.3]\n")
	if st := s.Run.Started; !st.IsZero() {
		sec := float64(st.UnixMilli()) / 1000
		fmt.Fprintf(bw, "#[StartTime: %.3f (seconds since epoch), %s]\n", sec, st.UTC().Format(time.RFC3339Nano))
		fmt.Fprintf(bw, "#[BaseTime: %.3f (seconds since epoch)]\n", sec)
	}
	fmt.Fprintf(bw, "%q,%q,%q,%q\n", "StartTimestamp", "Interval_Length", "Interval_Max", "Interval_Compressed_Histogram")
	for _, iv := range ivs {
		h, err := iv.Histogram()
		if err != nil {
			return fmt.Errorf("write %s.hlog: interval at %.3fs: %w", name, iv.StartMs/1000, err)
		}
		fmt.Fprintf(bw, "%.3f,%.3f,%.3f,%s\n", iv.StartMs/1000, (iv.EndMs-iv.StartMs)/1000,
			float64(maxOf(h))/msPerUnit, iv.Hist)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s.hlog: %w", name, err)
	}
	return nil
}

// hlogIntervals returns the family's intervals, or its whole-run histogram
// as a single interval.
func hlogIntervals(s *Summary, name string) ([]IntervalHist, error) {
	if ivs := s.Intervals[name]; len(ivs) > 0 {
		return ivs, nil
	}
	enc, ok := s.Histograms[name]
	if !ok {
		_, err := s.Histogram(name) // the error names the histograms there are
		return nil, fmt.Errorf("write %s.hlog: %w", name, err)
	}
	return []IntervalHist{{StartMs: 0, EndMs: runEndMs(s), Hist: enc}}, nil
}

// runEndMs is the end of the measurement: the last series point, or the
// run's phases added up.
func runEndMs(s *Summary) float64 {
	if n := len(s.Series); n > 0 {
		return s.Series[n-1].TMs
	}
	return s.Run.ConnectPhaseMs + s.Run.PublishPhaseMs + s.Run.DrainPhaseMs
}
