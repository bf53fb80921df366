package scenario

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseRate parses a rate written as "number/unit" with unit s, min or h:
// "500/s", "2/min", "10/h", "0.5/s". It returns events per second. Negative,
// infinite and unit-less values are errors that say how to write the rate.
// The same form is used in scenario files and in --set flags.
func ParseRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	num, unit, ok := strings.Cut(t, "/")
	if !ok {
		if _, err := strconv.ParseFloat(t, 64); err == nil {
			return 0, fmt.Errorf("rate %q has no unit — write %s/s (per second), %s/min or %s/h", s, t, t, t)
		}
		return 0, fmt.Errorf("rate %q is not of the form number/unit — write e.g. 500/s, 2/min or 10/h", s)
	}
	num, unit = strings.TrimSpace(num), strings.TrimSpace(unit)
	var per float64
	switch unit {
	case "s":
		per = 1
	case "min":
		per = 60
	case "h":
		per = 3600
	case "m":
		return 0, fmt.Errorf("rate %q: unit \"m\" is ambiguous — write %s/min for per minute", s, num)
	default:
		return 0, fmt.Errorf("rate %q has unknown unit %q — use /s, /min or /h", s, unit)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("rate %q: %q is not a number — write e.g. 500/s", s, num)
	}
	if f < 0 {
		return 0, fmt.Errorf("rate %q is negative — use 0/s or more", s)
	}
	return f / per, nil
}

// FormatRate writes a per-second rate in the form ParseRate reads ("500/s",
// "0.5/s", "1000000000/s"; never an exponent).
func FormatRate(perSecond float64) string {
	return strconv.FormatFloat(perSecond, 'f', -1, 64) + "/s"
}

// ParseDuration parses a Go duration ("30s", "1m30s", "250ms"). A bare 0 is
// accepted; other numbers without a unit and negative durations are errors
// that say how to write the value.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		if _, nerr := strconv.ParseFloat(t, 64); nerr == nil {
			return 0, fmt.Errorf("duration %q has no unit — write e.g. %ss or %sms", s, t, t)
		}
		return 0, fmt.Errorf("%q is not a duration — write e.g. 30s, 1m30s or 250ms", s)
	}
	if d < 0 {
		return 0, errors.New("duration " + strconv.Quote(s) + " is negative — use 0s or more")
	}
	return d, nil
}
