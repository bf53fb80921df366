package credential

import (
	"fmt"
	"strconv"
	"strings"
)

// template is a compiled client id / username template. Placeholders:
// {device} (the device id), {index} (the device index) and {index:0N}
// (the index zero-padded to N digits, 1 <= N <= 20). It is immutable and
// safe for concurrent use.
type template struct {
	src   string
	parts []tpart
}

type tpartKind uint8

const (
	tLiteral tpartKind = iota
	tDevice
	tIndex
)

type tpart struct {
	kind  tpartKind
	lit   string
	width int // zero-pad width of tIndex; 0: none
}

// parseTemplate compiles s; field names the scenario key for errors.
func parseTemplate(field, s string) (template, error) {
	t := template{src: s}
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, tpart{kind: tLiteral, lit: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, tpart{kind: tLiteral, lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return template{}, fmt.Errorf("%s: template %q has an unclosed '{' (placeholders: {device}, {index}, {index:06})", field, s)
		}
		name := rest[open+1 : open+end]
		rest = rest[open+end+1:]
		switch {
		case name == "device":
			t.parts = append(t.parts, tpart{kind: tDevice})
		case name == "index":
			t.parts = append(t.parts, tpart{kind: tIndex})
		case strings.HasPrefix(name, "index:0"):
			w, err := strconv.Atoi(name[len("index:0"):])
			if err != nil || w < 1 || w > 20 {
				return template{}, fmt.Errorf("%s: template %q: bad width in {%s} (write {index:06} for six zero-padded digits)", field, s, name)
			}
			t.parts = append(t.parts, tpart{kind: tIndex, width: w})
		default:
			return template{}, fmt.Errorf("%s: template %q: unknown placeholder {%s} (placeholders: {device}, {index}, {index:06})", field, s, name)
		}
	}
	return t, nil
}

// isDevice reports whether the template is exactly "{device}".
func (t template) isDevice() bool { return len(t.parts) == 1 && t.parts[0].kind == tDevice }

// appendTo appends the expansion for one device.
func (t template) appendTo(dst []byte, index int, deviceID string) []byte {
	for _, p := range t.parts {
		switch p.kind {
		case tLiteral:
			dst = append(dst, p.lit...)
		case tDevice:
			dst = append(dst, deviceID...)
		case tIndex:
			dst = appendPadded(dst, index, p.width)
		}
	}
	return dst
}

// expand returns the expansion; it allocates nothing for "{device}", a
// literal or an empty template, one string otherwise.
func (t template) expand(index int, deviceID string) string {
	switch {
	case len(t.parts) == 0:
		return ""
	case t.isDevice():
		return deviceID
	case len(t.parts) == 1 && t.parts[0].kind == tLiteral:
		return t.parts[0].lit
	}
	var buf [128]byte
	return string(t.appendTo(buf[:0], index, deviceID))
}

// appendPadded appends n in decimal, zero-padded to width digits after any sign.
func appendPadded(dst []byte, n, width int) []byte {
	var d [24]byte
	digits := strconv.AppendInt(d[:0], int64(n), 10)
	if n < 0 {
		dst = append(dst, '-')
		digits = digits[1:]
	}
	for i := len(digits); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}
