package kustomize

import (
	"context"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// fixData is the payload of a carried finding: where its fix writes. It plans the fix
// itself ([diagnostics.FixPlanner]) with the underlying rule's Settings.
type fixData struct {
	rule string
	// set is the node that sets a wrong value (a base, patch or JSON 6902 operation line).
	set *target
	// For a missing field: the root's own patch for the workload, else the base.
	patch, base *target
	pod         bool // the field goes into the pod's securityContext
	builds      int  // how many builds the finding stands for
}

// target is a place in a source file: the node, and the text it was parsed from.
type target struct {
	file, text string
	doc        *yaml.Node
	node       *yaml.Node // the set value, or the mapping a missing field goes into
	rest       []string   // keys inside a JSON 6902 operation's value (nil when node is it)
	keys       []string   // the built object's keys of the set value
}

// PlanFix implements diagnostics.FixPlanner.
func (d *fixData) PlanFix(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	r := s.Engine().RuleByID(d.rule)
	if r == nil || r.Settings == nil {
		return nil
	}
	tg := d.set
	if tg == nil {
		tg = d.base
		if d.patch != nil && d.builds == 1 {
			tg = d.patch
		}
	}
	if tg == nil {
		return nil
	}
	file, err := s.File(tg.file)
	if err != nil || file.Text != tg.text {
		return nil
	}
	cfg := s.ConfigFor(tg.file)
	uid, gid := cfg.User()
	entries := r.Settings(uid, gid)
	lines := file.Lines()
	e := &codeactions.YAMLEditor{Lines: lines, Style: codeactions.DetectYAMLStyle(file.Text, nil)}
	var edits []text.Edit
	what := settingKeys(entries)
	switch {
	case d.set != nil:
		edits, what = planSet(lines, e, tg, entries)
	default:
		k, sc := yamlnode.Get(tg.node, "securityContext")
		if sc != nil {
			edits = codeactions.EnsureSettings(lines, entryOf(lines, k, sc), entries)
		} else if v, ok := toValue(entries); ok {
			edits, err = e.Set(tg.node, []string{"securityContext"}, v)
			if err != nil {
				return nil
			}
		}
	}
	if len(edits) == 0 {
		return nil
	}
	title := fmt.Sprintf("Set %s in %s (the fix of %s)", what, relPath(s, tg.file), d.rule)
	return []diagnostics.Action{{Title: title, Preferred: true, Edits: []diagnostics.FileEdit{{Path: tg.file, Edits: edits}}}}
}

// planSet fixes a wrong value where it is set: in the securityContext mapping that holds it
// (the settings merged in), or the scalar itself when a JSON 6902 operation writes just it.
func planSet(lines *text.Lines, e *codeactions.YAMLEditor, tg *target, entries []diagnostics.Setting) ([]text.Edit, string) {
	if tg.rest != nil && len(tg.rest) == 0 || tg.rest == nil && tg.node.Kind == yaml.ScalarNode && !hasSC(tg.keys) {
		field := tg.keys[len(tg.keys)-1]
		for _, en := range entries {
			if en.Key == field && en.Scalar != "" && (en.ReplaceOnly == "" || en.ReplaceOnly == tg.node.Value) {
				return []text.Edit{e.SetScalar(tg.node, en.Scalar)}, field + ": " + en.Scalar
			}
		}
		return nil, ""
	}
	return planSetInContext(lines, tg, entries), settingKeys(entries)
}

// settingKeys names the settings a fix writes ("runAsNonRoot, runAsUser").
func settingKeys(es []diagnostics.Setting) string {
	keys := make([]string, 0, len(es))
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	return strings.Join(keys, ", ")
}

// planSetInContext merges the settings into the securityContext that holds tg's value.
func planSetInContext(lines *text.Lines, tg *target, entries []diagnostics.Setting) []text.Edit {
	// The securityContext mapping above the value, in the source document.
	keys := tg.keys
	root := tg.doc
	if tg.rest != nil {
		keys = tg.rest
		root = opValue(tg)
	}
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i] == "securityContext" {
			k, v := lookupKey(root, keys[:i+1])
			if k == nil || v == nil {
				return nil
			}
			return codeactions.EnsureSettings(lines, entryOf(lines, k, v), entries)
		}
	}
	if tg.rest != nil {
		// The operation's value is the securityContext itself.
		if v := root; v != nil && v.Kind == yaml.MappingNode {
			k := valueKey(tg)
			return codeactions.EnsureSettings(lines, entryOf(lines, k, v), entries)
		}
	}
	return nil
}

func hasSC(keys []string) bool {
	for _, k := range keys {
		if k == "securityContext" {
			return true
		}
	}
	return false
}

// opValue is the value of the JSON 6902 operation that holds tg.node.
func opValue(tg *target) *yaml.Node {
	for _, op := range yamlnode.Items(tg.doc) {
		if _, v := yamlnode.Get(op, "value"); v != nil && (v == tg.node || contains(v, tg.node)) {
			return v
		}
	}
	return nil
}

// valueKey is the `value:` key of the operation that holds tg.node.
func valueKey(tg *target) *yaml.Node {
	for _, op := range yamlnode.Items(tg.doc) {
		if k, v := yamlnode.Get(op, "value"); v != nil && (v == tg.node || contains(v, tg.node)) {
			return k
		}
	}
	return nil
}

func contains(n, x *yaml.Node) bool {
	if n == x {
		return true
	}
	for _, c := range n.Content {
		if contains(c, x) {
			return true
		}
	}
	return false
}

// entryOf is a mapping key as the settings editor needs it.
func entryOf(lines *text.Lines, k, v *yaml.Node) codeactions.MappingEntry {
	e := codeactions.MappingEntry{Value: v, KeyRange: yamlnode.Range(lines, k)}
	if v.Line == k.Line {
		e.ValueRange = yamlnode.Range(lines, v)
	}
	return e
}

// toValue turns settings into a mapping to insert (settings that only replace are left out).
func toValue(es []diagnostics.Setting) (codeactions.YAMLValue, bool) {
	var entries []codeactions.YAMLEntry
	for _, e := range es {
		if e.NoInsert {
			continue
		}
		switch {
		case e.Children != nil:
			v, ok := toValue(e.Children)
			if !ok {
				continue
			}
			entries = append(entries, codeactions.Entry(e.Key, v))
		case e.Items != nil:
			entries = append(entries, codeactions.Entry(e.Key, codeactions.Seq(e.Items...)))
		default:
			entries = append(entries, codeactions.Entry(e.Key, codeactions.Scalar(e.Scalar)))
		}
	}
	return codeactions.Map(entries...), len(entries) > 0
}
