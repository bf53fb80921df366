package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s",
			path, got, want)
	}
}

func TestWriteTextGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Summary)
	}{
		{"full", func(*Summary) {}},
		{"stalled_hub", stalledHub},
		{"interrupted_qos0", func(s *Summary) {
			s.Interrupted = true
			s.Config.QoS = 0
			s.Publish.Latency = Latency{}
			s.Publish.LatencyUncorrected = Latency{}
			s.Delivery, s.Hub, s.Thresholds, s.Errors = nil, nil, nil, nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := fixtureSummary(t)
			c.edit(s)
			var buf bytes.Buffer
			if err := WriteText(&buf, s); err != nil {
				t.Fatal(err)
			}
			golden(t, "text_"+c.name, buf.Bytes())
		})
	}
}

func TestWriteTextContent(t *testing.T) {
	s := fixtureSummary(t)
	s.Interrupted = true
	var buf bytes.Buffer
	if err := WriteText(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"INTERRUPTED — partial results", "127.0.0.1:8883 (embedded)", "refused_auth 1, timeout 1",
		"corrected   uncorrected", "sim-000003#17, sim-000007#21 … and 2 more", "✓ publish.p99 < 50ms",
		"✗ delivery.ratio > 0.999", "refused_auth (check auth.key_env)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "INTERRUPTED"); n != 2 {
		t.Errorf("interrupted banner appears %d times, want at the top and the bottom", n)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrors(t *testing.T) {
	s := fixtureSummary(t)
	if err := WriteText(failWriter{}, s); err == nil {
		t.Error("WriteText to a failing writer returned nil")
	}
	if err := WriteJSON(failWriter{}, s); err == nil {
		t.Error("WriteJSON to a failing writer returned nil")
	}
}

func TestFormatters(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtMs(0), "0µs"},
		{fmtMs(0.0004), "0.40µs"},
		{fmtMs(0.812), "812µs"},
		{fmtMs(0.9999), "1.00ms"},
		{fmtMs(1.234), "1.23ms"},
		{fmtMs(12.44), "12.4ms"},
		{fmtMs(999.6), "1.00s"},
		{fmtMs(1200), "1.20s"},
		{fmtMs(62_000), "62.0s"},
		{fmtMs(620_000), "620s"},
		{fmtMs(3_723_000), "1h2m3s"},
		{fmtMs(-1), "-"},
		{fmtCount(0), "0"},
		{fmtCount(999), "999"},
		{fmtCount(1000), "1,000"},
		{fmtCount(1234567), "1,234,567"},
		{fmtCount(-1234), "-1,234"},
		{fmtRate(1000), "1,000/s"},
		{fmtRate(998.74), "998.7/s"},
		{fmtRate(2.5), "2.5/s"},
		{fmtRate(2.467), "2.47/s"},
		{fmtRate(998.74), "998.7/s"},
		{fmtRate(999.96), "1,000/s"},
		// One rate, one text: a mean computed as 49.99999999 is 50/s.
		{fmtRate(50), "50/s"},
		{fmtRate(49.99999999), "50/s"},
		{fmtRate(-12.5), "-12.5/s"},
		{fmtRate(12345.6), "12,346/s"},
		{fmtPct(0), "0%"},
		{fmtPct(1), "100%"},
		{fmtPct(0.99874), "99.87%"},
		{fmtBytes(812), "812 B"},
		{fmtBytes(18.5 * 1024), "18.5 KiB"},
		{fmtBytes(48 << 20), "48.0 MiB"},
		{fmtMetric("publish.p99", 0.0124), "12.4ms"},
		{fmtMetric("delivery.ratio", 0.5), "50.00%"},
		{fmtMetric("publish.rate", 100), "100/s"},
		{fmtMetric("publish.sent", 12345), "12,345"},
		{fmtMetric("connect.failed", 2), "2"},
		{fmtMetric("connect.max", 2), "2.00s"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
