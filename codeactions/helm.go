package codeactions

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Helm quick-fixes edit values.yaml: NR401 fills a security context with the restricted
// block (replacing the commented-out `helm create` scaffold lines of the keys it writes and
// keeping the other comments), NR404 applies the underlying workload rule's fix to the values
// key that controls the rendered field.

func init() {
	Register("NR401", planNR401)
	Register("NR404", planNR404)
}

// hvEntry is one setting to ensure in a values mapping.
type hvEntry struct {
	Key      string
	Scalar   string    // a scalar value
	Children []hvEntry // a nested mapping
	Items    []string  // a sequence of scalars that must contain these items
	// ReplaceOnly, when set, replaces an existing scalar only when it equals this value
	// (runAsUser: 0 is replaced, runAsUser: 1001 is kept).
	ReplaceOnly string
	NoInsert    bool // do not add the key when it is absent
}

func restrictedBlock(pod, podSibling bool, uid int) []hvEntry {
	seccomp := hvEntry{Key: "seccompProfile", Children: []hvEntry{{Key: "type", Scalar: "RuntimeDefault"}}}
	runAsUser := hvEntry{Key: "runAsUser", Scalar: strconv.Itoa(uid), ReplaceOnly: "0"}
	if pod {
		return []hvEntry{{Key: "runAsNonRoot", Scalar: "true"}, runAsUser, seccomp}
	}
	block := []hvEntry{
		{Key: "allowPrivilegeEscalation", Scalar: "false"},
		{Key: "capabilities", Children: []hvEntry{{Key: "drop", Items: []string{"ALL"}}}},
		{Key: "runAsNonRoot", Scalar: "true"},
	}
	if !podSibling {
		block = append(block, runAsUser, seccomp)
	}
	return block
}

func planNR401(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*helm.NR401Data)
	if !ok {
		return nil
	}
	c := helm.For(s, f.File)
	if c == nil {
		return nil
	}
	v := c.ValuesFor(f.File)
	k := v.Lookup(strings.Join(d.Path, "."))
	if k == nil {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	uid, _ := cfg.User()
	// An empty context gets the whole restricted block; one with settings of its own only
	// what the rule asks for, so the chart's other choices (its uid, its seccomp) stay.
	block := []hvEntry{{Key: "runAsNonRoot", Scalar: "true"}}
	title := fmt.Sprintf("Set runAsNonRoot: true in %s", k.Dotted())
	if isEmptyMapping(k.Value) {
		block = restrictedBlock(d.Pod, hasPodSibling(v, k), uid)
		title = fmt.Sprintf("Fill in the restricted %s", k.Dotted())
	}
	edits := hvEnsure(v, k, block)
	if len(edits) == 0 {
		return nil
	}
	return []Action{{Title: title, Preferred: true, Edits: []FileEdit{{Path: f.File, Edits: edits}}}}
}

func planNR404(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*helm.NR404Data)
	if !ok || d.SCPath == nil {
		return nil
	}
	if d.Rule == "NR503" {
		return planNR404RemoveField(s, f, d)
	}
	c := helm.For(s, f.File)
	if c == nil {
		return nil
	}
	v := c.ValuesFor(f.File)
	k := v.Lookup(strings.Join(d.SCPath, "."))
	if k == nil {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	uid, gid := cfg.User()
	entries := ruleEntries(d.Rule, uid, gid)
	if len(entries) == 0 {
		return nil
	}
	if d.Pod {
		for _, e := range entries {
			if !helm.IsPodField(e.Key) {
				return nil // a container-only field cannot go into the pod's context
			}
		}
	}
	var edits []text.Edit
	if isEmptyMapping(k.Value) {
		block := restrictedBlock(d.Pod, hasPodSibling(v, k), uid)
		for _, e := range entries {
			if !hasEntry(block, e.Key) {
				block = append(block, e)
			}
		}
		edits = hvEnsure(v, k, block)
	} else {
		edits = hvEnsure(v, k, entries)
	}
	if len(edits) == 0 {
		return nil
	}
	title := fmt.Sprintf("Set %s in %s (the fix of %s)", entries[0].Key, k.Dotted(), d.Rule)
	return []Action{{Title: title, Preferred: true, Edits: []FileEdit{{Path: f.File, Edits: edits}}}}
}

// ruleEntries is each workload rule's fix, as settings of a security context.
func ruleEntries(rule string, uid, gid int) []hvEntry {
	u := strconv.Itoa(uid)
	switch rule {
	case "NR201":
		return []hvEntry{{Key: "runAsNonRoot", Scalar: "true"}}
	case "NR202":
		return []hvEntry{{Key: "runAsNonRoot", Scalar: "true"}, {Key: "runAsUser", Scalar: u, ReplaceOnly: "0", NoInsert: true}}
	case "NR203":
		return []hvEntry{{Key: "allowPrivilegeEscalation", Scalar: "false"}}
	case "NR204":
		return []hvEntry{{Key: "capabilities", Children: []hvEntry{{Key: "drop", Items: []string{"ALL"}}}}}
	case "NR205":
		return []hvEntry{{Key: "privileged", Scalar: "false"}}
	case "NR206":
		return []hvEntry{{Key: "seccompProfile", Children: []hvEntry{{Key: "type", Scalar: "RuntimeDefault"}}}}
	case "NR207":
		return []hvEntry{{Key: "fsGroup", Scalar: strconv.Itoa(gid), ReplaceOnly: "\x00"}}
	case "NR210", "NR306":
		return []hvEntry{{Key: "capabilities", Children: []hvEntry{{Key: "add", Items: []string{"NET_BIND_SERVICE"}}}}}
	case "NR301", "NR302":
		return []hvEntry{{Key: "runAsUser", Scalar: u, ReplaceOnly: "0"}}
	}
	return nil
}

