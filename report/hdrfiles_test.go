package report

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// readHlog reads every interval with hdrhistogram-go's own log reader.
func readHlog(t *testing.T, b []byte) []*hdrhistogram.Histogram {
	t.Helper()
	r := hdrhistogram.NewHistogramLogReader(bytes.NewReader(b))
	var out []*hdrhistogram.Histogram
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("HistogramLogReader: %v\n%s", err, b)
		}
		if h == nil {
			return out
		}
		out = append(out, h)
	}
}

// The .hlog read back with HdrHistogram's reader gives every interval's
// histogram, at its absolute time, and they add up to the run's histogram.
func TestHlogReadBackWithHdrHistogramReader(t *testing.T) {
	s := fixtureSummary(t)
	// e2e intervals as the matcher would store them.
	e2e := NewIntervalLog(0)
	h := NewLatencyHistogram(0)
	for i := range 290 {
		RecordLatency(h, time.Duration(1500+i*40)*time.Microsecond)
		if i%100 == 99 || i == 289 {
			sec := time.Duration(i/100) * time.Second
			_ = e2e.Add(sec, sec+time.Second, h)
			h.Reset()
		}
	}
	ivs, err := e2e.Intervals()
	if err != nil {
		t.Fatal(err)
	}
	s.SetIntervals(HistE2E, ivs)

	delete(s.Intervals, HistLateness) // as a summary written before lateness intervals were kept
	startMs := fixtureStart.UnixMilli()
	for _, name := range []string{HistConnect, HistPublish, HistPublishUncorrected, HistE2E, HistLateness} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteHlog(&buf, s, name); err != nil {
				t.Fatal(err)
			}
			got := readHlog(t, buf.Bytes())
			want := s.Intervals[name]
			if name == HistLateness { // no intervals stored: one for the whole run
				want = []IntervalHist{{StartMs: 0, EndMs: 3000, Hist: s.Histograms[name]}}
			}
			if len(got) != len(want) {
				t.Fatalf("read %d intervals, want %d:\n%s", len(got), len(want), buf.Bytes())
			}
			total := NewLatencyHistogram(0)
			for i, g := range got {
				w, err := want[i].Histogram()
				if err != nil {
					t.Fatal(err)
				}
				if !g.Equals(w) {
					t.Errorf("interval %d: read %d samples (max %d), stored %d (max %d)", i, g.TotalCount(), g.Max(), w.TotalCount(), w.Max())
				}
				if g.StartTimeMs() != startMs+int64(want[i].StartMs) || g.EndTimeMs() != startMs+int64(want[i].EndMs) {
					t.Errorf("interval %d: read %d..%d, want %d..%d (absolute ms)", i, g.StartTimeMs(), g.EndTimeMs(),
						startMs+int64(want[i].StartMs), startMs+int64(want[i].EndMs))
				}
				total.Merge(g)
			}
			whole, _ := s.Histogram(name)
			if !total.Equals(whole) {
				t.Errorf("intervals add up to %d samples, the run's histogram holds %d", total.TotalCount(), whole.TotalCount())
			}
		})
	}
}

func TestHlogFormat(t *testing.T) {
	s := fixtureSummary(t)
	var buf bytes.Buffer
	if err := WriteHlog(&buf, s, HistPublish); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	wantHead := []string{
		"#[fleetbench publish latency, run 20260102-150405-quickstart, scenario quickstart: values in microseconds, Interval_Max in milliseconds]",
		"#[Histogram log format version 1.3]",
		"#[StartTime: 1767366245.000 (seconds since epoch), 2026-01-02T15:04:05Z]",
		"#[BaseTime: 1767366245.000 (seconds since epoch)]",
		`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`,
	}
	for i, w := range wantHead {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	// Interval lines: "%.3f,%.3f,%.3f,HIST...", max in milliseconds.
	first := strings.Split(lines[len(wantHead)], ",")
	if len(first) != 4 || first[0] != "0.000" || first[1] != "1.000" || !strings.HasPrefix(first[3], "HIST") {
		t.Errorf("first interval line %q", lines[len(wantHead)])
	}
	h, _ := s.Intervals[HistPublish][0].Histogram()
	if want := strconv.FormatFloat(float64(h.Max())/1000, 'f', 3, 64); first[2] != want {
		t.Errorf("Interval_Max = %s, want %s (milliseconds)", first[2], want)
	}

	// Without a start time the log is relative and still readable.
	s.Run.Started = time.Time{}
	buf.Reset()
	if err := WriteHlog(&buf, s, HistPublish); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "#[StartTime") || len(readHlog(t, buf.Bytes())) != 3 {
		t.Errorf("relative log:\n%s", buf.String())
	}
	if err := WriteHlog(&buf, s, "nope"); err == nil || !strings.Contains(err.Error(), "publish") {
		t.Errorf("unknown family: err = %v, want one naming the histograms there are", err)
	}
}

