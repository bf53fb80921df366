package htmlreport

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/reporttest"
)

func render(t *testing.T, s *report.Summary) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Nothing in the page points outside it: no URL, script, stylesheet link
// or external font, so it works offline and from an archived artifact.
func TestWriteIsSelfContained(t *testing.T) {
	out := render(t, reporttest.Run(reporttest.Options{Consumer: true, Spike: true}))
	for _, banned := range []string{"http:", "https:", "ftp:", "//www", "<script", "<link", "@import", "url(", " src=", " href=", "xlink:", "<iframe", "<object"} {
		if i := strings.Index(strings.ToLower(out), banned); i >= 0 {
			t.Errorf("report.html contains %q: %q", banned, out[max(0, i-60):min(len(out), i+60)])
		}
	}
	for _, id := range PlotIDs() {
		re := regexp.MustCompile(`<figure id="` + id + `"><svg viewBox="0 0 [0-9.]+ [0-9.]+" role="img" aria-label="[^"]+">`)
		if n := len(re.FindAllStringIndex(out, -1)); n != 1 {
			t.Errorf("plot %s: %d figures with an inline <svg>, want 1", id, n)
		}
	}
	if n, m := strings.Count(out, "<svg "), strings.Count(out, "</svg>"); n != len(PlotIDs()) || m != n {
		t.Errorf("%d <svg> and %d </svg>, want %d each", n, m, len(PlotIDs()))
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	opts := reporttest.Options{Consumer: true, Missed: 5}
	a, b := render(t, reporttest.Run(opts)), render(t, reporttest.Run(opts))
	if a != b {
		t.Error("two renderings of equal summaries differ")
	}
}

// A run that measured nothing still renders every plot, with its axes.
func TestWriteEmptySummary(t *testing.T) {
	s := report.Build(report.NewRecorder(report.RecorderConfig{Shards: 1}).Result(0), report.RunInfo{}, report.ConfigEcho{})
	out := render(t, s)
	for _, want := range []string{"Latency by percentile (no samples)", "Failures and problems: none", "no samples", "fleetbench · run"} {
		if !strings.Contains(out, want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
	for _, id := range PlotIDs() {
		if !strings.Contains(out, `<figure id="`+id+`"><svg `) {
			t.Errorf("empty report lacks plot %s", id)
		}
	}
	// A summary from before interval histograms existed renders too.
	s = reporttest.Run(reporttest.Options{Consumer: true})
	s.Intervals = nil
	if out := render(t, s); !strings.Contains(out, `id="plot-p99"`) {
		t.Error("summary without intervals did not render")
	}
}

func TestWriteContent(t *testing.T) {
	s := reporttest.WithThresholds(reporttest.Run(reporttest.Options{ConnectFails: 2}),
		reporttest.Threshold{Metric: "publish.p99", Op: "<", Bound: 0.001, Text: "< 1ms"},
		reporttest.Threshold{Metric: "e2e.p99", Op: "<", Bound: 1, Text: "< 1s"})
	s.Run.Scenario = `<script>alert("x")</script>`
	s.Interrupted = true
	s.Errors = []string{"1 device refused: <b>bold</b>"}
	out := render(t, s)
	for _, want := range []string{
		"FAILED", "2 of 2 thresholds failed", `id="interrupted"`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&lt;b&gt;bold&lt;/b&gt;",
		"<code>e2e.p99</code></td><td><code>&lt; 1s</code></td><td class=\"n\">no data</td>",
		"failed attempts (cumulative)", "timeout",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>bold") {
		t.Error("summary text reached the page unescaped")
	}

	clean := render(t, reporttest.Run(reporttest.Options{}))
	for _, want := range []string{"PASSED", "completed without errors", report.NoThresholdsCase} {
		if !strings.Contains(clean, want) {
			t.Errorf("clean report lacks %q", want)
		}
	}
}

func TestPercentileLabels(t *testing.T) {
	for d, want := range []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"} {
		if got := percentileLabel(float64(d)); got != want {
			t.Errorf("decade %d: %q, want %q", d, got, want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{0, 60, "0 10 20 30 40 50 60"},
		{0, 1300, "0 250 500 750 1,000 1,250"},
		{0, 1, "0 0.2 0.4 0.6 0.8 1"},
		{0, 0.13, "0 0.025 0.05 0.075 0.1 0.125"},
		{0, 65000, "0 20,000 40,000 60,000"},
		{-3, 3, "-3 -2 -1 0 1 2 3"},
	} {
		var labels []string
		for _, tk := range (niceTicks{}).Ticks(c.lo, c.hi) {
			labels = append(labels, tk.Label)
		}
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("ticks(%v, %v) = %s, want %s", c.lo, c.hi, got, c.want)
		}
	}
}
