package codeactions

// Minimal YAML text edits that keep the file as its author wrote it: comments, indentation
// (2 or 4 spaces, indented or non-indented sequences), block or flow style, line endings.
// The edits work on yaml.v3 nodes parsed from the same text; they never re-serialise a
// document. JSON files are flow YAML: edits there write JSON.
//
// Rule groups that fix YAML (Kubernetes manifests, Helm values.yaml, OpenShift) use these
// helpers through a [YAMLEditor].

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	yaml "go.yaml.in/yaml/v3"
)

// YAMLValue is a value to write: a scalar (written as given), a sequence of scalars, or a mapping.
type YAMLValue struct {
	Scalar string
	Seq    []string
	Map    []YAMLEntry
	kind   int // 0 scalar, 1 seq, 2 map
}

// YAMLEntry is one key of a mapping value.
type YAMLEntry struct {
	Key   string
	Value YAMLValue
}

// Scalar is a scalar value, written as given ("true", "10001", "RuntimeDefault").
func Scalar(s string) YAMLValue { return YAMLValue{Scalar: s} }

// Seq is a sequence of scalars.
func Seq(items ...string) YAMLValue { return YAMLValue{Seq: items, kind: 1} }

// Map is a mapping, its keys in the order given.
func Map(entries ...YAMLEntry) YAMLValue { return YAMLValue{Map: entries, kind: 2} }

// Entry is one key: value of a mapping.
func Entry(key string, v YAMLValue) YAMLEntry { return YAMLEntry{Key: key, Value: v} }

// YAMLStyle is how a file is written.
type YAMLStyle struct {
	Indent    int    // spaces per mapping level (2 or 4; 2 when nothing shows)
	SeqIndent int    // spaces between a key and the "-" of its block sequence items (0: not indented)
	FlowSeq   bool   // scalar sequences are written [a, b] rather than as "- a" lines
	JSON      bool   // the file is JSON: quote keys and strings
	EOL       string // line ending
}