func TestHgrmGolden(t *testing.T) {
	s := fixtureSummary(t)
	var buf bytes.Buffer
	if err := WriteHgrm(&buf, s, HistPublish); err != nil {
		t.Fatal(err)
	}
	golden(t, "publish.hgrm", buf.Bytes())
}

// The .hgrm holds exactly the numbers of hdrhistogram-go's own
// PercentilesPrint, in Java's layout.
func TestHgrmAgreesWithPercentilesPrint(t *testing.T) {
	s := fixtureSummary(t)
	for _, name := range []string{HistPublish, HistE2E, HistConnect} {
		h, _ := s.Histogram(name)
		var ours, theirs bytes.Buffer
		if err := WritePercentileDistribution(&ours, h, 5, 1000); err != nil {
			t.Fatal(err)
		}
		if _, err := h.PercentilesPrint(&theirs, 5, 1000); err != nil {
			t.Fatal(err)
		}
		o, th := hgrmRows(t, ours.String()), hgrmRows(t, theirs.String())
		if len(o) != len(th) || len(o) < 10 {
			t.Fatalf("%s: %d rows, PercentilesPrint has %d", name, len(o), len(th))
		}
		for i := range o {
			// value, percentile (6 decimals there), count
			if o[i][0] != th[i][0] || !closeTo(o[i][1], th[i][1], 1e-6) || o[i][2] != th[i][2] {
				t.Errorf("%s row %d: ours %v, PercentilesPrint %v", name, i, o[i], th[i])
			}
		}
		if of, tf := footer(ours.String()), footer(theirs.String()); of != tf {
			t.Errorf("%s footer differs:\n%s\n%s", name, of, tf)
		}
	}
}

func closeTo(a, b, eps float64) bool { return a-b <= eps && b-a <= eps }

// hgrmRows parses the numeric rows: value, percentile, total count.
func hgrmRows(t *testing.T, s string) [][3]float64 {
	t.Helper()
	var rows [][3]float64
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		var r [3]float64
		ok := true
		for i := range r {
			v, err := strconv.ParseFloat(f[i], 64)
			r[i], ok = v, ok && err == nil
		}
		if ok {
			rows = append(rows, r)
		}
	}
	return rows
}

// footer normalises the footer's whitespace.
func footer(s string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(line, "#[") {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(out, "\n")
}

func TestHgrmLayoutAndEmpty(t *testing.T) {
	h := NewLatencyHistogram(0)
	for i := 1; i <= 1000; i++ {
		RecordLatency(h, time.Duration(i)*time.Millisecond)
	}
	var buf bytes.Buffer
	if err := WritePercentileDistribution(&buf, h, 5, 1000); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for i, want := range map[int]string{
		0: "       Value     Percentile TotalCount 1/(1-Percentile)",
		1: "",
		2: "       1.000 0.000000000000          1           1.00",
	} {
		if lines[i] != want {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
	n := len(lines)
	if last := lines[n-5]; last != "    1000.447 1.000000000000       1000" {
		t.Errorf("last row %q: want the 100%% row without a 1/(1-Percentile) column", last)
	}
	if lines[n-2] != "#[Buckets =           16, SubBuckets     =         2048]" {
		t.Errorf("footer line %q", lines[n-2])
	}

	buf.Reset()
	if err := WritePercentileDistribution(&buf, NewLatencyHistogram(0), 5, 1000); err != nil {
		t.Fatal(err)
	}
	if rows := hgrmRows(t, buf.String()); len(rows) != 0 || !strings.Contains(buf.String(), "Total count    =            0") {
		t.Errorf("empty histogram:\n%s", buf.String())
	}
}
