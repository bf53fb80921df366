package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fleetbench/fleetbench/stamp"
)

// Template placeholders. Which ones a template may use depends on where it
// is used: devices.id takes {index}; topic, auth.client_id and auth.username
// take {device} and {index}; the payload takes all of them.
const (
	FieldDevice = "device" // the device id
	FieldIndex  = "index"  // the device index in decimal; {index:06} pads with zeros to 6 digits
	FieldSeq    = "seq"    // per-device sequence number, SeqLen digits, zero-padded
	FieldTS     = "ts"     // intended send time, Unix nanoseconds, TSLen digits, zero-padded
	FieldStamp  = "stamp"  // the stamp package's message stamp, StampLen bytes
	FieldFill   = "fill"   // padding that brings the payload to Payload.Size bytes; at most once
)

// Widths of the fixed-width payload placeholders, in bytes.
const (
	SeqLen   = 10
	TSLen    = 19
	StampLen = stamp.Len
)

// maxWidth caps {index:N}: a uint32 index has at most 10 digits, more is a typo.
const maxWidth = 20

// Segment is one piece of a parsed template: either a literal (Field empty)
// or a placeholder named by Field. Width is the zero-padding width of an
// {index:0N} placeholder (0: no padding).
type Segment struct {
	Literal string
	Field   string
	Width   int
}

// TemplateError is a problem in a template at a byte offset.
type TemplateError struct {
	Offset int    // byte offset of the problem in the template
	Msg    string // what is wrong
	Fix    string // how to fix it
}

// Error returns "what is wrong — how to fix".
func (e *TemplateError) Error() string { return e.Msg + " — " + e.Fix }

// ParseTemplate splits s into literal and placeholder segments. A
// placeholder is "{name}" or "{index:06}" where name is letters, digits and
// underscores; any other "{" is literal text, so JSON templates need no
// escaping. Placeholders not in allowed are errors (*TemplateError) with a
// suggestion. Only {index} takes a width; a placeholder name followed by a
// format that is not a width ("{index:x6}") is an error that names it.
// Adjacent literals are merged; the result is never nil for a non-empty s.
// It is safe for concurrent use.
func ParseTemplate(s string, allowed ...string) ([]Segment, error) {
	var segs []Segment
	lit := 0 // start of the pending literal
	for i := 0; i < len(s); {
		ph, ok := scanPlaceholder(s[i:])
		if !ok {
			i++
			continue
		}
		name, width := ph.name, ph.width
		if ph.hasSpec && width < 0 && !contains(PayloadFields, name) {
			i++ // "{key:value}" in a payload: text, not a placeholder
			continue
		}
		if !contains(allowed, name) {
			fix := "use one of " + braceList(allowed)
			if sug := closest(strings.ToLower(name), allowed); sug != "" {
				fix = fmt.Sprintf("did you mean {%s}? (allowed here: %s)", sug, braceList(allowed))
			}
			if len(allowed) == 0 {
				fix = "placeholders cannot be used here"
			}
			return nil, &TemplateError{i, fmt.Sprintf("unknown placeholder {%s}", name), fix}
		}
		if ph.hasSpec && name != FieldIndex {
			return nil, &TemplateError{i, fmt.Sprintf("{%s} takes no width", name), fmt.Sprintf("write {%s}; only {index} can be padded, as {index:06}", name)}
		}
		if ph.hasSpec && width < 0 {
			return nil, &TemplateError{i, fmt.Sprintf("{index:%s} has the format %q, which is not a width", ph.spec, ph.spec),
				"write {index}, or {index:06} to pad with zeros to 6 digits (digits only after the colon)"}
		}
		if width > maxWidth {
			return nil, &TemplateError{i, fmt.Sprintf("width %s of {index} is too large", ph.spec), fmt.Sprintf("use at most %d (an index has at most 10 digits)", maxWidth)}
		}
		if lit < i {
			segs = append(segs, Segment{Literal: s[lit:i]})
		}
		segs = append(segs, Segment{Field: name, Width: max(width, 0)})
		i += ph.n
		lit = i
	}
	if lit < len(s) {
		segs = append(segs, Segment{Literal: s[lit:]})
	}
	return segs, nil
}

// placeholder is what scanPlaceholder found at the start of a string.
type placeholder struct {
	name    string
	spec    string // the text after the colon, when hasSpec
	hasSpec bool
	width   int // spec as a width; -1 when there is no spec or it is not digits
	n       int // length of the placeholder in bytes
}

// maxSpecLen bounds the text after a placeholder's colon: longer runs are
// literal text, not a mistyped format.
const maxSpecLen = 16

