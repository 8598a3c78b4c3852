package codeactions

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// Settings merged into a YAML mapping: a Helm values security context (NR401, NR404) or a
// kustomize patch. The file's own layout is kept: its indentation unit, whether sequences sit
// at their key's indentation, its line ending; a `key: {}` with commented-out scaffold lines
// under it (the `helm create` default) becomes a block mapping, and the scaffold lines of the
// keys written are replaced while the other comments stay.

// MappingEntry is a key of a YAML mapping as the settings editor needs it.
type MappingEntry struct {
	Value    *yaml.Node
	KeyRange text.Range // the key token
	// ValueRange is the value when it sits on the key's line (a scalar or a flow
	// collection such as {}), else the zero range.
	ValueRange text.Range
}

// EnsureSettings plans the edits that make the mapping under e hold the settings (nil when
// they already hold, or the value is not a block mapping or empty).
func EnsureSettings(lines *text.Lines, e MappingEntry, es []diagnostics.Setting) []text.Edit {
	st := styleOf(lines)
	if IsEmptyMapping(e.Value) {
		return fillMapping(lines, e, es, st)
	}
	if e.Value.Kind != yaml.MappingNode || e.Value.Style&yaml.FlowStyle != 0 {
		return nil
	}
	return mergeMapping(lines, e.Value, es, st)
}

// IsEmptyMapping reports whether n is `{}` or null.
func IsEmptyMapping(n *yaml.Node) bool {
	return (n.Kind == yaml.MappingNode && len(n.Content) == 0) || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// layout is the file's layout: indentation unit, whether sequences sit at their
// key's indentation ("drop:\n- ALL"), and its line ending.
type layout struct {
	unit    int
	compact bool
	eol     string
}

func styleOf(lines *text.Lines) layout {
	st := layout{unit: 0, eol: lines.EOL()}
	prevIndent, prevKey := -1, false
	for n := 0; n < lines.Count(); n++ {
		l := lines.Line(n)
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := len(l) - len(t)
		if prevKey && strings.HasPrefix(t, "- ") && ind == prevIndent {
			st.compact = true
		}
		if d := ind - prevIndent; prevKey && d > 0 && !strings.HasPrefix(t, "- ") && (st.unit == 0 || d < st.unit) {
			st.unit = d
		}
		prevIndent = ind
		prevKey = strings.HasSuffix(strings.TrimRight(t, " "), ":")
	}
	if st.unit == 0 {
		st.unit = 2
	}
	return st
}

// render writes entries as block YAML lines at indent.
func (st layout) render(es []diagnostics.Setting, indent int) []string {
	pad := strings.Repeat(" ", indent)
	var out []string
	for _, e := range es {
		switch {
		case e.Children != nil:
			out = append(out, pad+e.Key+":")
			out = append(out, st.render(e.Children, indent+st.unit)...)
		case e.Items != nil:
			out = append(out, pad+e.Key+":")
			ip := pad
			if !st.compact {
				ip += strings.Repeat(" ", st.unit)
			}
			for _, it := range e.Items {
				out = append(out, ip+"- "+it)
			}
		default:
			out = append(out, pad+e.Key+": "+e.Scalar)
		}
	}
	return out
}

// fillMapping turns `key: {}` (and the commented scaffold under it) into a block mapping.
func fillMapping(lines *text.Lines, k MappingEntry, es []diagnostics.Setting, st layout) []text.Edit {
	L := k.KeyRange.Start.Line
	keyIndent := k.KeyRange.Start.Col
	line := lines.Line(L)
	colon := strings.Index(line[k.KeyRange.End.Col:], ":")
	if colon < 0 {
		return nil
	}
	colon += k.KeyRange.End.Col + 1
	rest := ""
	if !k.ValueRange.IsZero() {
		rest = line[k.ValueRange.End.Col:]
	} else {
		rest = line[colon:]
		if strings.TrimSpace(rest) != "" && !strings.HasPrefix(strings.TrimSpace(rest), "#") {
			return nil
		}
	}
	// The commented scaffold directly under the key.
	end := L
	for n := L + 1; n < lines.Count(); n++ {
		l := lines.Line(n)
		t := strings.TrimLeft(l, " \t")
		if !strings.HasPrefix(t, "#") || len(l)-len(t) <= keyIndent {
			break
		}
		end = n
	}
	written := map[string]bool{}
	for _, e := range es {
		written[e.Key] = true
	}
	var kept []string
	removing, removeIndent := false, 0
	lastKeyIndent := -1
	for n := L + 1; n <= end; n++ {
		l := lines.Line(n)
		body := strings.TrimPrefix(strings.TrimLeft(l, " \t"), "#")
		inner := strings.TrimLeft(body, " ")
		ind := len(body) - len(inner)
		isItem := strings.HasPrefix(inner, "- ")
		if removing && (ind > removeIndent || isItem && ind == removeIndent && lastKeyIndent == removeIndent) {
			continue
		}
		removing = false
		key, _, isKey := strings.Cut(inner, ":")
		if isKey && !isItem && !strings.Contains(key, " ") && written[key] {
			removing, removeIndent, lastKeyIndent = true, ind, ind
			continue
		}
		if isKey && !isItem {
			lastKeyIndent = ind
		}
		kept = append(kept, l)
	}
	block := st.render(es, keyIndent+st.unit)
	var b strings.Builder
	if t := strings.TrimSpace(rest); t != "" {
		b.WriteString(" " + t) // a trailing comment stays on the key's line
	}
	for _, l := range append(block, kept...) {
		b.WriteString(st.eol)
		b.WriteString(l)
	}
	return []text.Edit{{
		Range:   text.Range{Start: text.Pos{Line: L, Col: colon}, End: text.Pos{Line: end, Col: len(lines.Line(end))}},
		NewText: b.String(),
	}}
}

// mergeMapping adds or corrects entries in a block mapping.
func mergeMapping(lines *text.Lines, m *yaml.Node, es []diagnostics.Setting, st layout) []text.Edit {
	if len(m.Content) == 0 {
		return nil
	}
	indent := lines.FromRunes(m.Content[0].Line-1, m.Content[0].Column-1).Col
	var edits []text.Edit
	var inserts []diagnostics.Setting
	for _, e := range es {
		var kn, vn *yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == e.Key {
				kn, vn = m.Content[i], m.Content[i+1]
			}
		}
		if kn == nil {
			if !e.NoInsert {
				inserts = append(inserts, e)
			}
			continue
		}
		switch {
		case e.Children != nil:
			if vn.Kind == yaml.MappingNode && vn.Style&yaml.FlowStyle == 0 && len(vn.Content) > 0 {
				edits = append(edits, mergeMapping(lines, vn, e.Children, st)...)
			} else if IsEmptyMapping(vn) || vn.Kind == yaml.MappingNode && vn.Style&yaml.FlowStyle != 0 && onlyScalars(vn) {
				edits = append(edits, text.Edit{Range: valueRange(lines, vn), NewText: flowMerge(vn, e.Children)})
			}
		case e.Items != nil:
			edits = append(edits, ensureItems(lines, kn, vn, e.Items, st)...)
		default:
			if vn.Kind != yaml.ScalarNode || vn.Value == e.Scalar {
				continue
			}
			if e.ReplaceOnly != "" && vn.Value != e.ReplaceOnly {
				continue
			}
			edits = append(edits, text.Edit{Range: valueRange(lines, vn), NewText: e.Scalar})
		}
	}
	if len(inserts) > 0 {
		edits = append(edits, insertAfter(lines, lastLineOf(m), st.render(inserts, indent), st.eol))
	}
	return edits
}