func hasEntry(es []hvEntry, key string) bool {
	for _, e := range es {
		if e.Key == key {
			return true
		}
	}
	return false
}

// hasPodSibling reports whether k's mapping also holds a pod-level security context.
func hasPodSibling(v *helm.Values, k *helm.Key) bool {
	parent := v.Root
	if len(k.Path) > 1 {
		p := v.Lookup(strings.Join(k.Path[:len(k.Path)-1], "."))
		if p == nil {
			return false
		}
		parent = p.Value
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		n := strings.ToLower(parent.Content[i].Value)
		if parent.Content[i] != k.Key && strings.HasPrefix(n, "pod") && strings.HasSuffix(n, "securitycontext") {
			return true
		}
	}
	return false
}

func isEmptyMapping(n *yaml.Node) bool {
	return (n.Kind == yaml.MappingNode && len(n.Content) == 0) || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// hvStyle is the values file's layout: indentation unit, whether sequences sit at their
// key's indentation ("drop:\n- ALL"), and its line ending.
type hvStyle struct {
	unit    int
	compact bool
	eol     string
}

func styleOf(lines *text.Lines) hvStyle {
	st := hvStyle{unit: 0, eol: lines.EOL()}
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
func (st hvStyle) render(es []hvEntry, indent int) []string {
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

// hvEnsure plans the edits that make the mapping under key k hold the entries.
func hvEnsure(v *helm.Values, k *helm.Key, es []hvEntry) []text.Edit {
	lines := v.File.Lines()
	st := styleOf(lines)
	if isEmptyMapping(k.Value) {
		return hvFill(v, k, es, st)
	}
	if k.Value.Kind != yaml.MappingNode || k.Value.Style&yaml.FlowStyle != 0 {
		return nil
	}
	return hvMerge(lines, k.Value, es, st)
}

// hvFill turns `key: {}` (and the commented scaffold under it) into a block mapping.
func hvFill(v *helm.Values, k *helm.Key, es []hvEntry, st hvStyle) []text.Edit {
	lines := v.File.Lines()
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

// hvMerge adds or corrects entries in a block mapping.
func hvMerge(lines *text.Lines, m *yaml.Node, es []hvEntry, st hvStyle) []text.Edit {
	if len(m.Content) == 0 {
		return nil
	}
	indent := lines.FromRunes(m.Content[0].Line-1, m.Content[0].Column-1).Col
	var edits []text.Edit
	var inserts []hvEntry
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
				edits = append(edits, hvMerge(lines, vn, e.Children, st)...)
			} else if isEmptyMapping(vn) || vn.Kind == yaml.MappingNode && vn.Style&yaml.FlowStyle != 0 && onlyScalars(vn) {
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
func flowMerge(m *yaml.Node, es []hvEntry) string {
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
func ensureItems(lines *text.Lines, kn, vn *yaml.Node, items []string, st hvStyle) []text.Edit {
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
func valueRange(lines *text.Lines, n *yaml.Node) text.Range {
	start := lines.FromRunes(n.Line-1, n.Column-1)
	l := lines.Line(start.Line)[start.Col:]
	end := len(l)
	switch {
	case strings.HasPrefix(l, "{") || strings.HasPrefix(l, "["):
		depth := 0
		for i := 0; i < len(l); i++ {
			switch l[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					end = i + 1
					i = len(l)
				}
			}
		}
	case strings.HasPrefix(l, `"`) || strings.HasPrefix(l, "'"):
		if j := strings.IndexByte(l[1:], l[0]); j >= 0 {
			end = j + 2
		}
	default:
		if j := strings.Index(l, " #"); j >= 0 {
			end = j
		}
		end = len(strings.TrimRight(l[:end], " \t"))
	}
	return text.Range{Start: start, End: text.Pos{Line: start.Line, Col: start.Col + end}}
}

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

// planNR404RemoveField is NR503's fix through a chart: remove the hard-coded id from the
// values security context (OpenShift assigns it from the namespace's range), keeping the
// rest of the context.
func planNR404RemoveField(s *diagnostics.Snapshot, f diagnostics.Finding, d *helm.NR404Data) []Action {
	if len(d.Path) != len(d.SCPath)+1 {
		return nil
	}
	c := helm.For(s, f.File)
	if c == nil {
		return nil
	}
	v := c.ValuesFor(f.File)
	if v == nil {
		return nil
	}
	sc := v.Lookup(strings.Join(d.SCPath, "."))
	if sc == nil || sc.Value == nil || sc.Value.Kind != yaml.MappingNode {
		return nil
	}
	field := d.Path[len(d.Path)-1]
	e := &YAMLEditor{Lines: v.File.Lines(), Style: DetectYAMLStyle(v.File.Text, nil)}
	ed, err := e.Remove(sc.Value, field)
	if err != nil {
		return nil
	}
	title := fmt.Sprintf("Remove %s from %s (OpenShift assigns it from the namespace's range)", field, sc.Dotted())
	return []Action{{Title: title, Preferred: true, Edits: []FileEdit{{Path: f.File, Edits: []text.Edit{ed}}}}}
}
