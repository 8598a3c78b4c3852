package kube

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	yaml "go.yaml.in/yaml/v3"
)

// budget bounds the work of converting a node tree (alias expansion, depth).
type budget struct {
	nodes int
	skip  map[*yaml.Node]bool // value nodes left out (fields of the wrong type)
	// params are the defaults of the OpenShift Template parameters (nil outside a Template).
	params map[string]string
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
		if v, ok := substitute(n, b.params); ok {
			return v, nil
		}
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
	n = yamlnode.Resolve(n)
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
	n = yamlnode.Resolve(n)
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
