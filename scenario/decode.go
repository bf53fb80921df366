package scenario

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// decoder turns the tree into a Scenario, collecting every problem instead
// of stopping at the first. It records which keys the scenario gave so that
// defaults apply only to keys not set, and where each key is, so that
// cross-field checks point at the right line.
type decoder struct {
	file     string
	dir      string // directory relative file paths resolve against
	problems []Problem
	warnings []string
	vals     map[string]*node // path -> value, for every known key given
	keys     map[string]pos   // path -> key position
	bad      map[string]bool  // paths with a reported problem

	// Parsed templates and per-stage facts kept for the cross-field checks.
	idSegs, topicSegs, payloadSegs, clientIDSegs []Segment
	stages                                       []stageInfo
	endpointItems                                []listItem // target.endpoints items decoded, in order
}

func newDecoder(file string) *decoder {
	return &decoder{
		file: file,
		dir:  filepath.Dir(file),
		vals: map[string]*node{},
		keys: map[string]pos{},
		bad:  map[string]bool{},
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) report(p pos, path, msg, fix string) {
	if p.file == "" {
		p = pos{d.file, 1, 1}
	}
	d.bad[path] = true
	d.problems = append(d.problems, Problem{File: p.file, Line: p.line, Col: p.col, Path: path, Msg: msg, Fix: fix})
}

// reportErr reports an error whose text is "what — fix".
func (d *decoder) reportErr(p pos, path string, err error) {
	msg, fix, _ := strings.Cut(err.Error(), " — ")
	d.report(p, path, msg, fix)
}

// fail reports a problem at path's value (or nearest given ancestor) unless
// path already has one, so one mistake does not cascade.
func (d *decoder) fail(path, msg, fix string) {
	if !d.bad[path] {
		d.report(d.at(path), path, msg, fix)
	}
}

// failKey is fail at the key rather than the value.
func (d *decoder) failKey(path, msg, fix string) {
	if !d.bad[path] {
		d.report(d.keyAt(path), path, msg, fix)
	}
}

func (d *decoder) warn(path, msg string) {
	p := d.at(path)
	d.warnings = append(d.warnings, Problem{File: p.file, Line: p.line, Col: p.col, Path: path, Msg: msg}.String())
}

// given reports whether the scenario (or a --set) gave path a value,
// including one that failed to decode.
func (d *decoder) given(path string) bool { return d.vals[path] != nil }

// has reports whether path was given and decoded without a problem; a key
// with a problem gets its default, so later checks do not pile on.
func (d *decoder) has(path string) bool { return d.vals[path] != nil && !d.bad[path] }

// at returns the position of path's value, or of the nearest given
// ancestor's key, or the start of the file.
func (d *decoder) at(path string) pos {
	if v := d.vals[path]; v != nil && v.kind != kNull && v.pos.file != "" {
		return v.pos
	}
	return d.keyAt(path)
}

// keyAt returns the position of path's key, or of the nearest given
// ancestor's key, or the start of the file.
func (d *decoder) keyAt(path string) pos {
	for p := path; p != ""; p = parent(p) {
		if k, ok := d.keys[p]; ok {
			return k
		}
	}
	return pos{d.file, 1, 1}
}

func parent(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// object walks the mapping n at path. Known keys are recorded and passed to
// fn in file order; unknown and duplicate keys and keys without a value are
// reported.
func (d *decoder) object(n *node, path string, known []string, fn func(key string, v *node, p string)) bool {
	if n.kind != kMap {
		d.report(n.pos, path, "want a mapping, got "+n.describe(), "write the keys below it, indented: "+strings.Join(known, ", "))
		return false
	}
	seen := map[string]pos{}
	for _, e := range n.entries {
		p := join(path, e.key)
		if first, dup := seen[e.key]; dup {
			d.report(e.kpos, p, fmt.Sprintf("duplicate key (first at line %d)", first.line), "keep one of the two")
			continue
		}
		seen[e.key] = e.kpos
		if !contains(known, e.key) {
			d.report(e.kpos, p, fmt.Sprintf("unknown key %q", e.key), unknownFix(path, e.key, known))
			continue
		}
		d.vals[p], d.keys[p] = e.val, e.kpos
		if e.val.kind == kNull {
			d.report(e.kpos, p, "has no value", "give it a value or remove the key")
			continue
		}
		fn(e.key, e.val, p)
	}
	return true
}

// unknownFix suggests the nearest known key, or the sections a key belongs
// to when it is in the wrong place.
func unknownFix(path, key string, known []string) string {
	if s := closest(key, known); s != "" {
		return fmt.Sprintf("did you mean %s?", s)
	}
	var homes []string
	for _, sec := range sectionKeys {
		if sec.path != path && contains(sec.keys, key) {
			homes = append(homes, sec.name())
		}
	}
	if len(homes) > 0 {
		return fmt.Sprintf("%s belongs under %s", key, strings.Join(homes, " or "))
	}
	return fmt.Sprintf("keys allowed in %s: %s", section{path: path}.name(), strings.Join(known, ", "))
}

func show(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:37]) + "..."
	}
	return strconv.Quote(s)
}

