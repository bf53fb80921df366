package compare

import (
	"math"
	"strconv"

	"github.com/fleetbench/fleetbench/report"
)

// fmtSec formats a duration in seconds as the run report formats
// milliseconds (report.FormatMs): 812µs, 12.4ms, 1.20s; "-" for a negative
// or NaN value. Latencies here are histogram values times unitSeconds;
// rounding to whole nanoseconds first removes that product's float error,
// so a latency prints exactly as the run report prints the same value.
func fmtSec(s float64) string {
	return report.FormatMs(math.Round(s*1e9) / 1e6)
}

// fmtSignedSec formats a duration delta with its sign: +610µs, -1.20ms, 0.
func fmtSignedSec(s float64) string { return signed(s, fmtSec) }

// signed formats a delta as its sign and abs formatting its magnitude; 0
// is "0".
func signed(d float64, abs func(float64) string) string {
	switch {
	case d > 0:
		return "+" + abs(d)
	case d < 0:
		return "-" + abs(-d)
	}
	return "0"
}

// fmtRel formats a relative change: +30.3%, -4.1%, +0.0%, +1234%.
func fmtRel(r float64) string {
	switch {
	case math.IsInf(r, 1):
		return "new"
	case math.IsNaN(r):
		return "-"
	}
	sign := "+"
	if r < 0 {
		sign = "-"
	}
	a := math.Abs(r) * 100
	if a >= 1000 {
		return sign + strconv.FormatFloat(a, 'f', 0, 64) + "%"
	}
	return sign + strconv.FormatFloat(a, 'f', 1, 64) + "%"
}

// fmtCount formats a count, rounded to a whole number, as the run report
// does (report.FormatCount): 1,234,567.
func fmtCount(f float64) string {
	return report.FormatCount(int64(math.Round(f)))
}

// fmtSignedCount formats a count delta: +12, -3, 0.
func fmtSignedCount(f float64) string {
	if f > 0 {
		return "+" + fmtCount(f)
	}
	return fmtCount(f)
}

// fmtErrRate formats a small error rate with three significant digits:
// 0.0120%.
func fmtErrRate(r float64) string {
	if r == 0 {
		return "0%"
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(r*100, 'g', 3, 64), 64) // round to 3 significant digits
	return strconv.FormatFloat(v, 'f', -1, 64) + "%"
}

// fmtRate formats messages per second as the run report does
// (report.FormatRate): 1,000/s, 998.7/s, 50/s, 2.5/s.
func fmtRate(r float64) string { return report.FormatRate(r) }

// fmtP formats a p-value: p<0.001, p=0.023, p=1.
func fmtP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return "p=" + strconv.FormatFloat(p, 'g', 2, 64)
}
