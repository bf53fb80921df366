package htmlreport

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/reporttest"
)

var screenshotDir = flag.String("screenshot-dir", "", "also copy the Chromium screenshots of report.html into this directory")

// plotCheck is what the page reports about one plot element.
type plotCheck struct {
	ID        string  `json:"id"`
	Found     bool    `json:"found"`
	SVG       bool    `json:"svg"`
	Paths     int     `json:"paths"`
	DataMarks int     `json:"dataMarks"` // paths stroked or filled in a data colour
	Texts     int     `json:"texts"`
	Width     float64 `json:"width"`
	Height    float64 `json:"height"`
}

// checkScript inspects every plot in the rendered page.
const checkScript = `(() => {
  const data = /(stroke|fill):#(4E79A7|F28E2B|E15759|59A14F|76B7B2|B07AA1|79706E)/i;
  return %s.map(id => {
    const el = document.getElementById(id);
    if (!el) return {id, found: false};
    const svg = el.querySelector('svg');
    const r = (svg || el).getBoundingClientRect();
    const paths = svg ? [...svg.querySelectorAll('path')] : [];
    return {id, found: true, svg: !!svg, paths: paths.length,
      dataMarks: paths.filter(p => data.test(p.getAttribute('style') || '')).length,
      texts: svg ? svg.querySelectorAll('text').length : 0, width: r.width, height: r.height};
  });
})()`

// The HTML report opens in headless Chromium without console errors or
// network requests, and every plot is drawn with data. A full-page
// screenshot is saved in the test's temp dir.
func TestHTMLReportInChromium(t *testing.T) {
	bin := findChromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	b := startChromium(t, ctx, bin)

	for _, c := range []struct {
		name string
		s    *report.Summary
	}{
		{"failed", reporttest.WithThresholds(
			reporttest.Run(reporttest.Options{Spike: true, ConnectFails: 3, Missed: 12, Consumer: true, Lost: 4}),
			reporttest.Threshold{Metric: "publish.p99", Op: "<", Bound: 0.02, Text: "< 20ms"},
			reporttest.Threshold{Metric: "delivery.ratio", Op: ">=", Bound: 0.999, Text: ">= 99.9%"},
			reporttest.Threshold{Metric: "connect.failed", Op: "==", Bound: 0, Text: "== 0"})},
		{"clean", reporttest.Run(reporttest.Options{})},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "report.html")
			f, err := os.Create(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := Write(f, c.s); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			shot := renderInChromium(t, ctx, b, file)
			png := filepath.Join(dir, "report.png")
			if err := os.WriteFile(png, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", png)
			if *screenshotDir != "" {
				keep := filepath.Join(*screenshotDir, "report-"+c.name+".png")
				if err := os.WriteFile(keep, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot copied to %s", keep)
			}
		})
	}
}

// renderInChromium loads file in a fresh tab state, asserts the page is
// clean and complete, and returns a full-page PNG screenshot.
func renderInChromium(t *testing.T, ctx context.Context, b *browser, file string) []byte {
	t.Helper()
	page := b.page(t, ctx)
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := page.call(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	const width = 1280
	metrics := map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}
	if err := page.call(ctx, "Emulation.setDeviceMetricsOverride", metrics, nil); err != nil {
		t.Fatal(err)
	}
	if err := page.call(ctx, "Page.navigate", map[string]any{"url": "file://" + file}, nil); err != nil {
		t.Fatal(err)
	}
	if err := page.waitEvent(ctx, "Page.loadEventFired"); err != nil {
		t.Fatalf("page did not load: %v\nchromium stderr:\n%s", err, b.stderr.String())
	}

	var title string
	if err := page.evaluate(ctx, "document.title", &title); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(title, "fleetbench · ") {
		t.Errorf("document title %q", title)
	}
	ids, _ := json.Marshal(PlotIDs())
	var checks []plotCheck
	if err := page.evaluate(ctx, strings.Replace(checkScript, "%s", string(ids), 1), &checks); err != nil {
		t.Fatal(err)
	}
	if len(checks) != len(PlotIDs()) {
		t.Fatalf("checked %d plots, want %d", len(checks), len(PlotIDs()))
	}
	for _, c := range checks {
		switch {
		case !c.Found || !c.SVG:
			t.Errorf("%s: element or its <svg> missing: %+v", c.ID, c)
		case c.Width < 300 || c.Height < 150:
			t.Errorf("%s: rendered %.0fx%.0f px, too small to read", c.ID, c.Width, c.Height)
		case c.Paths < 10 || c.DataMarks == 0 || c.Texts < 5:
			t.Errorf("%s: looks empty: %d paths (%d in data colours), %d texts", c.ID, c.Paths, c.DataMarks, c.Texts)
		}
	}

	// No console errors, no uncaught exceptions, no network beyond the file.
	for _, e := range page.eventsNamed("Runtime.consoleAPICalled") {
		var p struct{ Type string }
		_ = json.Unmarshal(e.Params, &p)
		if p.Type == "error" || p.Type == "assert" || p.Type == "warning" {
			t.Errorf("console %s: %s", p.Type, e.Params)
		}
	}
	for _, e := range page.eventsNamed("Runtime.exceptionThrown") {
		t.Errorf("uncaught exception: %s", e.Params)
	}
	for _, e := range page.eventsNamed("Log.entryAdded") {
		var p struct {
			Entry struct{ Level, Text, URL string }
		}
		_ = json.Unmarshal(e.Params, &p)
		if p.Entry.Level == "error" || p.Entry.Level == "warning" {
			t.Errorf("browser log %s: %s %s", p.Entry.Level, p.Entry.Text, p.Entry.URL)
		}
	}
	requests := page.eventsNamed("Network.requestWillBeSent")
	if len(requests) == 0 {
		t.Error("saw no network events at all: the offline check is blind")
	}
	for _, e := range requests {
		var p struct{ Request struct{ URL string } }
		_ = json.Unmarshal(e.Params, &p)
		if u := p.Request.URL; u != "file://"+file && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s: it must work offline", u)
		}
	}
	for _, e := range page.eventsNamed("Network.loadingFailed") {
		t.Errorf("a load failed: %s", e.Params)
	}

	// Full-page screenshot.
	var layout struct {
		CSSContentSize struct{ Height float64 } `json:"cssContentSize"`
	}
	if err := page.call(ctx, "Page.getLayoutMetrics", nil, &layout); err != nil {
		t.Fatal(err)
	}
	metrics["height"] = int(layout.CSSContentSize.Height + 0.5)
	if err := page.call(ctx, "Emulation.setDeviceMetricsOverride", metrics, nil); err != nil {
		t.Fatal(err)
	}
	var shot struct{ Data string }
	if err := page.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) < 10_000 {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	return png
}
