package helm

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
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
func nodeRange(f *diagnostics.File, n *yaml.Node) text.Range { return yamlnode.Range(f.Lines(), n) }

// IsSecurityContextKey reports whether a values key holds a security context by its name:
// securityContext, podSecurityContext, containerSecurityContext and the like.
func IsSecurityContextKey(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), "securitycontext")
}

// mapGet returns the value of key in a mapping node.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	_, v := yamlnode.Get(m, key)
	return v
}

// isFalse reports whether a node is the boolean false.
func isFalse(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && strings.EqualFold(n.Value, "false")
}

// isTrue reports whether a node is the boolean true.
func isTrue(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && strings.EqualFold(n.Value, "true")
}
