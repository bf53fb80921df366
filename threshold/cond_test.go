package threshold

import (
	"errors"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		expr string
		want Cond
	}{
		{"< 500ms", Cond{Op: Less, Value: 0.5, IsDuration: true, Text: "< 500ms"}},
		{"<2s", Cond{Op: Less, Value: 2, IsDuration: true, Text: "<2s"}},
		{"  <=  1m30s  ", Cond{Op: LessEq, Value: 90, IsDuration: true, Text: "<=  1m30s"}},
		{">= 0.999", Cond{Op: GreaterEq, Value: 0.999, Text: ">= 0.999"}},
		{"== 0", Cond{Op: Equal, Value: 0, Text: "== 0"}},
		{"!= 3", Cond{Op: NotEqual, Value: 3, Text: "!= 3"}},
		{"> 4900", Cond{Op: Greater, Value: 4900, Text: "> 4900"}},
		{"< 1%", Cond{Op: Less, Value: 0.01, IsPercent: true, Text: "< 1%"}},
		{">= 99.9%", Cond{Op: GreaterEq, Value: 0.999, IsPercent: true, Text: ">= 99.9%"}},
		{"< 250us", Cond{Op: Less, Value: 250e-6, IsDuration: true, Text: "< 250us"}},
		{"< 1e3", Cond{Op: Less, Value: 1000, Text: "< 1e3"}},
		{"> -1", Cond{Op: Greater, Value: -1, Text: "> -1"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		// Compare values with a tolerance: 99.9/100 is not exactly 0.999.
		if math.Abs(got.Value-tt.want.Value) > 1e-12 {
			t.Errorf("Parse(%q).Value = %v, want %v", tt.expr, got.Value, tt.want.Value)
		}
		got.Value = tt.want.Value
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.expr, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		fix    string // substring of the fix hint
	}{
		{"", 0, "write an operator"},
		{"   ", 0, "write an operator"},
		{"100ms", 0, "start with <"},
		{"= 5", 0, `use "=="`},
		{"=< 5", 0, `"<="`},
		{"=> 5", 0, `">="`},
		{"<> 5", 0, `"!="`},
		{"<", 1, "write a number"},
		{"<   ", 4, "write a number"},
		{"< fast", 2, "write a number"},
		{"< 10zz", 4, "use a duration unit"},
		{"< 10 ms", 4, "use a duration unit"},
		{"< 1.5.3s", 2, "Go duration"},
		{"< 1.2.3", 2, "plain decimal"},
		{"< 5%%", 3, "use a duration unit"},
		{" >= .", 4, "plain decimal"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) error = %v, want *Error", tt.expr, err)
			continue
		}
		if e.Offset != tt.offset {
			t.Errorf("Parse(%q) offset = %d, want %d (%v)", tt.expr, e.Offset, tt.offset, e)
		}
		if !contains(e.Fix, tt.fix) {
			t.Errorf("Parse(%q) fix = %q, want it to contain %q", tt.expr, e.Fix, tt.fix)
		}
		if e.Msg == "" || e.Error() != e.Msg+" — "+e.Fix {
			t.Errorf("Parse(%q) Error() = %q", tt.expr, e.Error())
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestHolds(t *testing.T) {
	tests := []struct {
		expr string
		v    float64
		want bool
	}{
		{"< 100ms", 0.099, true},
		{"< 100ms", 0.1, false},
		{"<= 100ms", 0.1, true},
		{"> 0.5", 0.5, false},
		{">= 0.5", 0.5, true},
		{"== 0", 0, true},
		{"== 0", 1, false},
		{"!= 0", 1, true},
		{"!= 0", 0, false},
		{">= 99.9%", 0.9995, true},
		{">= 99.9%", 0.998, false},
		{"< 2s", math.NaN(), false},
		{"!= 2", math.NaN(), true},
	}
	for _, tt := range tests {
		c, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		if got := c.Holds(tt.v); got != tt.want {
			t.Errorf("%q.Holds(%v) = %v, want %v", tt.expr, tt.v, got, tt.want)
		}
	}
	if (Cond{}).Holds(0) {
		t.Error("the zero Cond must hold for nothing")
	}
}

func TestString(t *testing.T) {
	for expr, want := range map[string]string{
		"<100ms":   "< 100ms",
		">=0.999":  ">= 0.999",
		"< 1%":     "< 1%",
		"<= 1m30s": "<= 1m30s",
	} {
		c, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != want {
			t.Errorf("Parse(%q).String() = %q, want %q", expr, c.String(), want)
		}
	}
	if Op(0).String() != "Op(0)" || NotEqual.String() != "!=" {
		t.Error("Op.String")
	}
}
