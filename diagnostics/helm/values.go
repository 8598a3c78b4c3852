package helm

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Values is one values file of a chart with the position of every key.
type Values struct {
	File *diagnostics.File
	// Prefix is the path under which these values are seen by the root chart ("" for the
	// chart's own values, "sub" for a subchart's defaults).
	Prefix string
	Root   *yaml.Node // the document's top mapping (nil when empty or broken)
	Err    *diagnostics.Problem
	Keys   []*Key // every key in document order
	byPath map[string]*Key
}

// Key is one key of a values file.
type Key struct {
	Path     []string // from the file's top level
	Key      *yaml.Node
	Value    *yaml.Node
	KeyRange text.Range // the key token
	// ValueRange is the value when it sits on the key's line (a scalar or a flow
	// collection such as {}), else the zero range.
	ValueRange text.Range
}

// entry is the key as the settings editor of codeactions reads it.
func (k *Key) entry() codeactions.MappingEntry {
	return codeactions.MappingEntry{Value: k.Value, KeyRange: k.KeyRange, ValueRange: k.ValueRange}
}

// Dotted is the key's path joined with dots (podSecurityContext.runAsUser).
func (k *Key) Dotted() string { return strings.Join(k.Path, ".") }

// Range is the key and its value when that is on the same line, else the key token.
func (k *Key) Range() text.Range {
	if !k.ValueRange.IsZero() {
		return text.Range{Start: k.KeyRange.Start, End: k.ValueRange.End}
	}
	return k.KeyRange
}

// Lookup returns the key at a dotted path, or nil.
func (v *Values) Lookup(dotted string) *Key {
	if v == nil {
		return nil
	}
	return v.byPath[dotted]
}

// KeyAt returns the innermost key whose key token or same-line value holds pos.
func (v *Values) KeyAt(pos text.Pos) *Key {
	if v == nil {
		return nil
	}
	var best *Key
	for _, k := range v.Keys {
		if k.Range().Contains(pos) {
			best = k
		}
	}
	return best
}

// maxValuesNodes bounds the nodes indexed in one values file (alias bombs, huge files).
const maxValuesNodes = 200000

// ParseValues parses a values file and indexes its keys.
func ParseValues(f *diagnostics.File) *Values {
	v := &Values{File: f, byPath: map[string]*Key{}}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(f.Text), &doc); err != nil {
		v.Err = &diagnostics.Problem{Range: f.Lines().LineRange(diagnostics.ErrorLine(err.Error())), Message: "invalid values file: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		return v
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return v
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			return v
		}
		v.Err = &diagnostics.Problem{Range: nodeRange(f, root), Message: "invalid values file: the top level must be a mapping of keys"}
		return v
	}
	v.Root = root
	n := 0
	var walk func(m *yaml.Node, path []string)
	walk = func(m *yaml.Node, path []string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if n++; n > maxValuesNodes {
				return
			}
			kn, vn := m.Content[i], m.Content[i+1]
			p := append(append([]string(nil), path...), kn.Value)
			k := &Key{Path: p, Key: kn, Value: vn, KeyRange: nodeRange(f, kn)}
			if vn.Line == kn.Line && vn.Kind != yaml.AliasNode {
				k.ValueRange = nodeRange(f, vn)
			}
			v.Keys = append(v.Keys, k)
			v.byPath[k.Dotted()] = k
			if vn.Kind == yaml.MappingNode {
				walk(vn, p)
			}
		}
	}
	walk(root, nil)
	return v
}

// nodeRange is the range of the token a node starts on its line (a scalar, a quoted
// string, or a flow collection closed on the same line).
func nodeRange(f *diagnostics.File, n *yaml.Node) text.Range {
	lines := f.Lines()
	start := lines.FromRunes(n.Line-1, n.Column-1)
	line := lines.Line(start.Line)
	end := start.Col + tokenLen(line[start.Col:], n)
	return text.Range{Start: start, End: text.Pos{Line: start.Line, Col: end}}
}

// tokenLen is the length of the token a node starts on its line: a quoted string, a flow
// collection closed on the same line, or a plain scalar up to a comment.
func tokenLen(s string, n *yaml.Node) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '"', '\'':
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' && s[0] == '"' {
				i++
				continue
			}
			if s[i] == s[0] {
				return i + 1
			}
		}
		return len(s)
	case '{', '[':
		depth := 0
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(strings.TrimRight(s, " \t"))
	case '|', '>':
		return 1
	}
	if n.Kind == yaml.ScalarNode && n.Style == 0 && !strings.Contains(n.Value, "\n") && strings.HasPrefix(s, n.Value) {
		return len(n.Value)
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	if n.Kind == yaml.ScalarNode {
		// A key: stop at the ": " separator.
		if i := strings.Index(s, ": "); i >= 0 {
			s = s[:i]
		} else {
			s = strings.TrimSuffix(strings.TrimRight(s, " \t"), ":")
		}
	}
	return len(strings.TrimRight(s, " \t"))
}

// IsSecurityContextKey reports whether a values key holds a security context by its name:
// securityContext, podSecurityContext, containerSecurityContext and the like.
func IsSecurityContextKey(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), "securitycontext")
}

// mapGet returns the value of key in a mapping node.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// isFalse reports whether a node is the boolean false.
func isFalse(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && strings.EqualFold(n.Value, "false")
}

// isTrue reports whether a node is the boolean true.
func isTrue(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && strings.EqualFold(n.Value, "true")
}
