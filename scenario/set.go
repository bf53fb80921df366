package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/token"
)

// mapKeyed are the sections whose keys contain dots (metric names, property
// names): in a --set path, everything after them is one key.
var mapKeyed = []string{"thresholds", "publish.properties"}

// pathSeg is one step of a --set path: a key, or a list index.
type pathSeg struct {
	key   string
	index int // -1 for a key
	col   int // 1-based column of the step in the override
}

// templateLike matches a value such as "{device}" or "sim-{index:06}" that
// YAML would read as a flow mapping but the user meant as text.
var templateLike = regexp.MustCompile(`^[^\s:,\[\]]*\{[A-Za-z_][A-Za-z0-9_]*(:[0-9]+)?\}[^\s,\[\]]*$`)

// textOnly reports whether a one-line override value starts with a YAML
// indicator that has no meaning on one line: ">" and "|" open a block
// scalar (whose text would be on the following lines), "@" and "`" are
// reserved, "%" starts a directive. Such a value ("thresholds.x=>= 0.99")
// can only be meant as text.
func textOnly(value string) bool {
	v := strings.TrimLeft(value, " ")
	return v != "" && strings.ContainsRune(">|@`%", rune(v[0]))
}

// applySets applies "path=value" overrides to root (which may be nil for an
// empty file) and returns the new root. The value is YAML ("500", "20/s",
// "false", "{duration: 5s, rate: 1/s}"); a value that looks like a template
// ("{device}") or starts with an indicator YAML cannot use on one line
// (">= 0.99", see textOnly) is taken as text. An empty value removes the
// key. Nodes created by an override carry SetFile positions, so the decoder
// reports problems in them (unknown keys included) against the override.
func (d *decoder) applySets(root *node, sets []string) *node {
	for i, s := range sets {
		line := i + 1
		at := func(col int) pos { return pos{SetFile, line, col} }
		path, value, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(path) == "" {
			d.problems = append(d.problems, Problem{File: SetFile, Line: line, Col: 1,
				Msg: fmt.Sprintf("override %q is not path=value", s), Fix: "write e.g. --set devices.count=500 or --set publish.stages[0].rate=20/s"})
			continue
		}
		segs, err := splitPath(path)
		if err != nil {
			d.problems = append(d.problems, Problem{File: SetFile, Line: line, Col: 1, Path: path, Msg: err.Error(),
				Fix: "write keys separated by dots, list items as [n]: publish.stages[0].rate"})
			continue
		}
		var val *node // nil: remove
		if value != "" {
			valueCol := len(path) + 2
			if templateLike.MatchString(value) || textOnly(value) {
				val = &node{kind: kScalar, typ: tString, text: value, pos: at(valueCol)}
			} else {
				v, probs, err := parseYAML(SetFile, []byte(value), func(t *token.Token) pos {
					return at(valueCol + t.Position.Column - 1)
				})
				if err != nil {
					se := err.(*SyntaxError)
					se.Problem.Line, se.Problem.Path = line, path
					se.Problem.Fix = fmt.Sprintf(`the value is read as YAML: to give it as text, quote it inside the shell's quotes, e.g. --set '%s="%s"'`, path, value)
					d.problems = append(d.problems, se.Problem)
					continue
				}
				for _, p := range probs {
					p.Line, p.Path = line, path
					d.problems = append(d.problems, p)
				}
				if v == nil {
					v = &node{kind: kNull, pos: at(valueCol)}
				}
				val = v
			}
		}
		if root == nil {
			root = &node{kind: kMap, pos: pos{d.file, 1, 1}}
		}
		if err := setPath(root, segs, val, at); err != nil {
			d.problems = append(d.problems, Problem{File: SetFile, Line: line, Col: 1, Path: path, Msg: err.Error(),
				Fix: "check the path against docs/scenario.md"})
		}
	}
	return root
}

