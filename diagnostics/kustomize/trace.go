package kustomize

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// Traced is a finding of a built object with the source line it is reported on.
type Traced struct {
	Underlying diagnostics.Finding // on the virtual built file
	Root       string              // the build root's kustomization file
	File       string              // the source file reported on
	Range      text.Range
	Where      string // Deployment "api"
	Origin     string // the base resource the object is built from ("" when unknown)
	// Missing is true when the field is not set anywhere: the finding lands on the base
	// container (or pod spec) line.
	Missing bool
	// Set is where a file the engine does not walk (a JSON 6902 patch file) sets the field;
	// the finding is then on the kustomization line that names that file.
	Set *diagnostics.Related
	fix *fixData
}

// source is one place that writes a built object: its base resource document, or a patch.
type source struct {
	file  string
	lines *text.Lines
	doc   *yaml.Node
	kust  *Kustomization // the kustomization that applies it (nil for the base)
	patch *Patch
	op    bool       // a JSON 6902 operation list
	node  *yaml.Node // for an images: entry, its newName (newTag, digest) value
}

// trace maps a finding of the built objects to the line that set the field, or for a field
// nobody sets, to the base container or pod spec line.
func (b *Build) trace(fd diagnostics.Finding) Traced {
	t := Traced{Underlying: fd, Root: b.Root.File.Path}
	s := b.snap
	line := fd.Range.Start.Line
	obj := b.objectAt(line)
	if obj == nil {
		t.File, t.Range, t.Missing = b.Root.File.Path, b.Root.File.Lines().LineRange(firstLine(b.Root)), true
		return t
	}
	t.Where = obj.Kind + " " + strconv.Quote(obj.Name)
	keys, ptr := pathAt(obj.Node, line)
	t.Origin = b.OriginOf(obj)
	srcs := b.sources(obj, t.Origin)
	rule := s.Engine().RuleByID(fd.RuleID)
	field := ""
	if rule != nil {
		field = rule.Field
	}
	if at := lookup(obj.Node, keys); isSet(keys, at) {
		if keys[len(keys)-1] == "image" {
			// An images: edit runs after every patch.
			if ev := b.imageEdit(obj, yamlnode.Str(at)); ev != nil {
				t.File, t.Range = ev.file, yamlnode.Range(ev.lines, ev.node)
				return t
			}
		}
		for i := len(srcs) - 1; i >= 0; i-- {
			if src, n, rest := srcs[i].find(keys, ptr); n != nil {
				t.File, t.Range = src.file, keyLine(src.lines, n)
				t.fix = &fixData{rule: fd.RuleID, set: &target{file: src.file, text: src.lines.Source(), doc: src.doc, node: n, rest: rest, keys: keys}}
				if f, err := s.File(src.file); err == nil && f.Kind == diagnostics.KindUnknown && src.patch != nil && src.patch.PathNode != nil {
					t.Set = &diagnostics.Related{File: src.file, Range: t.Range, Message: "set here"}
					t.File, t.Range = src.kust.File.Path, keyLine(src.kust.File.Lines(), src.patch.PathNode)
				}
				return t
			}
		}
	}
	t.Missing = true
	var base *source
	if len(srcs) > 0 && srcs[0].kust == nil {
		base = srcs[0]
	}
	pod := kube.IsPodField(field) && !containerSC(keys) // a missing pod-level field is written there
	ctrKeys := containerKeys(keys)
	podKeys := podSpecKeys(keys, obj)
	fx := &fixData{rule: fd.RuleID, pod: pod}
	// The base's container, else the patch that adds it, else the pod spec.
	if base != nil {
		if pk := podKeys; pk != nil {
			fx.base = b.parentTarget(base, pk, ctrKeys, pod)
		}
	}
	for i := len(srcs) - 1; i >= 1 && podKeys != nil; i-- {
		if src := srcs[i]; !src.op && src.kust == b.Root {
			if tg := b.parentTarget(src, podKeys, ctrKeys, pod); tg != nil {
				fx.patch = tg
				break
			}
		}
	}
	t.fix = fx
	for _, src := range append([]*source{base}, srcs...) {
		if src == nil || src.op {
			continue
		}
		if ctrKeys != nil {
			if n := lookup(src.doc, ctrKeys); n != nil {
				_, name := yamlnode.Get(n, "name")
				t.File, t.Range = src.file, lineOf(src.lines, name, n)
				return t
			}
		}
		if podKeys != nil {
			if k, n := lookupKey(src.doc, podKeys); n != nil {
				t.File, t.Range = src.file, lineOf(src.lines, k, n)
				return t
			}
		}
	}
	if base != nil {
		_, kind := yamlnode.Get(base.doc, "kind")
		t.File, t.Range = base.file, lineOf(base.lines, kind, base.doc)
		return t
	}
	t.File, t.Range = b.Root.File.Path, b.Root.File.Lines().LineRange(firstLine(b.Root))
	return t
}

