package scenario

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The decoder works on its own small tree rather than on go-yaml's AST:
// --set overrides are spliced into it with their own positions, and every
// node carries the position its problems are reported at.

type kind uint8

const (
	kNull kind = iota
	kScalar
	kMap
	kSeq
)

func (k kind) String() string {
	return [...]string{"an empty value", "a scalar", "a mapping", "a list"}[k]
}

type scalarType uint8

const (
	tString scalarType = iota
	tInt
	tFloat
	tBool
)

// pos is where a key or value starts.
type pos struct {
	file      string
	line, col int
}

type node struct {
	kind    kind
	pos     pos
	typ     scalarType // scalars
	text    string     // scalars: the value (unquoted string, or the literal text of a number/bool)
	quoted  bool       // scalar written in quotes: its content starts at pos.col+1
	entries []entry    // mappings, in order, duplicates kept
	items   []*node    // lists
}

type entry struct {
	key  string
	kpos pos
	val  *node
}

// describe names the node's type for messages: "a string", "a mapping".
func (n *node) describe() string {
	if n.kind != kScalar {
		return n.kind.String()
	}
	return [...]string{"a string", "an integer", "a number", "a boolean"}[n.typ]
}

// parseYAML parses one YAML document into a tree. file names positions.
// Structural problems that are not YAML syntax errors (merge keys, tags,
// several documents) are returned as problems; syntax errors as
// *SyntaxError.
func parseYAML(file string, data []byte, at func(*token.Token) pos) (root *node, probs []Problem, err error) {
	if p, ok := tooDeep(data); ok {
		q := at(&token.Token{Position: &token.Position{Line: p.line, Column: p.col}})
		return nil, nil, &SyntaxError{Problem{File: q.file, Line: q.line, Col: q.col,
			Msg: fmt.Sprintf("brackets nested deeper than %d levels", maxFlowDepth), Fix: "close the brackets; a scenario needs only a few levels"}}
	}
	f, err := parseBytes(data)
	if err != nil {
		var se *yaml.SyntaxError
		p := Problem{File: file, Line: 1, Col: 1, Msg: "invalid YAML: " + err.Error(), Fix: "check indentation, quoting and brackets near here"}
		if errors.As(err, &se) {
			p.Msg = "invalid YAML: " + se.Message
			if se.Token != nil {
				q := at(se.Token)
				p.File, p.Line, p.Col = q.file, q.line, q.col
			}
		}
		return nil, nil, &SyntaxError{p}
	}
	c := converter{at: at, anchors: map[string]*node{}}
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if root != nil {
			q := at(doc.Body.GetToken())
			c.probs = append(c.probs, Problem{File: q.file, Line: q.line, Col: q.col,
				Msg: "a second YAML document", Fix: "a scenario is one document: remove the '---' and what follows, or move it to its own file"})
			break
		}
		root = c.convert(doc.Body)
	}
	return root, c.probs, nil
}

// maxFlowDepth bounds the nesting of [ and { that reaches the YAML parser,
// whose time grows with the square of it.
const maxFlowDepth = 32

// tooDeep reports the position of the first [ or { nested deeper than
// maxFlowDepth, skipping quoted text and comments. It is a guard, not a
// parser: a few odd plain scalars may miscount, which only matters for
// files that are nested absurdly deep anyway.
func tooDeep(data []byte) (pos, bool) {
	depth, line, col := 0, 1, 0
	var quote byte
	comment := false
	for _, c := range data {
		col++
		switch {
		case c == '\n':
			line, col, comment = line+1, 0, false
		case comment:
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			comment = true
		case c == '[' || c == '{':
			if depth++; depth > maxFlowDepth {
				return pos{"", line, col}, true
			}
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
	}
	return pos{}, false
}

// parseBytes runs go-yaml's parser, turning a panic inside it into an error
// so that Load never panics on hostile input.
func parseBytes(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("the YAML parser failed (%v)", r)
		}
	}()
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

type converter struct {
	at      func(*token.Token) pos
	anchors map[string]*node
	probs   []Problem
	depth   int
}

func (c *converter) problem(p pos, msg, fix string) {
	c.probs = append(c.probs, Problem{File: p.file, Line: p.line, Col: p.col, Msg: msg, Fix: fix})
}