// scanPlaceholder reports whether s starts with "{name}" or "{name:spec}"
// (spec without spaces, quotes or braces, at most maxSpecLen bytes).
func scanPlaceholder(s string) (placeholder, bool) {
	if len(s) < 3 || s[0] != '{' {
		return placeholder{}, false
	}
	i := 1
	for i < len(s) && isIdent(s[i], i == 1) {
		i++
	}
	if i == 1 || i == len(s) {
		return placeholder{}, false
	}
	ph := placeholder{name: s[1:i], width: -1}
	if s[i] == ':' {
		j := i + 1
		for j < len(s) && j-i-1 <= maxSpecLen && !strings.ContainsRune("{}\"' \t\n", rune(s[j])) {
			j++
		}
		if j == len(s) || j-i-1 > maxSpecLen {
			return placeholder{}, false
		}
		ph.spec, ph.hasSpec = s[i+1:j], true
		if digitsOnly(ph.spec) {
			ph.width = maxWidth + 1 // too large unless it parses below
			if w, err := strconv.Atoi(ph.spec); err == nil && w <= maxWidth {
				ph.width = w
			}
		}
		i = j
	}
	if s[i] != '}' {
		return placeholder{}, false
	}
	ph.n = i + 1
	return ph, true
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isIdent(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

func braceList(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "{" + n + "}"
	}
	return strings.Join(parts, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// HasField reports whether segs contain the placeholder field.
func HasField(segs []Segment, field string) bool { return countField(segs, field) > 0 }

func countField(segs []Segment, field string) int {
	n := 0
	for _, s := range segs {
		if s.Field == field {
			n++
		}
	}
	return n
}

// IndexLen is the length in bytes of index formatted by an {index:0width}
// placeholder (width 0: plain decimal).
func IndexLen(index, width int) int {
	n := 1
	if index < 0 {
		n++ // sign
		index = -index
	}
	for index >= 10 {
		index /= 10
		n++
	}
	return max(n, width)
}

// FixedLen returns how many bytes a payload template expands to without its
// {fill}, for the device with id length deviceIDLen and the given index:
// literals plus {device}, {index}, {seq} (SeqLen), {ts} (TSLen) and {stamp}
// (StampLen). A payload of Size bytes needs Size - FixedLen bytes of fill.
// Validation guarantees FixedLen <= Payload.Size for every device of the
// fleet.
func FixedLen(segs []Segment, deviceIDLen, index int) int {
	n := 0
	for _, s := range segs {
		switch s.Field {
		case "":
			n += len(s.Literal)
		case FieldDevice:
			n += deviceIDLen
		case FieldIndex:
			n += IndexLen(index, s.Width)
		case FieldSeq:
			n += SeqLen
		case FieldTS:
			n += TSLen
		case FieldStamp:
			n += StampLen
		}
	}
	return n
}

// TemplateFixedLen parses a payload template and returns FixedLen for a
// device with id length deviceIDLen and the given index.
func TemplateFixedLen(template string, deviceIDLen, index int) (int, error) {
	segs, err := ParseTemplate(template, PayloadFields...)
	if err != nil {
		return 0, err
	}
	return FixedLen(segs, deviceIDLen, index), nil
}

// Placeholders each kind of template accepts.
var (
	IDFields      = []string{FieldIndex}
	TopicFields   = []string{FieldDevice, FieldIndex}
	PayloadFields = []string{FieldDevice, FieldIndex, FieldSeq, FieldTS, FieldStamp, FieldFill}
)

// AppendIndex appends index formatted as by {index:0width}.
func AppendIndex(dst []byte, index, width int) []byte {
	for pad := width - IndexLen(index, 0); pad > 0; pad-- {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(index), 10)
}

// Expand expands a template that uses only {device} and {index} (an id,
// topic, client id or user name template) for one device.
func Expand(segs []Segment, device string, index int) string {
	b := make([]byte, 0, 64)
	for _, s := range segs {
		switch s.Field {
		case "":
			b = append(b, s.Literal...)
		case FieldDevice:
			b = append(b, device...)
		case FieldIndex:
			b = AppendIndex(b, index, s.Width)
		}
	}
	return string(b)
}

// DeviceID returns the id of the device at position i (0-based) of the fleet,
// whose index is FirstIndex+i. It parses the template on every call; to
// name a whole fleet, parse d.ID once with ParseTemplate and call Expand.
func (d Devices) DeviceID(i int) string {
	segs, err := ParseTemplate(d.ID, IDFields...)
	if err != nil {
		return ""
	}
	return Expand(segs, "", d.FirstIndex+i)
}