// isSet reports whether the finding's keys end at a field that has a value (not at a
// container's name, a securityContext mapping or a list).
func isSet(keys []string, at *yaml.Node) bool {
	if len(keys) == 0 || at == nil {
		return false
	}
	last := keys[len(keys)-1]
	return at.Kind == yaml.ScalarNode && last != "name" || last == "drop" || last == "add"
}

// containerSC reports whether keys go through a container's own securityContext.
func containerSC(keys []string) bool {
	ck := containerKeys(keys)
	return ck != nil && len(keys) > len(ck) && keys[len(ck)] == "securityContext"
}

// containerKeys is keys up to the container item ("…containers.[api]"); nil when none.
func containerKeys(keys []string) []string {
	for i := 0; i+1 < len(keys); i++ {
		if isContainerList(keys[i]) && strings.HasPrefix(keys[i+1], "[") {
			return keys[:i+2]
		}
	}
	return nil
}

// podSpecKeys is the path of the pod spec in obj ("spec.template.spec"); nil when none.
func podSpecKeys(keys []string, obj *kube.Object) []string {
	for i := range keys {
		if isContainerList(keys[i]) || keys[i] == "securityContext" || keys[i] == "volumes" {
			return slices.Clone(keys[:i])
		}
	}
	switch obj.Kind {
	case "Pod":
		return []string{"spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	if _, v := yamlnode.GetPath(obj.Node, "spec", "template", "spec"); v != nil {
		return []string{"spec", "template", "spec"}
	}
	return nil
}

// lookup follows keys ("[name]" or "[i]" for list items) from n.
func lookup(n *yaml.Node, keys []string) *yaml.Node {
	_, v := lookupKey(n, keys)
	return v
}

// lookupKey is lookup returning the last key node too (the item for a list item).
func lookupKey(n *yaml.Node, keys []string) (k, v *yaml.Node) {
	v = n
	for _, key := range keys {
		if v == nil {
			return nil, nil
		}
		if name, ok := strings.CutPrefix(key, "["); ok {
			name = strings.TrimSuffix(name, "]")
			var found *yaml.Node
			for i, it := range yamlnode.Items(v) {
				if itemKey(it, i) == key {
					found = it
				}
			}
			if found == nil {
				if i, err := strconv.Atoi(name); err == nil && i < len(yamlnode.Items(v)) {
					found = yamlnode.Items(v)[i]
				}
			}
			k, v = found, found
			continue
		}
		k, v = yamlnode.Get(v, key)
	}
	return k, v
}

// find returns the node src writes at keys (ptr: the same path as JSON pointer tokens), and
// for a JSON 6902 operation whose value holds the field, the keys left inside that value.
func (src *source) find(keys, ptr []string) (*source, *yaml.Node, []string) {
	if !src.op {
		if n := lookup(src.doc, keys); n != nil {
			return src, n, nil
		}
		return src, nil, nil
	}
	var found *yaml.Node
	var rest []string
	for _, op := range yamlnode.Items(src.doc) {
		_, o := yamlnode.Get(op, "op")
		_, p := yamlnode.Get(op, "path")
		_, val := yamlnode.Get(op, "value")
		switch yamlnode.Str(o) {
		case "add", "replace":
		default:
			continue
		}
		toks := strings.Split(strings.TrimPrefix(yamlnode.Str(p), "/"), "/")
		for i := range toks {
			toks[i] = strings.ReplaceAll(strings.ReplaceAll(toks[i], "~1", "/"), "~0", "~")
		}
		if len(toks) > len(ptr) || !slices.Equal(toks, ptr[:len(toks)]) || val == nil {
			continue
		}
		r := keys[len(toks):]
		if n := lookup(val, r); n != nil {
			found, rest = n, r
			if len(r) == 0 {
				found = val
			}
		}
	}
	return src, found, rest
}

// keyLine is the range of the line that writes n: its key and value.
func keyLine(lines *text.Lines, n *yaml.Node) text.Range {
	return trimmedLine(lines, n.Line-1)
}

// lineOf is the trimmed line of k (or else n).
func lineOf(lines *text.Lines, k, n *yaml.Node) text.Range {
	if k != nil {
		return trimmedLine(lines, k.Line-1)
	}
	return trimmedLine(lines, n.Line-1)
}

func trimmedLine(lines *text.Lines, n int) text.Range {
	l := lines.Line(n)
	start := len(l) - len(strings.TrimLeft(l, " \t-"))
	if strings.HasPrefix(strings.TrimLeft(l, " \t"), "- ") {
		start = len(l) - len(strings.TrimLeft(l, " \t"))
	}
	end := len(strings.TrimRight(yamlnode.StripComment(l), " \t\r"))
	if end < start {
		end = start
	}
	return text.Range{Start: text.Pos{Line: n, Col: start}, End: text.Pos{Line: n, Col: end}}
}

// sources are the places that write obj, in the order kustomize applies them: the base
// resource document, then per kustomization from the base's up to the root, its components'
// patches and its own.
func (b *Build) sources(obj *kube.Object, origin string) []*source {
	s := b.snap
	var out []*source
	baseName := obj.Name
	var baseLabels *yaml.Node
	if origin != "" {
		if f, err := s.File(origin); err == nil {
			m := kube.ForFile(f)
			var cand *yaml.Node
			for _, o := range m.Objects {
				if o.Parent != nil || o.Kind != obj.Kind {
					continue
				}
				if cand == nil || o.Name != "" && strings.Contains(obj.Name, o.Name) {
					cand, baseName = o.Node, o.Name
				}
			}
			if cand != nil {
				out = append(out, &source{file: origin, lines: f.Lines(), doc: cand})
				_, baseLabels = yamlnode.GetPath(cand, "metadata", "labels")
			}
		}
	}
	chain := b.x.chains[b.Root.File.Path][origin]
	if chain == nil {
		chain = []string{b.Root.File.Path}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		k := b.x.Kusts[chain[i]]
		levels := []*Kustomization{}
		for _, c := range k.Components {
			if kf := b.x.res[k.File.Path].refs[c]; kf != "" && b.x.Kusts[kf] != nil {
				levels = append(levels, b.x.Kusts[kf])
			}
		}
		levels = append(levels, k)
		for _, lk := range levels {
			for _, p := range lk.Patches {
				op := p.IsJSON6902(s, lk)
				lines := lk.File.Lines()
				file := p.Source(lk)
				if p.File != "" {
					f, err := s.File(p.File)
					if err != nil {
						continue
					}
					lines = f.Lines()
				}
				for _, d := range p.Docs(s, lk) {
					if !op && !p.matchesDoc(d, obj, baseName) || !p.matchesTarget(obj, baseName, baseLabels) {
						continue
					}
					out = append(out, &source{file: file, lines: lines, doc: d, kust: lk, patch: p, op: op})
				}
			}
		}
	}
	return out
}

// matchesDoc reports whether a strategic-merge patch document patches obj: with a target,
// what it selects; else the same kind, and the base's name or the built one.
func (p *Patch) matchesDoc(d *yaml.Node, obj *kube.Object, baseName string) bool {
	_, kind := yamlnode.Get(d, "kind")
	_, name := yamlnode.GetPath(d, "metadata", "name")
	if p.Target != nil {
		return true // the target selects, whatever the patch names
	}
	return yamlnode.Str(kind) == obj.Kind && (yamlnode.Str(name) == baseName || yamlnode.Str(name) == obj.Name)
}

// matchesTarget reports whether the patch's target selects obj (no target selects all that
// matchesDoc accepts).
func (p *Patch) matchesTarget(obj *kube.Object, baseName string, labels *yaml.Node) bool {
	t := p.Target
	if t == nil {
		return true
	}
	if t.Kind != "" && t.Kind != obj.Kind || t.Namespace != "" && t.Namespace != obj.Namespace {
		return false
	}
	if t.Name != "" {
		re, err := regexp.Compile("^(?:" + t.Name + ")$")
		if err != nil || !re.MatchString(baseName) && !re.MatchString(obj.Name) {
			return false
		}
	}
	if t.Group != "" || t.Version != "" {
		g, v, ok := strings.Cut(obj.APIVersion, "/")
		if !ok {
			g, v = "", obj.APIVersion
		}
		if t.Group != "" && t.Group != g || t.Version != "" && t.Version != v {
			return false
		}
	}
	if t.LabelSelector != "" {
		for _, sel := range strings.Split(t.LabelSelector, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(sel), "=")
			_, got := yamlnode.Get(labels, strings.TrimSpace(k))
			if !ok || yamlnode.Str(got) != strings.TrimSpace(strings.TrimPrefix(v, "=")) {
				return false
			}
		}
	}
	return true
}

