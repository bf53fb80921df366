package scenario

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"github.com/goccy/go-yaml/token"
)

// Effective returns the scenario that Parse(name, data, sets) validates —
// the file with its --set overrides applied — as YAML, so that a run
// directory can hold what actually ran. Parsing the result without
// overrides gives the same Scenario. Comments and anchors are not kept
// (aliases are expanded), strings are double-quoted, and relative file
// names are written as given (they resolve against the original file's
// directory). The error is Parse's for input Parse would reject.
func Effective(name string, data []byte, sets []string) ([]byte, error) {
	if _, err := Parse(name, data, sets); err != nil {
		return nil, err
	}
	root, _, err := parseYAML(name, data, func(t *token.Token) pos {
		return pos{name, t.Position.Line, t.Position.Column}
	})
	if err != nil {
		return nil, err
	}
	d := newDecoder(name)
	root = d.applySets(root, sets)
	var b bytes.Buffer
	if root == nil || (root.kind == kMap && len(root.entries) == 0) {
		b.WriteString("{}\n")
		return b.Bytes(), nil
	}
	writeBlock(&b, root, 0)
	return b.Bytes(), nil
}

// plainKey is a mapping key that YAML reads back as the same string when
// written without quotes.
var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

func yamlKey(k string) string {
	if plainKey.MatchString(k) {
		return k
	}
	return strconv.Quote(k)
}

// yamlScalar writes a scalar so that it reads back with the same type and
// text: strings always double-quoted (Go's escapes are valid YAML ones).
func yamlScalar(n *node) string {
	switch {
	case n.kind == kNull:
		return "null"
	case n.typ == tString:
		return strconv.Quote(n.text)
	}
	return n.text
}

// inline is how a value is written on its key's line, or "" when it needs
// a block of its own below it.
func inline(n *node) string {
	switch {
	case n.kind == kMap && len(n.entries) == 0:
		return "{}"
	case n.kind == kSeq && len(n.items) == 0:
		return "[]"
	case n.kind == kMap || n.kind == kSeq:
		return ""
	}
	return yamlScalar(n)
}

// writeBlock writes a mapping or list in block style at indent spaces.
func writeBlock(b *bytes.Buffer, n *node, indent int) {
	pad := fmt.Sprintf("%*s", indent, "")
	switch n.kind {
	case kMap:
		for _, e := range n.entries {
			if s := inline(e.val); s != "" {
				fmt.Fprintf(b, "%s%s: %s\n", pad, yamlKey(e.key), s)
				continue
			}
			fmt.Fprintf(b, "%s%s:\n", pad, yamlKey(e.key))
			writeBlock(b, e.val, indent+2)
		}
	case kSeq:
		for _, it := range n.items {
			if s := inline(it); s != "" {
				fmt.Fprintf(b, "%s- %s\n", pad, s)
				continue
			}
			// "- " then the item's block, its first line on the dash's.
			var inner bytes.Buffer
			writeBlock(&inner, it, indent+2)
			fmt.Fprintf(b, "%s- %s", pad, bytes.TrimLeft(inner.Bytes(), " "))
		}
	default:
		fmt.Fprintf(b, "%s%s\n", pad, yamlScalar(n))
	}
}
