package compare

import (
	"math"
	"testing"

	"github.com/fleetbench/fleetbench/report"
)

// A latency (histogram microseconds times unitSeconds) prints exactly as the
// run report prints the same histogram value, float error in the product
// notwithstanding: 4035µs times 1e-6 is just below 0.004035.
func TestFmtSecMatchesRunReport(t *testing.T) {
	for _, us := range []int64{0, 1, 10, 100, 999, 1005, 4035, 999_500, 1_000_000, 999_999_999, 1_000_000_000} {
		s := float64(us) * unitSeconds
		want := report.FormatMs(float64(us) / 1000)
		if got := fmtSec(s); got != want {
			t.Errorf("%dµs: fmtSec = %s, report prints %s", us, got, want)
		}
		if us > 0 {
			if got := fmtSignedSec(-s); got != "-"+want {
				t.Errorf("-%dµs: fmtSignedSec = %s, want -%s", us, got, want)
			}
		}
	}
	for _, s := range []float64{math.NaN(), -1e-6} {
		if got := fmtSec(s); got != "-" {
			t.Errorf("fmtSec(%v) = %s, want -", s, got)
		}
	}
}