// splitPath splits "publish.stages[0].rate" into steps.
func splitPath(path string) ([]pathSeg, error) {
	var segs []pathSeg
	rest, col := path, 1
	prefix := ""
	for rest != "" {
		for _, mk := range mapKeyed {
			if prefix == mk {
				return append(segs, pathSeg{key: rest, index: -1, col: col}), nil
			}
		}
		end := strings.IndexAny(rest, ".[")
		if end < 0 {
			end = len(rest)
		}
		key := rest[:end]
		if key == "" {
			return nil, fmt.Errorf("empty key at column %d of %q", col, path)
		}
		segs = append(segs, pathSeg{key: key, index: -1, col: col})
		prefix = strings.TrimPrefix(prefix+"."+key, ".")
		rest, col = rest[end:], col+end
		for strings.HasPrefix(rest, "[") {
			close := strings.IndexByte(rest, ']')
			if close < 0 {
				return nil, fmt.Errorf("missing ] in %q", path)
			}
			n, err := strconv.Atoi(rest[1:close])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("list index %q in %q is not a number >= 0", rest[1:close], path)
			}
			segs = append(segs, pathSeg{index: n, col: col})
			prefix += "[]"
			rest, col = rest[close+1:], col+close+1
		}
		if strings.HasPrefix(rest, ".") {
			rest, col = rest[1:], col+1
			if rest == "" {
				return nil, fmt.Errorf("%q ends with a dot", path)
			}
		} else if rest != "" {
			return nil, fmt.Errorf("unexpected %q in %q", rest, path)
		}
	}
	return segs, nil
}

// setPath puts val at segs under root, creating mappings and list items on
// the way; a nil val removes the key or item. It only ever adds to or
// replaces in the tree built for this load, never the caller's input.
func setPath(root *node, segs []pathSeg, val *node, at func(int) pos) error {
	cur := root
	for i, s := range segs {
		last := i == len(segs)-1
		if s.index >= 0 {
			if cur.kind == kNull {
				cur.kind = kSeq
			}
			if cur.kind != kSeq {
				return fmt.Errorf("[%d] indexes %s, not a list", s.index, cur.describe())
			}
			if s.index > len(cur.items) {
				return fmt.Errorf("index [%d] is past the end of the list (%d items)", s.index, len(cur.items))
			}
			if last {
				switch {
				case val == nil && s.index < len(cur.items):
					cur.items = append(cur.items[:s.index:s.index], cur.items[s.index+1:]...)
				case val == nil:
				case s.index == len(cur.items):
					cur.items = append(cur.items, val)
				default:
					cur.items[s.index] = val
				}
				return nil
			}
			if s.index == len(cur.items) {
				if val == nil {
					return nil // removing under an item that does not exist
				}
				cur.items = append(cur.items, &node{kind: kNull, pos: at(s.col)})
			}
			cur = cur.items[s.index]
			continue
		}
		if cur.kind == kNull {
			cur.kind = kMap
		}
		if cur.kind != kMap {
			return fmt.Errorf("key %q is set inside %s, not a mapping", s.key, cur.describe())
		}
		idx := -1
		for j, e := range cur.entries {
			if e.key == s.key {
				idx = j
				break
			}
		}
		if last {
			switch {
			case val == nil && idx >= 0:
				cur.entries = append(cur.entries[:idx:idx], cur.entries[idx+1:]...)
			case val == nil:
			case idx >= 0:
				cur.entries[idx].val = val
			default:
				cur.entries = append(cur.entries, entry{key: s.key, kpos: at(s.col), val: val})
			}
			return nil
		}
		if idx < 0 {
			if val == nil {
				return nil // removing under a key that is not there
			}
			cur.entries = append(cur.entries, entry{key: s.key, kpos: at(s.col), val: &node{kind: kNull, pos: at(s.col)}})
			idx = len(cur.entries) - 1
		}
		cur = cur.entries[idx].val
	}
	return nil
}
