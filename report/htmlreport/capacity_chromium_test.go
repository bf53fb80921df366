package htmlreport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The capacity page opens in headless Chromium without console errors and
// draws both curves with data.
func TestCapacityPageInChromium(t *testing.T) {
	browser := startChromium(t)
	f := func(v float64) *float64 { return &v }
	knee := 3024.0
	c := Capacity{Scenario: "knee", Dimension: "publish.rate", Unit: "msgs/s", Found: true, Knee: &knee,
		Headline: "knee: 3024.0 msgs/s passed, 3143.0 msgs/s failed", Why: []string{"publish.p99 < 200ms (was 412 ms)"},
		Columns: []string{"load", "p99 ms"}}
	for _, p := range []struct {
		load, p50, p99, ratio float64
		errs                  int64
	}{{2800, 2, 5, 1, 0}, {3024, 2, 9, 1, 0}, {3143, 3, 412, 0.99, 0}, {3266, 250, 900, 0.97, 12}} {
		c.Points = append(c.Points, CapacityPoint{Load: p.load, P50Ms: f(p.p50), P99Ms: f(p.p99), RateRatio: p.ratio, Errors: p.errs,
			Cells: []string{"x", "y"}})
	}
	file := filepath.Join(t.TempDir(), "capacity.html")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCapacity(out, c); err != nil {
		t.Fatal(err)
	}
	out.Close()

	var events pageEvents
	tab, cancel := chromedp.NewContext(browser, chromedp.WithListener(events.listen))
	defer cancel()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(reportWidth, 900), chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	ids, _ := json.Marshal(CapacityPlotIDs())
	checks, err := chromedp.Run(tab, chromedp.Evaluate[[]plotCheck](strings.Replace(checkScript, "%s", string(ids), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 2 {
		t.Fatalf("checked %d plots", len(checks))
	}
	for _, c := range checks {
		if !c.Found || !c.SVG || c.DataMarks < 3 || c.Texts < 5 || c.Width < 300 {
			t.Errorf("%s: not drawn with data: %+v", c.ID, c)
		}
	}
	events.mu.Lock()
	defer events.mu.Unlock()
	for _, p := range events.problems {
		t.Error(p)
	}
}