// DetectYAMLStyle reads the style of src from its documents (parsed from src).
func DetectYAMLStyle(src string, docs []*yaml.Node) YAMLStyle {
	lines := text.NewLines(src)
	st := YAMLStyle{Indent: 0, SeqIndent: -1, EOL: lines.EOL()}
	t := strings.TrimLeft(src, " \t\r\n\ufeff")
	st.JSON = (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && len(docs) > 0 && len(docs[0].Content) > 0 && docs[0].Content[0].Style&yaml.FlowStyle != 0
	flow, block := 0, 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 100 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			if n.Style&yaml.FlowStyle == 0 {
				for i := 0; i+1 < len(n.Content); i += 2 {
					k, v := n.Content[i], n.Content[i+1]
					if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && st.Indent == 0 && v.Content[0].Line > k.Line {
						if d := v.Content[0].Column - k.Column; d > 0 {
							st.Indent = d
						}
					}
					if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && st.SeqIndent < 0 && v.Line > k.Line {
						if d := v.Column - k.Column; d >= 0 {
							st.SeqIndent = d
						}
					}
				}
			}
		case yaml.SequenceNode:
			scalars := len(n.Content) > 0
			for _, c := range n.Content {
				if c.Kind != yaml.ScalarNode {
					scalars = false
				}
			}
			if scalars {
				if n.Style&yaml.FlowStyle != 0 {
					flow++
				} else {
					block++
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	for _, d := range docs {
		walk(d, 0)
	}
	if st.Indent <= 0 || st.Indent > 8 {
		st.Indent = 2
	}
	if st.SeqIndent < 0 {
		st.SeqIndent = 0
	}
	st.FlowSeq = flow > block || st.JSON
	return st
}

// YAMLEditor plans edits to one YAML (or JSON) text whose nodes were parsed from it.
type YAMLEditor struct {
	Lines *text.Lines
	Style YAMLStyle
}

// NewYAMLEditor returns an editor for src, detecting its style from docs.
func NewYAMLEditor(src string, docs []*yaml.Node) *YAMLEditor {
	return &YAMLEditor{Lines: text.NewLines(src), Style: DetectYAMLStyle(src, docs)}
}

// ErrYAMLShape is returned when the document does not have a shape the edit can handle
// (a scalar where a mapping is needed, an alias…).
var ErrYAMLShape = errors.New("the YAML does not have the expected shape")

// Set makes path (keys from mapping m) hold v: missing mappings are created, an existing
// scalar is replaced when it differs, a sequence gets the missing items appended, and a
// mapping value is merged key by key. It returns no edits when the value is already there.
func (e *YAMLEditor) Set(m *yaml.Node, path []string, v YAMLValue) ([]text.Edit, error) {
	if m == nil || m.Kind != yaml.MappingNode || len(path) == 0 {
		return nil, ErrYAMLShape
	}
	k, val := lookup(m, path[0])
	if k == nil {
		return []text.Edit{e.Insert(m, path[0], nest(path[1:], v))}, nil
	}
	if val == nil || val.Kind == yaml.AliasNode || val.Kind == yaml.ScalarNode && val.Anchor != "" {
		// An alias, or an anchored scalar that aliases elsewhere share: not edited here.
		return nil, ErrYAMLShape
	}
	if isNullNode(val) {
		ed, err := e.fillNull(m, k, val, nest(path[1:], v))
		if err != nil {
			return nil, err
		}
		return []text.Edit{ed}, nil
	}
	if len(path) > 1 {
		return e.Set(val, path[1:], v)
	}
	switch v.kind {
	case 0:
		if val.Kind != yaml.ScalarNode {
			return nil, ErrYAMLShape
		}
		if val.Value == unquote(v.Scalar) {
			return nil, nil
		}
		return []text.Edit{e.SetScalar(val, v.Scalar)}, nil
	case 1:
		if val.Kind != yaml.SequenceNode {
			return nil, ErrYAMLShape
		}
		var missing []string
		for _, it := range v.Seq {
			found := false
			for _, c := range val.Content {
				if c.Kind == yaml.ScalarNode && c.Value == unquote(it) {
					found = true
				}
			}
			if !found {
				missing = append(missing, it)
			}
		}
		if len(missing) == 0 {
			return nil, nil
		}
		ed, err := e.Append(val, missing...)
		if err != nil {
			return nil, err
		}
		return []text.Edit{ed}, nil
	default:
		if val.Kind != yaml.MappingNode {
			return nil, ErrYAMLShape
		}
		var out []text.Edit
		var missing []YAMLEntry
		flow := val.Style&yaml.FlowStyle != 0 || e.Style.JSON
		for _, en := range v.Map {
			if k, _ := lookup(val, en.Key); k == nil && flow {
				missing = append(missing, en) // written together below: one edit at one place
				continue
			}
			eds, err := e.Set(val, []string{en.Key}, en.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, eds...)
		}
		if len(missing) > 0 {
			out = append(out, e.insertFlow(val, missing...))
		}
		return out, nil
	}
}

func nest(path []string, v YAMLValue) YAMLValue {
	for i := len(path) - 1; i >= 0; i-- {
		v = Map(Entry(path[i], v))
	}
	return v
}

func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			k, v = m.Content[i], m.Content[i+1]
		}
	}
	return k, v
}

