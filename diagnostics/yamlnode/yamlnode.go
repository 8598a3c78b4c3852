// Package yamlnode reads yaml.v3 node trees with positions: where a node's token is in the
// file's text, and the small getters every YAML model of the engine uses (a mapping's key, a
// sequence's items, a scalar's string), following aliases.
//
// yaml.v3 reports 1-based lines and 1-based columns counted in code points. The engine works
// in 0-based lines and byte columns (diagnostics/text), so every position goes through [Pos].
package yamlnode

import (
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Pos returns the position where node n starts.
func Pos(lines *text.Lines, n *yaml.Node) text.Pos {
	if n == nil || n.Line <= 0 {
		return text.Pos{}
	}
	return lines.FromRunes(n.Line-1, max(n.Column-1, 0))
}

// Range returns the range of a scalar node's source token (quotes included), or of the first
// line of a collection node's text. It never spans lines: a multi-line scalar's range ends at
// the end of its first line.
func Range(lines *text.Lines, n *yaml.Node) text.Range {
	start := Pos(lines, n)
	line := lines.Line(start.Line)
	if start.Col > len(line) {
		return text.Range{Start: start, End: start}
	}
	rest := line[start.Col:]
	end := len(rest)
	if n != nil && n.Kind == yaml.ScalarNode {
		end = scalarTokenLen(rest, n)
	} else if n != nil && n.Kind == yaml.AliasNode {
		end = tokenLen(rest)
	} else if n != nil && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && n.Style&yaml.FlowStyle != 0 {
		end = flowLen(rest)
	} else {
		end = len(strings.TrimRight(StripComment(rest), " \t"))
	}
	return text.Range{Start: start, End: text.Pos{Line: start.Line, Col: start.Col + end}}
}

// scalarTokenLen is the byte length of scalar n's token at the start of rest (the rest of its line).
func scalarTokenLen(rest string, n *yaml.Node) int {
	if rest == "" {
		return 0
	}
	switch rest[0] {
	case '"':
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(rest)
	case '\'':
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return len(rest)
	case '|', '>':
		return len(strings.TrimRight(StripComment(rest), " \t"))
	}
	// Anchors and tags precede the value on the same line: the token is the property and
	// the value after it (the property alone for an empty value, `{a: &x}` in flow).
	if rest[0] == '&' || rest[0] == '!' {
		i := strings.IndexAny(rest, " \t,]}")
		if i < 0 {
			return len(rest)
		}
		j := i + len(rest[i:]) - len(strings.TrimLeft(rest[i:], " \t"))
		if j == len(rest) || strings.IndexByte(",]}#", rest[j]) >= 0 {
			return i
		}
		return j + scalarTokenLen(rest[j:], n)
	}
	if strings.HasPrefix(rest, n.Value) && n.Value != "" {
		return len(n.Value)
	}
	// A plain scalar that folds over lines, or one written differently from its value.
	return tokenLen(rest)
}

// tokenLen is the length of a plain token: up to " #", a flow indicator or the line's end.
func tokenLen(rest string) int {
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case ',', ']', '}':
			return len(strings.TrimRight(rest[:i], " \t"))
		case '#':
			if i > 0 && (rest[i-1] == ' ' || rest[i-1] == '\t') {
				return len(strings.TrimRight(rest[:i], " \t"))
			}
		}
	}
	return len(strings.TrimRight(rest, " \t"))
}

// flowLen is the length of a flow collection starting at rest[0] on this line (to its
// closing bracket, or the end of the line when it continues on the next).
func flowLen(rest string) int {
	depth := 0
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"', '\'':
			q := rest[i]
			for i++; i < len(rest) && rest[i] != q; i++ {
				if q == '"' && rest[i] == '\\' {
					i++
				}
			}
		case '#':
			if i > 0 && (rest[i-1] == ' ' || rest[i-1] == '\t') {
				return len(strings.TrimRight(rest[:i], " \t"))
			}
		}
	}
	return len(strings.TrimRight(rest, " \t"))
}

