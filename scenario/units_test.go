package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	ok := map[string]float64{
		"500/s": 500, "2/min": 2.0 / 60, "10/h": 10.0 / 3600, "0.5/s": 0.5, "0/s": 0, " 7 / s ": 7, "1e3/s": 1000,
	}
	for in, want := range ok {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"500":    "write 500/s",
		"500/m":  "write 500/min",
		"500/ms": "use /s, /min or /h",
		"abc/s":  "is not a number",
		"-1/s":   "is negative",
		"inf/s":  "is not a number",
		"NaN/s":  "is not a number",
		"":       "number/unit",
		"fast":   "number/unit",
	}
	for in, want := range bad {
		_, err := ParseRate(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), " — ") {
			t.Errorf("ParseRate(%q) error = %v, want one containing %q", in, err, want)
		}
	}
	if FormatRate(0.5) != "0.5/s" {
		t.Errorf("FormatRate(0.5) = %q", FormatRate(0.5))
	}
}

func TestParseDuration(t *testing.T) {
	ok := map[string]time.Duration{
		"30s": 30 * time.Second, "1m30s": 90 * time.Second, "250ms": 250 * time.Millisecond, "0": 0, "0s": 0, " 2h ": 2 * time.Hour,
	}
	for in, want := range ok {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"30":    "has no unit — write e.g. 30s",
		"-1s":   "is negative",
		"soon":  "is not a duration",
		"":      "is not a duration",
		"1 day": "is not a duration",
	}
	for in, want := range bad {
		_, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDuration(%q) error = %v, want one containing %q", in, err, want)
		}
	}
}