// imageEdit is the `images:` entry of the root's chain that rewrites the image obj runs.
func (b *Build) imageEdit(obj *kube.Object, built string) *source {
	for _, p := range slices.Backward(b.x.Reads[b.Root.File.Path]) {
		k := b.x.Kusts[p]
		if k == nil {
			continue
		}
		for _, img := range k.Images {
			_, name := yamlnode.Get(img, "name")
			_, nn := yamlnode.Get(img, "newName")
			_, tag := yamlnode.Get(img, "newTag")
			_, dg := yamlnode.Get(img, "digest")
			n := nn
			if n == nil {
				n = tag
			}
			if n == nil {
				n = dg
			}
			want := yamlnode.Str(nn)
			if want == "" {
				want = yamlnode.Str(name)
			}
			if n != nil && want != "" && (built == want || strings.HasPrefix(built, want+":") || strings.HasPrefix(built, want+"@")) {
				return &source{file: k.File.Path, lines: k.File.Lines(), doc: img, node: n}
			}
		}
	}
	return nil
}

// parentTarget is where a missing field goes in src: the container's mapping (ctrKeys) or
// the pod spec (podKeys); nil when src does not hold it.
func (b *Build) parentTarget(src *source, podKeys, ctrKeys []string, pod bool) *target {
	keys := ctrKeys
	if pod || keys == nil {
		keys = podKeys
	}
	n := lookup(src.doc, keys)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	return &target{file: src.file, text: src.lines.Source(), doc: src.doc, node: n}
}

// message is the carried finding's message: which builds, what, from which base.
func message(s *diagnostics.Snapshot, builds []string, t Traced) string {
	msg := fmt.Sprintf("in %s: %s", strings.Join(builds, ", "), t.Underlying.Message)
	if t.Origin != "" {
		msg += " (" + relPath(s, t.Origin) + ")"
	}
	return msg
}