func isNullNode(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// SetScalar replaces a scalar node's token with v (written as given; in JSON, strings are quoted).
func (e *YAMLEditor) SetScalar(n *yaml.Node, v string) text.Edit {
	return text.Edit{Range: yamlnode.Range(e.Lines, n), NewText: e.scalar(v)}
}

// Insert adds key: v to mapping m (which must not hold key): in a block mapping as new lines
// after its last entry, at the mapping's indentation; in a flow mapping (and JSON) inline.
func (e *YAMLEditor) Insert(m *yaml.Node, key string, v YAMLValue) text.Edit {
	if m.Style&yaml.FlowStyle != 0 || e.Style.JSON {
		return e.insertFlow(m, Entry(key, v))
	}
	if len(m.Content) == 0 {
		// An empty block mapping cannot be written; treat as the document root.
		p := yamlnode.Pos(e.Lines, m)
		return text.Edit{Range: text.Range{Start: p, End: p}, NewText: strings.Join(e.block(key, v, p.Col), e.Style.EOL) + e.Style.EOL}
	}
	first := yamlnode.Pos(e.Lines, m.Content[0])
	col := first.Col
	lastKey := m.Content[len(m.Content)-2]
	end := max(e.entryEnd(yamlnode.Pos(e.Lines, lastKey).Line, col, true), e.end(m.Content[len(m.Content)-1]).Line)
	body := strings.Join(e.block(key, v, col), e.Style.EOL)
	if end+1 >= e.Lines.Count() || e.Lines.Terminator(end) == "" {
		p := text.Pos{Line: end, Col: len(e.Lines.Line(end))}
		return text.Edit{Range: text.Range{Start: p, End: p}, NewText: e.Style.EOL + body}
	}
	p := text.Pos{Line: end + 1}
	return text.Edit{Range: text.Range{Start: p, End: p}, NewText: body + e.Style.EOL}
}

// entryEnd returns the last line of the block entry that starts on line start with its key at
// column col: the following lines that are more indented (or, for a sequence value written
// without indentation, "- " items at col), blank lines and comments inside excluded at the end.
func (e *YAMLEditor) entryEnd(start, col int, seqAtCol bool) int {
	end := start
	for l := start + 1; l < e.Lines.Count(); l++ {
		line := e.Lines.Line(l)
		trim := strings.TrimLeft(line, " ")
		if strings.TrimSpace(trim) == "" {
			continue
		}
		ind := len(line) - len(trim)
		if ind > col {
			end = l
			continue
		}
		if strings.HasPrefix(trim, "#") {
			continue // a comment at the key's level: the entry may still go on below it
		}
		if ind == col && seqAtCol && (strings.HasPrefix(trim, "- ") || trim == "-") {
			end = l
			continue
		}
		break
	}
	return end
}

// block renders key: v as block lines indented to col.
func (e *YAMLEditor) block(key string, v YAMLValue, col int) []string {
	pad := strings.Repeat(" ", col)
	switch v.kind {
	case 0:
		return []string{pad + key + ": " + v.Scalar}
	case 1:
		if e.Style.FlowSeq {
			return []string{pad + key + ": " + e.flow(v)}
		}
		out := []string{pad + key + ":"}
		ipad := strings.Repeat(" ", col+e.Style.SeqIndent)
		for _, it := range v.Seq {
			out = append(out, ipad+"- "+it)
		}
		return out
	}
	out := []string{pad + key + ":"}
	for _, en := range v.Map {
		out = append(out, e.block(en.Key, en.Value, col+e.Style.Indent)...)
	}
	return out
}

// flow renders v in flow style ({a: b}, [x, y]), or JSON.
func (e *YAMLEditor) flow(v YAMLValue) string {
	switch v.kind {
	case 0:
		return e.scalar(v.Scalar)
	case 1:
		parts := make([]string, len(v.Seq))
		for i, it := range v.Seq {
			parts[i] = e.scalar(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	parts := make([]string, len(v.Map))
	for i, en := range v.Map {
		parts[i] = e.key(en.Key) + ": " + e.flow(en.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

var jsonLiteral = regexp.MustCompile(`^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)$`)

func (e *YAMLEditor) scalar(s string) string {
	if e.Style.JSON && !jsonLiteral.MatchString(s) && !strings.HasPrefix(s, `"`) {
		return fmt.Sprintf("%q", unquote(s))
	}
	return s
}

func (e *YAMLEditor) key(k string) string {
	if e.Style.JSON {
		return fmt.Sprintf("%q", k)
	}
	return k
}

// end returns where node n's text ends.
func (e *YAMLEditor) end(n *yaml.Node) text.Pos {
	switch {
	case n.Kind == yaml.ScalarNode || n.Kind == yaml.AliasNode:
		return yamlnode.Range(e.Lines, n).End
	case n.Style&yaml.FlowStyle != 0:
		return e.closing(yamlnode.Pos(e.Lines, n))
	case len(n.Content) > 0:
		return e.end(n.Content[len(n.Content)-1])
	}
	return yamlnode.Range(e.Lines, n).End
}

// closing returns the position just after the bracket that closes the one at p.
func (e *YAMLEditor) closing(p text.Pos) text.Pos {
	src := e.Lines.Source()
	depth := 0
	for i := e.Lines.Offset(p); i < len(src); i++ {
		switch c := src[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return e.Lines.PosAt(i + 1)
			}
		case '"', '\'':
			if !startsScalar(src, i) {
				continue // a quote inside a plain scalar
			}
			for i++; i < len(src) && src[i] != c; i++ {
				if c == '"' && src[i] == '\\' {
					i++
				} else if c == '\'' && src[i] == '\'' && i+1 < len(src) && src[i+1] == '\'' {
					i++
				}
			}
		case '#':
			if i > 0 && (src[i-1] == ' ' || src[i-1] == '\t' || src[i-1] == '\n') {
				for i < len(src) && src[i] != '\n' && src[i] != '\r' {
					i++
				}
			}
		}
	}
	return e.Lines.PosAt(len(src))
}

// startsScalar reports whether the quote at src[i] opens a quoted scalar: the previous
// non-blank character is a flow indicator, a colon, or a line start.
func startsScalar(src string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch src[j] {
		case ' ', '\t':
			continue
		case ':':
			// `key: "x"` — but `key:"x"` is one plain scalar, unless the key is JSON-like
			// (`"key":"x"`, `{a}:"x"`).
			return j < i-1 || j > 0 && strings.IndexByte(`"'}]`, src[j-1]) >= 0
		case '{', '[', ',', '\n', '\r', '-', '?':
			return true
		}
		return false
	}
	return true
}

func (e *YAMLEditor) insertFlow(m *yaml.Node, entries ...YAMLEntry) text.Edit {
	var parts []string
	for _, en := range entries {
		parts = append(parts, e.key(en.Key)+": "+e.flow(en.Value))
	}
	entry := strings.Join(parts, ", ")
	open := yamlnode.Pos(e.Lines, m)
	if len(m.Content) == 0 {
		p := text.Pos{Line: open.Line, Col: open.Col + 1}
		return text.Edit{Range: text.Range{Start: p, End: p}, NewText: entry}
	}
	lastKey := m.Content[len(m.Content)-2]
	after := e.end(m.Content[len(m.Content)-1])
	lk := yamlnode.Pos(e.Lines, lastKey)
	if lk.Line != open.Line {
		// One entry per line: a new line at the last key's indentation.
		pad := strings.Repeat(" ", lk.Col)
		return text.Edit{Range: text.Range{Start: after, End: after}, NewText: "," + e.Style.EOL + pad + strings.Join(parts, ","+e.Style.EOL+pad)}
	}
	return text.Edit{Range: text.Range{Start: after, End: after}, NewText: ", " + entry}
}

// fillNull gives an empty key (key: with no value, ~ or null) of mapping m the value v.
func (e *YAMLEditor) fillNull(m, k, val *yaml.Node, v YAMLValue) (text.Edit, error) {
	flow := m.Style&yaml.FlowStyle != 0 || e.Style.JSON
	kp := yamlnode.Pos(e.Lines, k)
	line := e.Lines.Line(kp.Line)
	if val.Value != "" {
		// An explicit ~ or null.
		r := yamlnode.Range(e.Lines, val)
		if v.kind == 2 && !flow {
			lines := e.block("", v, kp.Col)
			return text.Edit{Range: text.Range{Start: yamlnode.Range(e.Lines, k).End, End: r.End}, NewText: ":" + e.Style.EOL + strings.Join(lines[1:], e.Style.EOL)}, nil
		}
		return text.Edit{Range: r, NewText: e.flow(v)}, nil
	}
	if flow {
		// {key} or {key: }: the value goes after the colon (added when missing).
		ke := yamlnode.Range(e.Lines, k).End
		src := e.Lines.Source()
		off := e.Lines.Offset(ke)
		for off < len(src) && (src[off] == ' ' || src[off] == '\n' || src[off] == '\r') {
			off++
		}
		if off < len(src) && src[off] == ':' {
			p := e.Lines.PosAt(off + 1)
			return text.Edit{Range: text.Range{Start: p, End: p}, NewText: " " + e.flow(v)}, nil
		}
		return text.Edit{Range: text.Range{Start: ke, End: ke}, NewText: ": " + e.flow(v)}, nil
	}
	if v.kind != 2 {
		p := text.Pos{Line: kp.Line, Col: len(strings.TrimRight(yamlnode.StripComment(line), " \t"))}
		return text.Edit{Range: text.Range{Start: p, End: p}, NewText: " " + e.flow(v)}, nil
	}
	// key: (nothing) — the value's lines go after the key's line (and a comment on it).
	lines := e.block("", v, kp.Col)
	p := text.Pos{Line: kp.Line, Col: len(line)}
	return text.Edit{Range: text.Range{Start: p, End: p}, NewText: e.Style.EOL + strings.Join(lines[1:], e.Style.EOL)}, nil
}

// Append adds items to the end of sequence seq, in its style.
func (e *YAMLEditor) Append(seq *yaml.Node, items ...string) (text.Edit, error) {
	if seq.Kind != yaml.SequenceNode {
		return text.Edit{}, ErrYAMLShape
	}
	if seq.Style&yaml.FlowStyle != 0 || e.Style.JSON {
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = e.scalar(it)
		}
		if len(seq.Content) == 0 {
			p := yamlnode.Pos(e.Lines, seq)
			p.Col++
			return text.Edit{Range: text.Range{Start: p, End: p}, NewText: strings.Join(parts, ", ")}, nil
		}
		after := e.end(seq.Content[len(seq.Content)-1])
		return text.Edit{Range: text.Range{Start: after, End: after}, NewText: ", " + strings.Join(parts, ", ")}, nil
	}
	if len(seq.Content) == 0 {
		return text.Edit{}, ErrYAMLShape
	}
	dash := yamlnode.Pos(e.Lines, seq)
	lastItem := seq.Content[len(seq.Content)-1]
	// The last item's "-" is on its first line, at the sequence's column.
	end := max(e.entryEnd(yamlnode.Pos(e.Lines, lastItem).Line, dash.Col, false), e.end(lastItem).Line)
	pad := strings.Repeat(" ", dash.Col)
	var lines []string
	for _, it := range items {
		lines = append(lines, pad+"- "+it)
	}
	body := strings.Join(lines, e.Style.EOL)
	if end+1 >= e.Lines.Count() || e.Lines.Terminator(end) == "" {
		p := text.Pos{Line: end, Col: len(e.Lines.Line(end))}
		return text.Edit{Range: text.Range{Start: p, End: p}, NewText: e.Style.EOL + body}, nil
	}
	p := text.Pos{Line: end + 1}
	return text.Edit{Range: text.Range{Start: p, End: p}, NewText: body + e.Style.EOL}, nil
}

// Remove deletes key (and its value) from mapping m. It fails when key is m's only key (the
// caller decides what an empty mapping should become).
func (e *YAMLEditor) Remove(m *yaml.Node, key string) (text.Edit, error) {
	idx := -1
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			idx = i
		}
	}
	if idx < 0 || len(m.Content) < 4 {
		return text.Edit{}, ErrYAMLShape
	}
	k := m.Content[idx]
	kp := yamlnode.Pos(e.Lines, k)
	if m.Style&yaml.FlowStyle != 0 || e.Style.JSON {
		if idx+2 < len(m.Content) {
			next := yamlnode.Pos(e.Lines, m.Content[idx+2])
			return text.Edit{Range: text.Range{Start: kp, End: next}}, nil
		}
		prevEnd := e.end(m.Content[idx-1])
		return text.Edit{Range: text.Range{Start: prevEnd, End: e.end(m.Content[idx+1])}}, nil
	}
	end := max(e.entryEnd(kp.Line, kp.Col, true), e.end(m.Content[idx+1]).Line)
	prefix := e.Lines.Line(kp.Line)[:kp.Col]
	if strings.TrimSpace(prefix) == "" {
		// The entry has its own lines: delete them.
		return text.Edit{Range: text.Range{Start: text.Pos{Line: kp.Line}, End: text.Pos{Line: end + 1}}}, nil
	}
	// The key follows "- " on its line: the next key moves up to take its place.
	if idx+2 < len(m.Content) {
		next := yamlnode.Pos(e.Lines, m.Content[idx+2])
		return text.Edit{Range: text.Range{Start: kp, End: next}}, nil
	}
	return text.Edit{}, ErrYAMLShape
}

// RemoveItem deletes element i of sequence seq, in its style. It fails when the element is
// the sequence's only one (the caller decides what an empty sequence should become).
func (e *YAMLEditor) RemoveItem(seq *yaml.Node, i int) (text.Edit, error) {
	if seq.Kind != yaml.SequenceNode || i < 0 || i >= len(seq.Content) || len(seq.Content) < 2 {
		return text.Edit{}, ErrYAMLShape
	}
	it := seq.Content[i]
	if seq.Style&yaml.FlowStyle != 0 || e.Style.JSON {
		if i+1 < len(seq.Content) {
			return text.Edit{Range: text.Range{Start: yamlnode.Pos(e.Lines, it), End: yamlnode.Pos(e.Lines, seq.Content[i+1])}}, nil
		}
		return text.Edit{Range: text.Range{Start: e.end(seq.Content[i-1]), End: e.end(it)}}, nil
	}
	dash := yamlnode.Pos(e.Lines, seq)
	ip := yamlnode.Pos(e.Lines, it)
	end := max(e.entryEnd(ip.Line, dash.Col, false), e.end(it).Line)
	if strings.TrimSpace(e.Lines.Line(ip.Line)[:dash.Col]) != "" {
		return text.Edit{}, ErrYAMLShape // the first item shares its line with a parent's "- "
	}
	return text.Edit{Range: text.Range{Start: text.Pos{Line: ip.Line}, End: text.Pos{Line: end + 1}}}, nil
}