// StripComment drops a trailing "# comment" that is outside quotes.
func StripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else if q == '"' && c == '\\' {
				i++
			}
		case c == '"' || c == '\'':
			if i == 0 || s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == ':' || s[i-1] == '[' || s[i-1] == '{' || s[i-1] == ',' || s[i-1] == '-' {
				q = c
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// Resolve follows an alias to its anchor.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// maxMergeDepth bounds the merge-key (`<<: *base`) chains followed (a hostile file cannot
// make a lookup slow).
const maxMergeDepth = 16

// Get returns the key and value nodes of key in mapping m (the last one when a key repeats,
// as Kubernetes' JSON conversion keeps the last). YAML merge keys (`<<: *base`,
// `<<: [*a, *b]`) apply: a key written in m wins over a merged one, an earlier merge over a
// later one. Nil when m is not a mapping or lacks key.
func Get(m *yaml.Node, key string) (k, v *yaml.Node) { return get(m, key, 0) }

func get(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > maxMergeDepth {
		return nil, nil
	}
	merges := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		c := m.Content[i]
		if c.Kind != yaml.ScalarNode {
			continue
		}
		if isMerge(c) {
			merges = true
		} else if c.Value == key {
			k, v = c, Resolve(m.Content[i+1])
		}
	}
	if k != nil || !merges {
		return k, v
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if isMerge(m.Content[i]) {
			for _, src := range mergeSources(m.Content[i+1]) {
				if k, v = get(src, key, depth+1); k != nil {
					return k, v
				}
			}
		}
	}
	return nil, nil
}

// isMerge reports whether a mapping key is the merge key `<<` (not the quoted string "<<").
func isMerge(k *yaml.Node) bool { return k.Value == "<<" && k.Tag != "!!str" }

// mergeSources are the mappings a merge key's value names: one, or a sequence of them.
func mergeSources(v *yaml.Node) []*yaml.Node {
	if v = Resolve(v); v == nil {
		return nil
	}
	if v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}

// Pair is one key and value of a mapping.
type Pair struct{ Key, Value *yaml.Node }

// Pairs returns the entries of mapping m in order, merge keys applied as [Get] applies them
// (merged entries after m's own); nil for anything but a mapping.
func Pairs(m *yaml.Node) []Pair { return pairs(m, 0) }

func pairs(m *yaml.Node, depth int) []Pair {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > maxMergeDepth {
		return nil
	}
	var own, merged []Pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if isMerge(k) {
			for _, src := range mergeSources(v) {
				merged = append(merged, pairs(src, depth+1)...)
			}
			continue
		}
		seen[k.Value] = true
		own = append(own, Pair{k, v})
	}
	for _, p := range merged {
		if !seen[p.Key.Value] {
			seen[p.Key.Value] = true
			own = append(own, p)
		}
	}
	return own
}

// Value returns the value node of key in mapping m ([Get] without the key).
func Value(m *yaml.Node, key string) *yaml.Node { _, v := Get(m, key); return v }

// GetPath follows keys through nested mappings.
func GetPath(m *yaml.Node, keys ...string) (k, v *yaml.Node) {
	v = m
	for _, key := range keys {
		if k, v = Get(v, key); v == nil {
			return nil, nil
		}
	}
	return k, v
}

// Str returns the value of a string scalar ("" otherwise).
func Str(n *yaml.Node) string {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || IsNull(n) {
		return ""
	}
	return n.Value
}

// IsNull reports whether n is a null scalar.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// IsMapping and IsSeq report what n is, following aliases.
func IsMapping(n *yaml.Node) bool { n = Resolve(n); return n != nil && n.Kind == yaml.MappingNode }
func IsSeq(n *yaml.Node) bool     { n = Resolve(n); return n != nil && n.Kind == yaml.SequenceNode }

// Items returns a sequence's elements (nil for anything else).
func Items(n *yaml.Node) []*yaml.Node {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = Resolve(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// KeyValueRange spans a key and its value when the value is a scalar on the key's line
// ("build: ./web"), else the key.
func KeyValueRange(lines *text.Lines, k, v *yaml.Node) text.Range {
	r := Range(lines, k)
	if v = Resolve(v); v != nil && v.Kind == yaml.ScalarNode && v.Line == k.Line {
		r.End = Range(lines, v).End
	}
	return r
}
