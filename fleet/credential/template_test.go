package credential

import (
	"strings"
	"testing"
)

func TestTemplateExpand(t *testing.T) {
	tests := []struct {
		tmpl  string
		index int
		id    string
		want  string
	}{
		{"{device}", 7, "sim-000007", "sim-000007"}, // the default client id
		{"", 7, "d", ""},                                       // no username
		{"fleet", 7, "d", "fleet"},                             // literal only
		{"{index}", 42, "d", "42"},                             // plain index
		{"{index:06}", 42, "d", "000042"},                      // zero-padded
		{"{index:06}", 1234567, "d", "1234567"},                // wider than the pad
		{"{index:03}", -5, "d", "-005"},                        // sign before the padding
		{"user-{device}-{index:02}", 3, "x", "user-x-03"},      // mixed
		{"{device}/{device}", 0, "a", "a/a"},                   // repeated
		{"pre{index}post", 0, "d", "pre0post"},                 // literal around
		{"{index:020}", 1, "d", strings.Repeat("0", 19) + "1"}, // widest allowed
	}
	for _, tc := range tests {
		tp, err := parseTemplate("auth.username", tc.tmpl)
		if err != nil {
			t.Errorf("%q: %v", tc.tmpl, err)
			continue
		}
		if got := tp.expand(tc.index, tc.id); got != tc.want {
			t.Errorf("%q with (%d, %q) = %q, want %q", tc.tmpl, tc.index, tc.id, got, tc.want)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{"{dev}", "unknown placeholder {dev}"},
		{"{index:6}", "unknown placeholder {index:6}"},
		{"{index:0x}", "bad width"},
		{"{index:00}", "bad width"},
		{"{index:021}", "bad width"},
		{"a{device", "unclosed '{'"},
	}
	for _, tc := range tests {
		_, err := parseTemplate("auth.client_id", tc.tmpl)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "auth.client_id: ") {
			t.Errorf("%q: err %v, want auth.client_id: ...%s", tc.tmpl, err, tc.want)
		}
	}
}

func TestTemplateDeviceDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage instrumentation and the race detector change allocation counts")
	}
	tp, _ := parseTemplate("f", "{device}")
	id := strings.Repeat("x", 20)
	if n := testing.AllocsPerRun(100, func() { _ = tp.expand(1, id) }); n != 0 {
		t.Errorf("{device} expansion allocates %v times", n)
	}
}