func (d *decoder) gotScalar(v *node, p, want, example string) bool {
	if v.kind == kScalar {
		return true
	}
	d.report(v.pos, p, fmt.Sprintf("want %s, got %s", want, v.describe()), "write a single value, e.g. "+example)
	return false
}

// str decodes any scalar as text (numbers as written).
func (d *decoder) str(v *node, p string) (string, bool) {
	if !d.gotScalar(v, p, "text", `"abc"`) {
		return "", false
	}
	if v.typ == tBool {
		d.report(v.pos, p, "want text, got a boolean", fmt.Sprintf("quote it: %q", v.text))
		return "", false
	}
	return v.text, true
}

// nonEmpty is str that also rejects "".
func (d *decoder) nonEmpty(v *node, p string) (string, bool) {
	s, ok := d.str(v, p)
	if ok && strings.TrimSpace(s) == "" {
		d.report(v.pos, p, "is empty", "give a value or remove the key")
		return "", false
	}
	return s, ok
}

func (d *decoder) enum(v *node, p string, allowed ...string) (string, bool) {
	s, ok := d.str(v, p)
	if !ok {
		return "", false
	}
	if !contains(allowed, s) {
		fix := "use one of: " + strings.Join(allowed, ", ")
		if c := closest(strings.ToLower(s), allowed); c != "" {
			fix = fmt.Sprintf("did you mean %s? (one of: %s)", c, strings.Join(allowed, ", "))
		}
		d.report(v.pos, p, fmt.Sprintf("unknown value %s", show(s)), fix)
		return "", false
	}
	return s, true
}

func (d *decoder) integer(v *node, p string, lo, hi int) (int, bool) {
	if !d.gotScalar(v, p, "a whole number", strconv.Itoa(max(lo, 1))) {
		return 0, false
	}
	switch v.typ {
	case tInt:
	case tString:
		fix := "write a whole number without quotes"
		if _, err := strconv.Atoi(v.text); err != nil {
			fix = fmt.Sprintf("write a whole number, e.g. %d", max(lo, 1))
		}
		d.report(v.pos, p, "want a whole number, got text "+show(v.text), fix)
		return 0, false
	default:
		d.report(v.pos, p, "want a whole number, got "+v.describe()+" "+v.text, fmt.Sprintf("write a whole number, e.g. %d", max(lo, 1)))
		return 0, false
	}
	n, err := strconv.ParseInt(v.text, 10, 64)
	if err != nil || n < int64(lo) || n > int64(hi) {
		d.report(v.pos, p, fmt.Sprintf("%s is out of range", v.text), rangeFix(lo, hi))
		return 0, false
	}
	return int(n), true
}

func rangeFix(lo, hi int) string {
	if hi == math.MaxInt {
		return fmt.Sprintf("use %d or more", lo)
	}
	return fmt.Sprintf("use a value from %d to %d", lo, hi)
}

func (d *decoder) boolean(v *node, p string) (bool, bool) {
	if !d.gotScalar(v, p, "true or false", "true") {
		return false, false
	}
	if v.typ != tBool {
		d.report(v.pos, p, "want true or false, got "+v.describe()+" "+show(v.text), "write true or false, without quotes")
		return false, false
	}
	return v.text == "true", true
}

