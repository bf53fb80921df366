package compare

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// fmtSec formats a non-negative duration in seconds with three significant
// digits in the largest unit that keeps it at or above 1: 812µs, 12.4ms,
// 1.20s (the same form as fleetbench's run report).
func fmtSec(s float64) string {
	if math.IsNaN(s) || s < 0 {
		return "-"
	}
	if s >= 1000 {
		return (time.Duration(math.Round(s)) * time.Second).String()
	}
	v := s * 1e6
	for i, u := range []string{"µs", "ms", "s"} {
		str := sig3(v)
		if f, _ := strconv.ParseFloat(str, 64); f < 1000 || i == 2 {
			return str + u
		}
		v /= 1000
	}
	return "" // unreachable
}

// fmtSignedSec formats a duration delta with its sign: +610µs, -1.20ms, 0.
func fmtSignedSec(s float64) string {
	switch {
	case s > 0:
		return "+" + fmtSec(s)
	case s < 0:
		return "-" + fmtSec(-s)
	}
	return "0"
}

// sig3 formats v >= 0 with three significant digits (whole numbers from
// 100 up).
func sig3(v float64) string {
	dec := 0
	switch {
	case v == 0:
		return "0"
	case v < 10:
		dec = 2
	case v < 100:
		dec = 1
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
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

// fmtCount formats a count with thousands separators: 1,234,567.
func fmtCount(f float64) string {
	n := int64(math.Round(f))
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtSignedCount formats a count delta: +12, -3, 0.
func fmtSignedCount(f float64) string {
	if f > 0 {
		return "+" + fmtCount(f)
	}
	return fmtCount(f)
}

// fmtRatio formats a ratio in [0,1] as a percentage with two decimals:
// 99.90%; exactly 0 and 1 as 0% and 100%.
func fmtRatio(r float64) string {
	switch r {
	case 0:
		return "0%"
	case 1:
		return "100%"
	}
	return strconv.FormatFloat(r*100, 'f', 2, 64) + "%"
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

// fmtRate formats messages per second: 1,000/s, 998.7/s.
func fmtRate(r float64) string {
	if r >= 1000 || r == math.Trunc(r) {
		return fmtCount(r) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
}

// fmtP formats a p-value: p<0.001, p=0.023, p=1.
func fmtP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return "p=" + strconv.FormatFloat(p, 'g', 2, 64)
}