func (c *converter) pos(n ast.Node) pos {
	if t := n.GetToken(); t != nil {
		return c.at(t)
	}
	return pos{}
}

func (c *converter) convert(n ast.Node) *node {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 64 {
		c.problem(c.pos(n), "nesting is too deep", "a scenario is at most a few levels deep; check the indentation")
		return &node{kind: kNull, pos: c.pos(n)}
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		m := &node{kind: kMap, pos: c.pos(v)}
		if !v.IsFlowStyle && len(v.Values) > 0 {
			m.pos = c.pos(v.Values[0].Key)
		}
		for _, mv := range v.Values {
			c.addEntry(m, mv)
		}
		return m
	case *ast.MappingValueNode:
		m := &node{kind: kMap, pos: c.pos(v.Key)}
		c.addEntry(m, v)
		return m
	case *ast.SequenceNode:
		s := &node{kind: kSeq, pos: c.pos(v)}
		for _, item := range v.Values {
			s.items = append(s.items, c.convert(item))
		}
		return s
	case *ast.NullNode:
		return &node{kind: kNull, pos: c.pos(v)}
	case *ast.StringNode:
		t := v.GetToken()
		quoted := t != nil && (t.Type == token.DoubleQuoteType || t.Type == token.SingleQuoteType)
		return &node{kind: kScalar, pos: c.pos(v), typ: tString, text: v.Value, quoted: quoted}
	case *ast.LiteralNode:
		s := ""
		if v.Value != nil {
			s = v.Value.Value
		}
		return &node{kind: kScalar, pos: c.pos(v), typ: tString, text: s}
	case *ast.IntegerNode:
		text := v.GetToken().Value
		switch x := v.Value.(type) {
		case int64:
			text = strconv.FormatInt(x, 10)
		case uint64:
			text = strconv.FormatUint(x, 10)
		}
		return &node{kind: kScalar, pos: c.pos(v), typ: tInt, text: text}
	case *ast.FloatNode:
		return &node{kind: kScalar, pos: c.pos(v), typ: tFloat, text: v.GetToken().Value}
	case *ast.InfinityNode:
		return &node{kind: kScalar, pos: c.pos(v), typ: tFloat, text: v.GetToken().Value}
	case *ast.NanNode:
		return &node{kind: kScalar, pos: c.pos(v), typ: tFloat, text: v.GetToken().Value}
	case *ast.BoolNode:
		return &node{kind: kScalar, pos: c.pos(v), typ: tBool, text: strconv.FormatBool(v.Value)}
	case *ast.AnchorNode:
		val := c.convert(v.Value)
		if v.Name != nil {
			c.anchors[v.Name.GetToken().Value] = val
		}
		return val
	case *ast.AliasNode:
		name := ""
		if v.Value != nil {
			name = v.Value.GetToken().Value
		}
		if val, ok := c.anchors[name]; ok {
			return val
		}
		c.problem(c.pos(v), fmt.Sprintf("alias *%s names no anchor defined above it", name), "define &"+name+" before using *"+name)
		return &node{kind: kNull, pos: c.pos(v)}
	case *ast.TagNode:
		val := c.convert(v.Value)
		switch tag := v.Start.Value; tag {
		case "!!str":
			if val.kind == kScalar {
				val.typ = tString
			}
		case "!!int", "!!float", "!!bool", "!!map", "!!seq", "!!null":
		default:
			c.problem(c.pos(v), fmt.Sprintf("YAML tag %s is not supported", tag), "remove the tag")
		}
		return val
	case nil:
		return &node{kind: kNull}
	}
	c.problem(c.pos(n), fmt.Sprintf("unsupported YAML node (%s)", n.Type()), "write plain keys, values and lists")
	return &node{kind: kNull, pos: c.pos(n)}
}

func (c *converter) addEntry(m *node, mv *ast.MappingValueNode) {
	kp := c.pos(mv.Key)
	if mv.Key.IsMergeKey() {
		c.problem(kp, "merge keys (<<) are not supported", "write the keys out in full")
		return
	}
	var key string
	switch k := mv.Key.(type) {
	case *ast.StringNode:
		key = k.Value
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode:
		key = k.GetToken().Value
	default:
		c.problem(kp, "complex mapping keys are not supported", "use a plain word as the key")
		return
	}
	m.entries = append(m.entries, entry{key: key, kpos: kp, val: c.convert(mv.Value)})
}
