package scenario

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for the classes of failure a caller maps to exit codes.
// Test with errors.Is: every error Load and Parse return wraps exactly one.
var (
	// ErrNotFound: the scenario file is missing or unreadable.
	ErrNotFound = errors.New("cannot read scenario")
	// ErrSyntax: the file is not valid YAML (see *SyntaxError).
	ErrSyntax = errors.New("scenario is not valid YAML")
	// ErrInvalid: the YAML is well formed but the scenario is not valid
	// (see *ValidationError).
	ErrInvalid = errors.New("scenario is invalid")
)

// SetFile is the File of a Problem found in a --set override. Its Line is
// the override's position among the --set flags (1 for the first) and Col
// the column within "path=value".
const SetFile = "--set"

// Problem is one thing wrong with a scenario, with where it is and how to
// fix it.
type Problem struct {
	File      string // scenario file as named to Load/Parse, or SetFile
	Line, Col int    // 1-based position of the offending key or value
	Path      string // dotted key path, e.g. "publish.stages[1].rate"
	Msg       string // what is wrong
	Fix       string // how to fix it
}

// String formats the problem as "file:line:col: path: what is wrong — how
// to fix".
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", p.File, p.Line, p.Col)
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString(" — ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

// ValidationError holds every problem found in a scenario, in file order
// (problems in --set overrides last). errors.Is(err, ErrInvalid) holds.
type ValidationError struct {
	Problems []Problem
}

// Error prints one line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// SyntaxError is a YAML syntax error at a position. errors.Is(err,
// ErrSyntax) holds.
type SyntaxError struct {
	Problem
}

// Error formats the error like a Problem.
func (e *SyntaxError) Error() string { return e.Problem.String() }

// Is makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }
