// Package kustomize builds the workspace's kustomizations the way `kustomize build` (and
// `kubectl apply -k`) does, judges what they deploy with the manifest rules (NR2xx, NR3xx,
// NR5xx), and reports each finding on the base or patch line that set the field, under the
// underlying rule's ID, so that severities and suppressions apply as on a manifest.
//
// A kustomization is a build root unless another kustomization uses it as a resource (a
// base) or it is a Component. The files a build root reads (its bases' resources, its
// patches, its kustomizations) are not judged alone: the engine asks [Group]'s BuiltBy.
// Builds run with kustomize's Go API through a [BuildFunc] (the nonroot-ls-helm helper for
// the server and the CLI, kbuild in-process for tests): no program is run, remote bases and
// Helm charts are not fetched but reported, plugins never run, and time and output are bounded.
package kustomize

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// Kustomization is the model of one kustomization.yaml.
type Kustomization struct {
	File      *diagnostics.File
	Dir       string
	Doc       *yaml.Node // the top-level mapping (nil when the file does not parse)
	Component bool       // kind: Component
	// Resources are the `resources:` (and deprecated `bases:`) entries; Components the
	// `components:` entries.
	Resources  []*Ref
	Components []*Ref
	Patches    []*Patch
	// Images are the `images:` entries (mappings with name, newName, newTag, digest).
	Images []*yaml.Node
	// Left are the entries the build leaves out (remote bases, Helm charts), with why.
	Left     []Left
	Problems []diagnostics.Problem
}

// Ref is a `resources:` or `components:` entry.
type Ref struct {
	Value  string
	Node   *yaml.Node
	Path   string // absolute: a file, or a folder holding a kustomization
	Remote bool   // a URL or git reference (one not in the workspace that names a host is too: see resolve)
}

// Patch is a strategic-merge or JSON 6902 patch of a kustomization.
type Patch struct {
	Node     *yaml.Node // the entry in the kustomization
	File     string     // absolute path of the patch file ("" when inline)
	PathNode *yaml.Node // the path: value (nil when inline)
	Inline   *yaml.Node // the inline patch scalar
	Target   *Target    // nil: the patch names its target itself (strategic merge)
	JSON6902 bool       // the patch is a JSON 6902 operation list

	once sync.Once
	docs []*yaml.Node
}

// Target is a patch's `target:` selector.
type Target struct {
	Group, Version, Kind, Name, Namespace string
	LabelSelector, AnnotationSelector     string
}

// Left is an entry the build leaves out, and why; it is reported as information.
type Left struct {
	Node   *yaml.Node
	Reason string
}

type modelKey struct{}

// Parse returns the model of a kustomization file as written (memoised on the file): what
// its entries name is resolved against a snapshot by [Resolve].
func Parse(f *diagnostics.File) *Kustomization {
	return f.Memo(modelKey{}, func() any { return parse(f) }).(*Kustomization)
}

func parse(f *diagnostics.File) *Kustomization {
	k := &Kustomization{File: f, Dir: filepath.Dir(f.Path)}
	m := kube.ForFile(f)
	if len(content(m.Docs)) == 0 {
		k.Problems = append(k.Problems, m.Problems...)
		return k
	}
	k.Doc = content(m.Docs)[0]
	if !yamlnode.IsMapping(k.Doc) {
		k.Problems = append(k.Problems, diagnostics.Problem{Range: f.Lines().LineRange(0), Message: "invalid kustomization: not a mapping"})
		k.Doc = nil
		return k
	}
	_, kind := yamlnode.Get(k.Doc, "kind")
	k.Component = yamlnode.Str(kind) == "Component"
	for _, key := range []string{"resources", "bases", "components"} {
		_, seq := yamlnode.Get(k.Doc, key)
		for _, it := range yamlnode.Items(seq) {
			v := yamlnode.Str(it)
			if v == "" {
				continue
			}
			r := &Ref{Value: v, Node: it, Path: filepath.Join(k.Dir, filepath.FromSlash(v)), Remote: strongRemote(v)}
			if key == "components" {
				k.Components = append(k.Components, r)
			} else {
				k.Resources = append(k.Resources, r)
			}
		}
	}
	k.parsePatches()
	_, imgs := yamlnode.Get(k.Doc, "images")
	k.Images = yamlnode.Items(imgs)
	for _, key := range []string{"helmCharts", "helmChartInflationGenerator"} {
		if kn, v := yamlnode.Get(k.Doc, key); v != nil && len(v.Content) > 0 {
			k.Left = append(k.Left, Left{kn, "Helm charts are not inflated (that would run helm and may fetch the chart): the objects they render are not judged"})
		}
	}
	return k
}

// resolved is what a kustomization's entries name in one snapshot.
type resolved struct {
	refs     map[*Ref]string // entry → the kustomization file of the folder it names ("" for a file)
	remote   map[*Ref]bool   // entries that name a remote base (the model's, and those not in the workspace that name a host)
	left     []Left          // entries left out (remote bases), with the model's own
	problems []diagnostics.Problem
	dropped  map[*yaml.Node]bool // entries the build request leaves out
}

// resolve finds what k's entries name in s. An entry that is neither in the workspace nor
// remote is reported and left out: kustomize would try git or HTTP for what it cannot find.
func resolve(s *diagnostics.Snapshot, k *Kustomization) *resolved {
	r := &resolved{refs: map[*Ref]string{}, remote: map[*Ref]bool{}, left: slices.Clone(k.Left), problems: slices.Clone(k.Problems), dropped: map[*yaml.Node]bool{}}
	for _, l := range k.Left {
		r.dropped[l.Node] = true
	}
	remote := func(ref *Ref) {
		r.remote[ref] = true
		r.left = append(r.left, Left{ref.Node, fmt.Sprintf("remote base %s is not fetched: the objects it holds are not judged", ref.Value)})
		r.dropped[ref.Node] = true
	}
	for _, ref := range slices.Concat(k.Resources, k.Components) {
		switch {
		case ref.Remote:
			remote(ref)
		case s.Root(ref.Path) == "":
			r.problem(k, ref.Node, fmt.Sprintf("%s is outside the workspace folders: not read", ref.Value))
		default:
			if kf := kustomizationIn(s, ref.Path); kf != "" {
				r.refs[ref] = kf
			} else if s.Exists(ref.Path) {
				r.refs[ref] = ""
			} else if looksRemote(ref.Value) {
				remote(ref)
			} else {
				r.problem(k, ref.Node, fmt.Sprintf("%s: no such file, and no kustomization in such a folder", ref.Value))
			}
		}
	}
	for _, p := range k.Patches {
		if p.File != "" && !s.Exists(p.File) {
			r.problem(k, p.PathNode, fmt.Sprintf("patch %s: no such file in the workspace", yamlnode.Str(p.PathNode)))
		}
	}
	return r
}

func (r *resolved) problem(k *Kustomization, n *yaml.Node, msg string) {
	r.problems = append(r.problems, diagnostics.Problem{Range: yamlnode.Range(k.File.Lines(), n), Message: msg})
	r.dropped[n] = true
}

// strongRemote reports whether a resource is a URL or a git reference whatever the workspace holds.
func strongRemote(v string) bool {
	l := strings.ToLower(v)
	return strings.Contains(l, "://") || strings.HasPrefix(l, "git@") || strings.HasPrefix(l, "git::") ||
		strings.Contains(l, "?ref=") || strings.Contains(l, "?version=") || strings.Contains(l, "?timeout=") ||
		strings.Contains(l, "?submodules=") || strings.Contains(strings.TrimPrefix(l, "./"), "//")
}

// looksRemote reports whether a resource that is not in the workspace names a host
// (github.com/org/repo/path).
func looksRemote(v string) bool {
	first, rest, ok := strings.Cut(v, "/")
	return ok && rest != "" && strings.Contains(first, ".") && first != "." && first != ".."
}

// kustomizationIn returns the kustomization file of folder dir ("" when none).
func kustomizationIn(s *diagnostics.Snapshot, dir string) string {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if p := filepath.Join(dir, n); s.Exists(p) {
			return p
		}
	}
	return ""
}

func (k *Kustomization) parsePatches() {
	add := func(entry, pathNode, inline *yaml.Node, target *Target, json6902 bool) {
		p := &Patch{Node: entry, PathNode: pathNode, Inline: inline, Target: target, JSON6902: json6902}
		if pathNode != nil {
			v := yamlnode.Str(pathNode)
			if strongRemote(v) {
				k.Left = append(k.Left, Left{entry, fmt.Sprintf("remote patch %s is not fetched", v)})
				return
			}
			p.File = filepath.Join(k.Dir, filepath.FromSlash(v))
		} else if inline != nil && !json6902 {
			t := strings.TrimSpace(inline.Value)
			p.JSON6902 = strings.HasPrefix(t, "-") || strings.HasPrefix(t, "[")
		}
		k.Patches = append(k.Patches, p)
	}
	_, ps := yamlnode.Get(k.Doc, "patches")
	for _, it := range yamlnode.Items(ps) {
		_, pathN := yamlnode.Get(it, "path")
		_, inl := yamlnode.Get(it, "patch")
		add(it, pathN, inl, parseTarget(it), false)
	}
	_, smp := yamlnode.Get(k.Doc, "patchesStrategicMerge")
	for _, it := range yamlnode.Items(smp) {
		if v := yamlnode.Str(it); v != "" && !strings.Contains(v, "\n") && !strings.Contains(v, ":") {
			add(it, it, nil, nil, false)
		} else {
			add(it, nil, it, nil, false)
		}
	}
	_, j := yamlnode.Get(k.Doc, "patchesJson6902")
	for _, it := range yamlnode.Items(j) {
		_, pathN := yamlnode.Get(it, "path")
		_, inl := yamlnode.Get(it, "patch")
		add(it, pathN, inl, parseTarget(it), true)
	}
}

func parseTarget(entry *yaml.Node) *Target {
	_, t := yamlnode.Get(entry, "target")
	if t == nil {
		return nil
	}
	get := func(key string) string { _, v := yamlnode.Get(t, key); return yamlnode.Str(v) }
	return &Target{Group: get("group"), Version: get("version"), Kind: get("kind"), Name: get("name"), Namespace: get("namespace"),
		LabelSelector: get("labelSelector"), AnnotationSelector: get("annotationSelector")}
}

// isOpList reports whether docs are a JSON 6902 patch: one sequence of mappings with op.
func isOpList(docs []*yaml.Node) bool {
	if len(docs) != 1 || !yamlnode.IsSeq(docs[0]) {
		return false
	}
	for _, it := range yamlnode.Items(docs[0]) {
		if _, op := yamlnode.Get(it, "op"); op == nil {
			return false
		}
	}
	return true
}

// inlineDocs parses an inline patch; its nodes' lines are those of the kustomization (for a
// literal or folded block scalar; otherwise all on the patch key's line).
func inlineDocs(lines *text.Lines, n *yaml.Node) []*yaml.Node {
	docs := content(kube.Parse("", n.Value, nil).Docs)
	block := n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	indent := 0
	if block && n.Line < lines.Count() {
		l := lines.Line(n.Line) // the first content line (0-based index of the line after `|`)
		indent = len(l) - len(strings.TrimLeft(l, " "))
	}
	var shift func(*yaml.Node)
	shift = func(x *yaml.Node) {
		if block {
			x.Line += n.Line
			x.Column += indent
		} else {
			x.Line, x.Column = n.Line, n.Column
		}
		for _, c := range x.Content {
			shift(c)
		}
	}
	for _, d := range docs {
		shift(d)
	}
	return docs
}

// Docs returns the patch's documents (a strategic-merge patch may hold several), with the
// lines of the file they are written in.
func (p *Patch) Docs(s *diagnostics.Snapshot, k *Kustomization) []*yaml.Node {
	if p.File != "" {
		f, err := s.File(p.File)
		if err != nil {
			return nil
		}
		return content(kube.ForFile(f).Docs)
	}
	p.once.Do(func() {
		if p.Inline != nil {
			p.docs = inlineDocs(k.File.Lines(), p.Inline)
		}
	})
	return p.docs
}

// IsJSON6902 reports whether the patch is a JSON 6902 operation list in s.
func (p *Patch) IsJSON6902(s *diagnostics.Snapshot, k *Kustomization) bool {
	return p.JSON6902 || p.File != "" && isOpList(p.Docs(s, k))
}

// Source is the file the patch is written in.
func (p *Patch) Source(k *Kustomization) string {
	if p.File != "" {
		return p.File
	}
	return k.File.Path
}

// content is the top-level nodes of parsed documents (empty documents left out).
func content(docs []*yaml.Node) []*yaml.Node {
	out := make([]*yaml.Node, 0, len(docs))
	for _, d := range docs {
		if d.Kind == yaml.DocumentNode {
			if len(d.Content) > 0 {
				out = append(out, d.Content[0])
			}
			continue
		}
		out = append(out, d)
	}
	return out
}
