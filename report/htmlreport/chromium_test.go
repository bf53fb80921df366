package htmlreport

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/reporttest"
)

var screenshotDir = flag.String("screenshot-dir", "", "also copy the Chromium screenshots of report.html into this directory")

// reportWidth is the viewport the report is checked at: a common laptop
// screen, where every card must fit without a horizontal scroll bar.
const reportWidth = 1280

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

// overflowScript lists the cards (and the page itself) whose content is
// wider than their box, what a reader sees as a table cut off at the card's
// edge or a horizontal scroll bar, and the tables side by side in a card
// that overlap, what a reader sees as numbers printed over each other.
const overflowScript = `(() => {
  const out = [];
  document.querySelectorAll('.card').forEach((c, i) => {
    const name = c.id || ('card ' + i);
    if (c.scrollWidth > c.clientWidth) out.push(name + ': content ' + c.scrollWidth + ' px wide in a ' + c.clientWidth + ' px card');
    const tables = [...c.querySelectorAll('table')].map(t => t.getBoundingClientRect());
    tables.forEach((a, j) => tables.slice(j + 1).forEach(b => {
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.push(name + ': two tables overlap by ' + Math.round(w) + ' px');
    }));
  });
  const d = document.documentElement;
  if (d.scrollWidth > d.clientWidth) out.push('page: ' + d.scrollWidth + ' px wide in a ' + d.clientWidth + ' px window');
  return out;
})()`

// The HTML report opens in headless Chromium without console errors or
// network requests, every plot is drawn with data, and at 1280 px no card
// overflows. A full-page screenshot is saved in the test's temp dir.
func TestHTMLReportInChromium(t *testing.T) {
	browser := startChromium(t)
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
		{"wide", wideRun()},
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
			shot := renderInChromium(t, browser, file)
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

// wideRun is a failed, interrupted run without thresholds and with large
// counts: the longest texts the thresholds and counters tables hold (the
// verdict's problems in one cell, rates and counts with seven digits).
func wideRun() *report.Summary {
	s := reporttest.Run(reporttest.Options{ConnectFails: 1_234, Missed: 12, Consumer: true, Lost: 4})
	s.Interrupted = true
	p := &s.Publish
	p.TargetRate, p.AchievedRate, p.RateRatio = 1_000_000, 987_654.3, 0.9876543
	p.Due, p.Sent, p.Acked = 123_456_789, 123_456_700, 123_456_000
	p.Failed, p.Unacked, p.Late, p.LateRatio, p.Missed, p.MissedRatio = 1_234_567, 7_654_321, 12_345_678, 0.1, 1_234_567, 0.01
	s.Delivery.Confirmed, s.Delivery.Lost, s.Delivery.Duplicates = 123_000_000, 456_789, 12_345
	s.Connect.Disconnects, s.Connect.Reconnects = 1_234_567, 1_234_567
	return s
}

// pageEvents collects what a tab reports while it loads; the listener runs
// on chromedp's goroutine.
type pageEvents struct {
	mu       sync.Mutex
	problems []string // console errors and warnings, exceptions, log errors, failed loads
	requests []string // every URL the page asked for
}

func (e *pageEvents) listen(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeAssert, runtime.ConsoleAPICalledTypeWarning:
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			e.problems = append(e.problems, "console "+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d.Exception != nil {
			e.problems = append(e.problems, "uncaught exception: "+d.Text+" "+d.Exception.Description)
		} else {
			e.problems = append(e.problems, "uncaught exception: "+d.Text)
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
			e.problems = append(e.problems, "browser log "+string(ev.Entry.Level)+": "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		e.requests = append(e.requests, ev.Request.URL)
	case *network.EventLoadingFailed:
		e.problems = append(e.problems, "a load failed: "+ev.ErrorText)
	}
}

// renderInChromium loads file in a new tab, asserts the page is clean,
// complete and fits a 1280 px window, and returns a full-page PNG
// screenshot.
func renderInChromium(t *testing.T, browser context.Context, file string) []byte {
	t.Helper()
	var events pageEvents
	tab, cancel := chromedp.NewContext(browser, chromedp.WithListener(events.listen))
	defer cancel()

	ids, _ := json.Marshal(PlotIDs())
	err := chromedp.Do(tab,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{})
			return err
		}),
		chromedp.EmulateViewport(reportWidth, 900),
		chromedp.Navigate("file://"+file), // waits for the load event
	)
	if err != nil {
		t.Fatalf("chromium: load %s: %v", file, err)
	}
	title, err := chromedp.Run(tab, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	checks, err := chromedp.Run(tab, chromedp.Evaluate[[]plotCheck](strings.Replace(checkScript, "%s", string(ids), 1)))
	if err != nil {
		t.Fatal(err)
	}
	overflows, err := chromedp.Run(tab, chromedp.Evaluate[[]string](overflowScript))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	if !strings.HasPrefix(title, "fleetbench · ") {
		t.Errorf("document title %q", title)
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
	for _, o := range overflows {
		t.Errorf("at %d px, %s", reportWidth, o)
	}

	// No console errors, no uncaught exceptions, no network beyond the file.
	events.mu.Lock()
	defer events.mu.Unlock()
	for _, p := range events.problems {
		t.Error(p)
	}
	if len(events.requests) == 0 {
		t.Error("saw no network events at all: the offline check is blind")
	}
	for _, u := range events.requests {
		if u != "file://"+file && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s: it must work offline", u)
		}
	}
	if len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, not a PNG of the page", len(png))
	}
	return png
}

// startChromium starts one headless Chromium for the test (closed at its
// cleanup) with a fresh profile, offline and able to run as root in a
// container, and returns the browser's context.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	bin := findChromium(t)
	var stderr bytes.Buffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.CombinedOutput(&lockedWriter{w: &stderr}),
	)
	// A liveness bound for a stuck browser, not a speed claim.
	ctx, cancelTimeout := context.WithTimeout(t.Context(), 2*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancelTimeout() })
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatalf("start %s: %v\nchromium output:\n%s", bin, err, stderr.String())
	}
	return browser
}

// lockedWriter lets Chromium's output be written from chromedp's goroutine.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// findChromium returns the browser binary, skipping the test when there is
// none, or failing it on CI (CI=true), where .ci/run installs it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "headless Chromium not found (install Debian's chromium package: apt-get install -y chromium)"
	if strings.EqualFold(os.Getenv("CI"), "true") {
		t.Fatal(msg + "; CI=true requires it")
	}
	t.Skip(msg)
	return ""
}
