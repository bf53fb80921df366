package capacity

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fleetbench/fleetbench/report/htmlreport"
)

// HTML is the report as the capacity page draws it.
func (r *Report) HTML() htmlreport.Capacity {
	c := htmlreport.Capacity{Scenario: r.Scenario, Dimension: r.Dimension, Unit: r.Unit, Found: r.Outcome == Found,
		Headline: r.Headline(), Why: r.Why, Notes: r.Notes, Knee: r.Knee,
		Columns: []string{"load (" + r.Unit + ")", "offered/s", "sent/s", "rate ratio", "p50 ms", "p99 ms", "errors", "drops", "verdict"}}
	for _, s := range r.byLoad() {
		c.Points = append(c.Points, htmlreport.CapacityPoint{Load: s.Load, P50Ms: s.P50Ms, P99Ms: s.P99Ms, RateRatio: s.RateRatio,
			Errors: s.Errors, Passed: s.Passed, Cells: []string{fmt.Sprintf("%.1f", s.Load), fmt.Sprintf("%.1f", s.Offered),
				fmt.Sprintf("%.1f", s.Achieved), fmt.Sprintf("%.4f", s.RateRatio), ms(s.P50Ms), ms(s.P99Ms),
				fmt.Sprint(s.Errors), fmt.Sprint(s.Disconnects), verdict(s)}})
	}
	return c
}

// Write writes capacity.json, capacity.md and capacity.html into dir
// (beside the steps/ directory).
func (r *Report) Write(dir string) error {
	var js, md, page bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		return err
	}
	if err := r.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := htmlreport.WriteCapacity(&page, r.HTML()); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"capacity.json": js.Bytes(), "capacity.md": md.Bytes(), "capacity.html": page.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
