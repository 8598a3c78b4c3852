package workspace

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"go.yaml.in/yaml/v3"
)

// maxDocs bounds the YAML documents read from one file, maxAliasDepth the alias/merge-key
// chains followed when looking a key up (a hostile file cannot make the index slow).
const (
	maxDocs       = 1000
	maxAliasDepth = 16
)

// parseYAML returns the documents of a YAML (or JSON) file; a document that does not parse
// ends the list and its error is returned with the documents before it.
func parseYAML(src string) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(src))
	var docs []*yaml.Node
	for len(docs) < maxDocs {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return docs, err
		}
		if len(n.Content) > 0 {
			docs = append(docs, n.Content[0])
		}
	}
	return docs, nil
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// pair is one key/value of a mapping.
type pair struct {
	key, value *yaml.Node
}

// pairs returns the entries of a mapping with YAML merge keys (`<<: *base`, `<<: [*a, *b]`)
// applied: keys written in the mapping win over merged ones, earlier merges over later ones.
func pairs(n *yaml.Node) []pair { return pairsDepth(n, 0) }

func pairsDepth(n *yaml.Node, depth int) []pair {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxAliasDepth {
		return nil
	}
	var own, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag != "!!str" {
			v = resolve(v)
			if v == nil {
				continue
			}
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, m := range srcs {
				merged = append(merged, pairsDepth(m, depth+1)...)
			}
			continue
		}
		seen[k.Value] = true
		own = append(own, pair{k, v})
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			own = append(own, p)
		}
	}
	return own
}

// get returns the value of key in mapping n (merge keys applied), and its key node.
func get(n *yaml.Node, key string) (value, keyNode *yaml.Node) {
	for _, p := range pairs(n) {
		if p.key.Value == key {
			return resolve(p.value), p.key
		}
	}
	return nil, nil
}

// str returns the value of a scalar node ("" otherwise).
func str(n *yaml.Node) string {
	if n = resolve(n); n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// items returns the elements of a sequence node.
func items(n *yaml.Node) []*yaml.Node {
	if n = resolve(n); n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// nodePos converts a node's 1-based line and rune column to a byte position.
func nodePos(lines *text.Lines, n *yaml.Node) text.Pos {
	line := n.Line - 1
	if line < 0 {
		return text.Pos{}
	}
	s := lines.Line(line)
	col, runes := 0, n.Column-1
	for runes > 0 && col < len(s) {
		_, size := utf8.DecodeRuneInString(s[col:])
		col += size
		runes--
	}
	return text.Pos{Line: line, Col: col}
}

// nodeRange is the range of a node's text: a scalar's value with its quotes (to the end of
// the line for block and multi-line scalars), the first line of a collection.
func nodeRange(lines *text.Lines, n *yaml.Node) text.Range {
	start := nodePos(lines, n)
	s := lines.Line(start.Line)
	end := text.Pos{Line: start.Line, Col: len(s)}
	if n.Kind == yaml.ScalarNode && start.Col < len(s) {
		rest := s[start.Col:]
		switch n.Style {
		case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
			q := rest[0]
			for i := 1; i < len(rest); i++ {
				if q == '"' && rest[i] == '\\' {
					i++
					continue
				}
				if rest[i] == q {
					if q == '\'' && i+1 < len(rest) && rest[i+1] == '\'' {
						i++
						continue
					}
					end.Col = start.Col + i + 1
					break
				}
			}
		case 0, yaml.TaggedStyle:
			if strings.HasPrefix(rest, n.Value) {
				end.Col = start.Col + len(n.Value)
			} else if i := strings.Index(rest, " #"); i > 0 {
				end.Col = start.Col + len(strings.TrimRight(rest[:i], " \t"))
			} else {
				end.Col = start.Col + len(strings.TrimRight(rest, " \t,}]"))
			}
		}
	}
	return text.Range{Start: start, End: end}
}

// keyValueRange spans a key and its value on the key's line ("build: ./web").
func keyValueRange(lines *text.Lines, k, v *yaml.Node) text.Range {
	r := nodeRange(lines, k)
	if v != nil && v.Kind == yaml.ScalarNode && v.Line == k.Line {
		r.End = nodeRange(lines, v).End
	}
	return r
}
