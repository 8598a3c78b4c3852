package kube

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	yaml "go.yaml.in/yaml/v3"
)

// Positions: yaml.v3 reports 1-based lines and 1-based columns counted in code points. The
// engine works in 0-based lines and byte columns (diagnostics/text), so every position goes
// through [Pos].

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
		end = len(strings.TrimRight(stripComment(rest), " \t"))
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
		return len(strings.TrimRight(stripComment(rest), " \t"))
	}
	// Anchors and tags precede the value on the same line.
	if rest[0] == '&' || rest[0] == '!' {
		return len(strings.TrimRight(stripComment(rest), " \t"))
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

// stripComment drops a trailing "# comment" that is outside quotes.
func stripComment(s string) string {
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

// resolve follows an alias to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// get returns the key and value nodes of key in mapping m (the last one when a key repeats,
// as Kubernetes' JSON conversion keeps the last). Nil when m is not a mapping or lacks key.
func get(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			k, v = m.Content[i], resolve(m.Content[i+1])
		}
	}
	return k, v
}

// getPath follows keys through nested mappings.
func getPath(m *yaml.Node, keys ...string) (k, v *yaml.Node) {
	v = m
	for _, key := range keys {
		if k, v = get(v, key); v == nil {
			return nil, nil
		}
	}
	return k, v
}

// str returns the value of a string scalar ("" otherwise).
func str(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return ""
	}
	return n.Value
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMapping(n *yaml.Node) bool { n = resolve(n); return n != nil && n.Kind == yaml.MappingNode }
func isSeq(n *yaml.Node) bool     { n = resolve(n); return n != nil && n.Kind == yaml.SequenceNode }

// items returns a sequence's elements (nil for anything else).
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = resolve(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// budget bounds the work of converting a node tree (alias expansion, depth).
type budget struct {
	nodes int
	skip  map[*yaml.Node]bool // value nodes left out (fields of the wrong type)
}

const (
	maxConvertNodes = 2_000_000
	maxDepth        = 200
)

var errBudget = fmt.Errorf("the YAML expands to too many nodes (alias bomb?)")
var errDepth = fmt.Errorf("the YAML nests more than %d levels deep", maxDepth)

// toValue converts a node into the plain Go value Kubernetes' JSON conversion would see:
// map[string]any, []any, string, int64, float64, bool or nil. Aliases are expanded within
// the budget; merge keys (<<) are honoured.
func toValue(n *yaml.Node, b *budget, depth int) (any, error) {
	if b.nodes++; b.nodes > maxConvertNodes {
		return nil, errBudget
	}
	if depth > maxDepth {
		return nil, errDepth
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toValue(n.Content[0], b, depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		return toValue(n.Alias, b, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			if b.skip[c] {
				continue
			}
			v, err := toValue(c, b, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
				mv, err := toValue(v, b, depth+1)
				if err != nil {
					return nil, err
				}
				merge := func(m any) {
					if mm, ok := m.(map[string]any); ok {
						for kk, vv := range mm {
							if _, ok := out[kk]; !ok {
								out[kk] = vv
							}
						}
					}
				}
				if l, ok := mv.([]any); ok {
					for _, m := range l {
						merge(m)
					}
				} else {
					merge(mv)
				}
				continue
			}
			key := k.Value
			if k.Kind != yaml.ScalarNode {
				key = fmt.Sprint(k.Kind)
			}
			if b.skip[v] {
				continue
			}
			val, err := toValue(v, b, depth+1)
			if err != nil {
				return nil, err
			}
			out[key] = val
		}
		return out, nil
	case yaml.ScalarNode:
		return scalarValue(n), nil
	}
	return nil, nil
}

// yaml11Bools are the plain scalars YAML 1.1 reads as booleans. Kubernetes' YAML reader
// (sigs.k8s.io/yaml, a yaml.v2 fork) does, so `runAsNonRoot: yes` is true to kubectl.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"true": true, "True": true, "TRUE": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
	"false": false, "False": false, "FALSE": false,
}

// scalarValue resolves a scalar the way Kubernetes' YAML reader does: YAML 1.1 for plain
// scalars (yes/no/on/off booleans, 0777 octal, 1_000), else by yaml.v3's tag.
func scalarValue(n *yaml.Node) any {
	if n.Style == 0 { // plain and untagged (an explicit tag sets TaggedStyle)
		if b, ok := yaml11Bools[n.Value]; ok {
			return b
		}
		if v, ok := yaml11Int(n.Value); ok {
			return v
		}
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
		var v bool
		if n.Decode(&v) == nil {
			return v
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return i
		}
		var v int64
		if n.Decode(&v) == nil {
			return v
		}
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	case "!!float":
		var v float64
		if n.Decode(&v) == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v
		}
		return n.Value
	}
	return n.Value
}

// intValue returns a scalar's integer value.
func intValue(n *yaml.Node) (int64, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch v := scalarValue(n).(type) {
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), true
		}
	}
	if n.ShortTag() == "!!str" {
		// Kubernetes does not accept a quoted number for an integer field; we read it for
		// display only.
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return i, false
		}
	}
	return 0, false
}

// boolValue returns a scalar's boolean value.
func boolValue(n *yaml.Node) (bool, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return false, false
	}
	v, ok := scalarValue(n).(bool)
	return v, ok
}

// lastLine returns the last line (1-based, as yaml.v3 counts) any node under n starts on.
func lastLine(n *yaml.Node, depth int) int {
	if n == nil || depth > maxDepth {
		return 0
	}
	l := n.Line
	if n.Kind == yaml.AliasNode {
		return l
	}
	if len(n.Content) > 0 {
		if c := lastLine(n.Content[len(n.Content)-1], depth+1); c > l {
			l = c
		}
	}
	return l
}

// validUTF8 is checked before parsing: yaml.v3 rejects invalid UTF-8 anyway, with a worse message.
func validUTF8(s string) (int, bool) {
	if utf8.ValidString(s) {
		return 0, true
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return i, false
		}
		i += w
	}
	return 0, true
}

// yaml11Int parses a YAML 1.1 integer: decimal, 0x hex, 0 octal, 0o octal, 0b binary, with
// optional sign and underscores.
func yaml11Int(v string) (int64, bool) {
	if v == "" || len(v) > 40 {
		return 0, false
	}
	c := v[0]
	if c != '-' && c != '+' && (c < '0' || c > '9') {
		return 0, false
	}
	plain := strings.ReplaceAll(v, "_", "")
	if plain == "" || plain == "-" || plain == "+" {
		return 0, false
	}
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return i, true
	}
	return 0, false
}
