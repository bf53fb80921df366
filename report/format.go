package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// durationUnits step from microseconds to seconds; each is 1000 of the one
// before.
var durationUnits = []string{"µs", "ms", "s"}

// fmtMs formats a duration given in milliseconds with three significant
// digits and the largest unit that keeps it at or above 1: 812µs, 12.4ms,
// 1.20s. From 1000s on it uses whole seconds in time.Duration form
// (16m40s).
func fmtMs(ms float64) string {
	if math.IsNaN(ms) || ms < 0 {
		return "-"
	}
	if ms >= 1000*1000 {
		return (time.Duration(math.Round(ms/1000)) * time.Second).String()
	}
	v := ms * 1000 // µs
	for i, u := range durationUnits {
		s := sig3(v)
		if f, _ := strconv.ParseFloat(s, 64); f < 1000 || i == len(durationUnits)-1 {
			return s + u
		}
		v /= 1000
	}
	return "" // unreachable
}

// sig3 formats v with three significant digits (no exponent; whole numbers
// from 100 up).
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

// fmtCount formats n with thousands separators: 1,234,567.
func fmtCount(n int64) string {
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

// fmtRate formats messages per second: 1,000/s, 998.7/s, 50/s, 2.5/s,
// 2.47/s. The decimals depend on the magnitude only (none from 1,000, one
// from 10, two below) and trailing zeros are dropped, so a rate computed as
// 49.9999999 prints as 50/s, like the 50/s it is (not "50.0/s").
func fmtRate(r float64) string {
	dec := 2
	switch a := math.Abs(r); {
	case a >= 1000:
		dec = 0
	case a >= 10:
		dec = 1
	}
	s := strconv.FormatFloat(r, 'f', dec, 64)
	if v, _ := strconv.ParseFloat(s, 64); math.Abs(v) >= 1000 {
		return fmtCount(int64(v)) + "/s"
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s + "/s"
}

// fmtPct formats a ratio as a percentage with two decimals; exactly 0 and
// 1 print as 0% and 100%.
func fmtPct(r float64) string {
	switch r {
	case 0:
		return "0%"
	case 1:
		return "100%"
	}
	return strconv.FormatFloat(r*100, 'f', 2, 64) + "%"
}

// fmtBytes formats a byte count in binary units: 812 B, 14.2 KiB, 52.1 MiB.
func fmtBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
	return sig3(b) + " " + units[i]
}
