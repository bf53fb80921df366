// Package threshold parses the pass/fail criteria of a scenario's
// `thresholds` section: a metric name such as "publish.p99" and a comparison
// such as "< 100ms". Evaluating the criteria against a finished run belongs to
// the reporting code; this package only knows the syntax, the metric names and
// how a single value compares.
//
// Everything here is pure and safe for concurrent use.
package threshold

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Op is a comparison operator.
type Op int

// Comparison operators. The zero Op is invalid.
const (
	Less      Op = iota + 1 // <
	LessEq                  // <=
	Greater                 // >
	GreaterEq               // >=
	Equal                   // ==
	NotEqual                // !=
)

var opText = [...]string{Less: "<", LessEq: "<=", Greater: ">", GreaterEq: ">=", Equal: "==", NotEqual: "!="}

// String returns the operator as written in a scenario ("<=", "==", ...).
func (o Op) String() string {
	if o < Less || o > NotEqual {
		return fmt.Sprintf("Op(%d)", int(o))
	}
	return opText[o]
}

// Cond is one parsed comparison, e.g. "< 100ms" or ">= 99.9%".
type Cond struct {
	Op Op
	// Value is the right-hand side. Durations are in seconds ("100ms" is
	// 0.1); percentages are fractions ("1%" is 0.01).
	Value float64
	// IsDuration reports that Value was written with a time unit; such a
	// condition only applies to latency metrics.
	IsDuration bool
	// IsPercent reports that Value was written with "%"; such a condition
	// only applies to ratio metrics.
	IsPercent bool
	// Text is the expression as written, trimmed of surrounding space.
	Text string
}

// Holds reports whether v satisfies the condition. For latency metrics v is
// in seconds, for ratios a fraction. A NaN v holds for no operator except !=.
func (c Cond) Holds(v float64) bool {
	switch c.Op {
	case Less:
		return v < c.Value
	case LessEq:
		return v <= c.Value
	case Greater:
		return v > c.Value
	case GreaterEq:
		return v >= c.Value
	case Equal:
		return v == c.Value
	case NotEqual:
		return v != c.Value
	}
	return false
}

// String returns the condition in canonical form, e.g. "< 100ms".
func (c Cond) String() string {
	switch {
	case c.IsDuration:
		return c.Op.String() + " " + time.Duration(math.Round(c.Value*1e9)).String()
	case c.IsPercent:
		return c.Op.String() + " " + strconv.FormatFloat(c.Value*100, 'g', -1, 64) + "%"
	}
	return c.Op.String() + " " + strconv.FormatFloat(c.Value, 'g', -1, 64)
}

// Error is a syntax error in a threshold expression.
type Error struct {
	// Offset is the byte offset in the expression (as passed to Parse,
	// untrimmed) where the problem starts, so a caller can point at it.
	Offset int
	Msg    string // what is wrong
	Fix    string // how to fix it
}

// Error returns "what is wrong — how to fix".
func (e *Error) Error() string { return e.Msg + " — " + e.Fix }

// Parse parses a comparison: an operator (<, <=, >, >=, ==, !=) followed by a
// number, optionally with a Go duration unit ("500ms", "1m30s") or "%".
// Spaces around the parts are optional: "<2s" and " < 2s " are the same.
// Errors are *Error.
func Parse(expr string) (Cond, error) {
	i := skipSpace(expr, 0)
	if i == len(expr) {
		return Cond{}, &Error{0, "empty threshold expression", `write an operator and a value, e.g. "< 100ms" or ">= 0.999"`}
	}
	op, n := scanOp(expr[i:])
	if op == 0 {
		if n == 1 { // a lone "="
			return Cond{}, &Error{i, `"=" is not a comparison`, `use "==" for equality`}
		}
		return Cond{}, &Error{i, fmt.Sprintf("expression %q does not start with a comparison operator", strings.TrimSpace(expr)), `start with <, <=, >, >=, == or !=, e.g. "< 100ms"`}
	}
	if op < 0 {
		return Cond{}, &Error{i, fmt.Sprintf("unknown operator %q", expr[i:i+n]), fmt.Sprintf("did you mean %q?", fixOp(expr[i:i+n]))}
	}
	c := Cond{Op: op, Text: strings.TrimSpace(expr)}
	i = skipSpace(expr, i+n)
	if i == len(expr) {
		return Cond{}, &Error{i, "missing value after " + op.String(), `write a number, a duration ("100ms") or a percentage ("1%")`}
	}
	end := len(strings.TrimRight(expr, " \t"))
	val := expr[i:end]
	numLen := scanNumber(val)
	if numLen == 0 {
		return Cond{}, &Error{i, fmt.Sprintf("%q is not a number", val), `write a number, a duration ("100ms") or a percentage ("1%")`}
	}
	unit := val[numLen:]
	switch {
	case unit == "":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return Cond{}, &Error{i, fmt.Sprintf("%q is not a finite number", val), "write a plain decimal number such as 0.999"}
		}
		c.Value = f
	case unit == "%":
		f, err := strconv.ParseFloat(val[:numLen], 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return Cond{}, &Error{i, fmt.Sprintf("%q is not a finite percentage", val), "write a percentage such as 0.1%"}
		}
		c.Value, c.IsPercent = f/100, true
	default:
		d, err := time.ParseDuration(val)
		if r, _ := utf8.DecodeRuneInString(unit); err != nil && strings.ContainsRune("numµμsh", r) {
			return Cond{}, &Error{i, fmt.Sprintf("%q is not a valid duration", val), `write a Go duration such as 250ms, 2s or 1m30s`}
		}
		if err != nil {
			return Cond{}, &Error{i + numLen, fmt.Sprintf("unknown unit %q in %q", unit, val), "use a duration unit (ns, us, ms, s, m, h), % for a ratio, or no unit for a count"}
		}
		c.Value, c.IsDuration = d.Seconds(), true
	}
	return c, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// scanOp returns the operator at the start of s and its length. It returns
// op 0 when s does not start with an operator character, and op -1 with the
// length of the bad operator for misspellings such as "=<" or "=>".
func scanOp(s string) (Op, int) {
	n := 0
	for n < len(s) && strings.IndexByte("<>=!", s[n]) >= 0 {
		n++
	}
	switch s[:n] {
	case "":
		return 0, 0
	case "<":
		return Less, 1
	case "<=":
		return LessEq, 2
	case ">":
		return Greater, 1
	case ">=":
		return GreaterEq, 2
	case "==":
		return Equal, 2
	case "!=":
		return NotEqual, 2
	case "=":
		return 0, 1
	}
	return -1, n
}

func fixOp(bad string) string {
	switch bad {
	case "=<":
		return "<="
	case "=>":
		return ">="
	case "===":
		return "=="
	case "<>", "!":
		return "!="
	}
	if strings.HasPrefix(bad, "<") {
		return "<="
	}
	if strings.HasPrefix(bad, ">") {
		return ">="
	}
	return "=="
}

// scanNumber returns the length of the decimal number at the start of s:
// optional sign, digits, optional fraction, optional exponent.
func scanNumber(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == start {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}