// duration decodes a duration within [lo, hi].
func (d *decoder) duration(v *node, p string, lo, hi time.Duration) (time.Duration, bool) {
	if !d.gotScalar(v, p, "a duration", "30s") {
		return 0, false
	}
	if v.typ == tBool {
		d.report(v.pos, p, "want a duration, got a boolean", "write a duration such as 30s")
		return 0, false
	}
	x, err := ParseDuration(v.text)
	if err != nil {
		d.reportErr(v.pos, p, err)
		return 0, false
	}
	if x < lo || x > hi {
		fix := fmt.Sprintf("use %v or more", lo)
		if hi < time.Duration(math.MaxInt64) {
			fix = fmt.Sprintf("use a duration from %v to %v", lo, hi)
		}
		d.report(v.pos, p, fmt.Sprintf("%v is out of range", x), fix)
		return 0, false
	}
	return x, true
}

// rate decodes a rate (per second) that is at least lo.
func (d *decoder) rate(v *node, p string, lo float64, positive bool) (float64, bool) {
	if !d.gotScalar(v, p, "a rate", "500/s") {
		return 0, false
	}
	if v.typ == tBool {
		d.report(v.pos, p, "want a rate, got a boolean", "write a rate such as 500/s")
		return 0, false
	}
	r, err := ParseRate(v.text)
	if err != nil {
		d.reportErr(v.pos, p, err)
		return 0, false
	}
	if positive && r <= 0 {
		d.report(v.pos, p, "must be more than 0/s", "write a positive rate such as 100/s")
		return 0, false
	}
	if r < lo {
		d.report(v.pos, p, fmt.Sprintf("%s is too low", v.text), "use at least "+FormatRate(lo))
		return 0, false
	}
	return r, true
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// env decodes the name of an environment variable. The value is never
// echoed: a user may have pasted the secret itself.
func (d *decoder) env(v *node, p string) (string, bool) {
	s, ok := d.str(v, p)
	if !ok {
		return "", false
	}
	if !envName.MatchString(s) {
		d.report(v.pos, p, "is not an environment variable name (letters, digits and _)",
			"put the secret in an environment variable and write its name here, e.g. FLEETBENCH_KEY; never the secret itself")
		return "", false
	}
	return s, true
}

// file decodes a file path. Relative paths in the scenario resolve against
// the scenario's directory; relative paths given with --set stay relative
// to the working directory, where the user typed them.
func (d *decoder) filePath(v *node, p string) (string, bool) {
	s, ok := d.nonEmpty(v, p)
	if !ok {
		return "", false
	}
	if strings.HasPrefix(s, "~/") {
		d.report(v.pos, p, "~ is not expanded", "write the full path or a path relative to the scenario file")
		return "", false
	}
	if v.pos.file != SetFile && !filepath.IsAbs(s) {
		s = filepath.Join(d.dir, s)
	}
	return filepath.Clean(s), true
}

// template decodes a template with the given placeholders.
func (d *decoder) template(v *node, p string, fields []string) (string, []Segment, bool) {
	s, ok := d.str(v, p)
	if !ok {
		return "", nil, false
	}
	segs, err := ParseTemplate(s, fields...)
	if err != nil {
		te := err.(*TemplateError)
		d.report(d.inside(v, te.Offset), p, te.Msg, te.Fix)
		return "", nil, false
	}
	return s, segs, true
}

// inside is the position of byte offset off within scalar v's text. Quoted
// scalars start one column after their quote; escapes and multi-line
// scalars make the column approximate, so those report the value's start.
func (d *decoder) inside(v *node, off int) pos {
	q := v.pos
	if strings.ContainsAny(v.text, "\n\\") || off > len(v.text) {
		return q
	}
	if v.quoted {
		q.col++
	}
	q.col += utf8.RuneCountInString(v.text[:off])
	return q
}

// sortProblems orders problems by file position, --set overrides last.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if (a.File == SetFile) != (b.File == SetFile) {
			return b.File == SetFile
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