func onlyScalars(m *yaml.Node) bool {
	for _, c := range m.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// flowMerge writes a flow mapping with the entries set ({type: RuntimeDefault}).
func flowMerge(m *yaml.Node, es []diagnostics.Setting) string {
	var parts []string
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i].Value, m.Content[i+1].Value
		for _, e := range es {
			if e.Key == k && e.Children == nil && e.Items == nil {
				v = e.Scalar
			}
		}
		seen[k] = true
		parts = append(parts, k+": "+v)
	}
	for _, e := range es {
		if !seen[e.Key] && e.Children == nil && e.Items == nil {
			parts = append(parts, e.Key+": "+e.Scalar)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// ensureItems makes a sequence hold the items.
func ensureItems(lines *text.Lines, kn, vn *yaml.Node, items []string, st layout) []text.Edit {
	var missing []string
	for _, it := range items {
		found := false
		if vn.Kind == yaml.SequenceNode {
			for _, c := range vn.Content {
				if strings.EqualFold(c.Value, it) {
					found = true
				}
			}
		}
		if !found {
			missing = append(missing, it)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	switch {
	case vn.Kind == yaml.SequenceNode && vn.Style&yaml.FlowStyle == 0 && len(vn.Content) > 0:
		first := vn.Content[0]
		pos := lines.FromRunes(first.Line-1, first.Column-1)
		dash := strings.LastIndex(lines.Line(pos.Line)[:pos.Col], "-")
		if dash < 0 {
			return nil
		}
		var out []string
		for _, it := range missing {
			out = append(out, strings.Repeat(" ", dash)+"- "+it)
		}
		return []text.Edit{insertAfter(lines, lastLineOf(vn), out, st.eol)}
	case vn.Kind == yaml.SequenceNode:
		var vals []string
		for _, c := range vn.Content {
			vals = append(vals, c.Value)
		}
		return []text.Edit{{Range: valueRange(lines, vn), NewText: "[" + strings.Join(append(vals, missing...), ", ") + "]"}}
	case vn.Kind == yaml.ScalarNode && vn.Tag == "!!null":
		if vn.Line == kn.Line && vn.Value != "" {
			return []text.Edit{{Range: valueRange(lines, vn), NewText: "[" + strings.Join(missing, ", ") + "]"}}
		}
		end := lines.FromRunes(kn.Line-1, kn.Column-1)
		l := lines.Line(end.Line)
		colon := strings.Index(l[end.Col:], ":")
		if colon < 0 {
			return nil
		}
		at := text.Pos{Line: end.Line, Col: end.Col + colon + 1}
		return []text.Edit{{Range: text.Range{Start: at, End: at}, NewText: " [" + strings.Join(missing, ", ") + "]"}}
	}
	return nil
}

// valueRange is the range of a node's token on its line.
func valueRange(lines *text.Lines, n *yaml.Node) text.Range { return yamlnode.Range(lines, n) }

func lastLineOf(n *yaml.Node) int {
	l := n.Line - 1
	for _, c := range n.Content {
		if x := lastLineOf(c); x > l {
			l = x
		}
	}
	return l
}

// insertAfter inserts whole lines after line n.
func insertAfter(lines *text.Lines, n int, out []string, eol string) text.Edit {
	if n+1 < lines.Count() && lines.Terminator(n) != "" {
		at := text.Pos{Line: n + 1}
		return text.Edit{Range: text.Range{Start: at, End: at}, NewText: strings.Join(out, eol) + eol}
	}
	at := text.Pos{Line: n, Col: len(lines.Line(n))}
	return text.Edit{Range: text.Range{Start: at, End: at}, NewText: eol + strings.Join(out, eol)}
}
