package kustomize

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// Bounds of the kustomization graph a build root may read.
const (
	maxDepth = 32   // nested bases and components
	maxFiles = 2000 // files one build reads
)

// Index is the workspace's kustomizations in one snapshot: which are build roots, and which
// files each root's build reads.
type Index struct {
	Kusts map[string]*Kustomization // by kustomization file
	res   map[string]*resolved
	// Roots are the build roots' kustomization files, sorted.
	Roots []string
	// Reads are, per root, the files its build reads (kustomizations, resources, patches), sorted.
	Reads map[string][]string
	// owners are, per file, the roots whose build reads it.
	owners map[string][]string
	// chains are, per root and resource file, the kustomizations from the root down to the
	// one that lists the file.
	chains map[string]map[string][]string
	// unbuilt says, per root, why it is not built (a cycle, too deep), reported on it.
	unbuilt map[string]diagnostics.Problem
	// cycles are the problems of kustomizations that reach themselves.
	cycles map[string][]diagnostics.Problem
	// missing are paths whose appearance would change the index.
	missing map[string]bool
}

type indexKey struct{}

// For returns the index of snapshot s. It is brought up to date from the previous snapshot's
// when no kustomization changed and no file the index resolved appeared or disappeared.
func For(s *diagnostics.Snapshot) *Index {
	return s.MemoDerived(indexKey{}, func(prev any, changed []string, all bool) any {
		if !all {
			if p := prev.(*Index); p.holds(s, changed) {
				return p
			}
		}
		return build(s)
	}).(*Index)
}

// holds reports whether the index is still that of s after changed.
func (x *Index) holds(s *diagnostics.Snapshot, changed []string) bool {
	for _, p := range changed {
		if x.Kusts[p] != nil || x.missing[p] || isKustName(p) || filepath.Base(p) == diagnostics.ConfigFileName {
			return false
		}
		if x.owners[p] != nil && !s.Exists(p) {
			return false
		}
	}
	return true
}

func isKustName(p string) bool {
	switch filepath.Base(p) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

func build(s *diagnostics.Snapshot) *Index {
	x := &Index{Kusts: map[string]*Kustomization{}, res: map[string]*resolved{}, Reads: map[string][]string{},
		owners: map[string][]string{}, chains: map[string]map[string][]string{}, unbuilt: map[string]diagnostics.Problem{},
		cycles: map[string][]diagnostics.Problem{}, missing: map[string]bool{}}
	for _, p := range s.Walk() {
		if isKustName(p) {
			x.load(s, p)
		}
	}
	used := map[string]bool{}
	var kusts []string
	for p := range x.Kusts {
		kusts = append(kusts, p)
	}
	sort.Strings(kusts)
	for _, p := range kusts {
		for _, c := range x.children(s, p) {
			used[c.kust] = true
		}
	}
	for _, p := range kusts {
		x.findCycle(s, p)
		if k := x.Kusts[p]; (!used[p] || listedRoot(s, p)) && !k.Component && k.Doc != nil {
			x.Roots = append(x.Roots, p)
		}
	}
	for _, root := range x.Roots {
		x.walkRoot(s, root)
	}
	return x
}

// listedRoot reports whether the configuration names the folder of kustomization p in
// kustomize.roots.
func listedRoot(s *diagnostics.Snapshot, p string) bool {
	c := s.ConfigFor(p)
	if c.Kustomize == nil {
		return false
	}
	dir := filepath.ToSlash(filepath.Dir(relPath(s, p)))
	for _, r := range c.Kustomize.Roots {
		if strings.TrimSuffix(path.Clean(filepath.ToSlash(r)), "/") == dir {
			return true
		}
	}
	return false
}

// load parses and resolves a kustomization (once).
func (x *Index) load(s *diagnostics.Snapshot, p string) *Kustomization {
	if k := x.Kusts[p]; k != nil {
		return k
	}
	f, err := s.File(p)
	if err != nil {
		x.missing[p] = true
		return nil
	}
	k := Parse(f)
	x.Kusts[p] = k
	r := resolve(s, k)
	x.res[p] = r
	for _, ref := range slices.Concat(k.Resources, k.Components) {
		if _, ok := r.refs[ref]; !ok && !r.remote[ref] {
			x.missing[ref.Path] = true
			for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
				x.missing[filepath.Join(ref.Path, n)] = true
			}
		}
	}
	return k
}

type child struct {
	kust      string
	ref       *Ref
	component bool
}

// children are the kustomizations p uses (bases and components), in order.
func (x *Index) children(s *diagnostics.Snapshot, p string) []child {
	k, r := x.load(s, p), x.res[p]
	if k == nil {
		return nil
	}
	var out []child
	for _, ref := range k.Resources {
		if kf := r.refs[ref]; kf != "" && x.load(s, kf) != nil {
			out = append(out, child{kf, ref, false})
		}
	}
	for _, ref := range k.Components {
		if kf := r.refs[ref]; kf != "" && x.load(s, kf) != nil {
			out = append(out, child{kf, ref, true})
		}
	}
	return out
}

// findCycle reports, on p, the entry that leads back to p through its bases.
func (x *Index) findCycle(s *diagnostics.Snapshot, p string) {
	seen := map[string]bool{}
	var reaches func(q string, depth int) bool
	reaches = func(q string, depth int) bool {
		if depth > maxDepth || seen[q] {
			return false
		}
		seen[q] = true
		for _, c := range x.children(s, q) {
			if c.kust == p || reaches(c.kust, depth+1) {
				return true
			}
		}
		return false
	}
	k := x.Kusts[p]
	for _, c := range x.children(s, p) {
		clear(seen)
		if c.kust == p || reaches(c.kust, 0) {
			x.cycles[p] = append(x.cycles[p], diagnostics.Problem{
				Range:   yamlnode.Range(k.File.Lines(), c.ref.Node),
				Message: fmt.Sprintf("kustomization cycle: %s leads back to this kustomization; kustomize cannot build it", c.ref.Value),
			})
		}
	}
}

// walkRoot collects what root's build reads, and the kustomization chain of each resource.
func (x *Index) walkRoot(s *diagnostics.Snapshot, root string) {
	reads := map[string]bool{}
	chains := map[string][]string{}
	var stop string
	var visit func(p string, chain []string)
	visit = func(p string, chain []string) {
		if stop != "" {
			return
		}
		if slices.Contains(chain, p) {
			stop = "its bases form a cycle through " + x.rel(s, p)
			return
		}
		if len(chain) > maxDepth || len(reads) > maxFiles {
			stop = fmt.Sprintf("its bases nest deeper than %d levels or read more than %d files", maxDepth, maxFiles)
			return
		}
		chain = append(slices.Clone(chain), p)
		k, r := x.Kusts[p], x.res[p]
		reads[p] = true
		for _, ref := range slices.Concat(k.Resources, k.Components) {
			kf, ok := r.refs[ref]
			switch {
			case !ok:
			case kf != "":
				visit(kf, chain)
			default:
				reads[ref.Path] = true
				if _, seen := chains[ref.Path]; !seen {
					chains[ref.Path] = chain
				}
			}
		}
		for _, pt := range k.Patches {
			if pt.File != "" && s.Exists(pt.File) {
				reads[pt.File] = true
			}
		}
	}
	visit(root, nil)
	if stop != "" {
		k := x.Kusts[root]
		x.unbuilt[root] = diagnostics.Problem{Range: k.File.Lines().LineRange(firstLine(k)), Message: "the kustomization is not built: " + stop}
		return
	}
	files := make([]string, 0, len(reads))
	for p := range reads {
		files = append(files, p)
		x.owners[p] = append(x.owners[p], root)
	}
	sort.Strings(files)
	x.Reads[root] = files
	x.chains[root] = chains
}

// firstLine is the kustomization's first line that is not a comment or blank.
func firstLine(k *Kustomization) int {
	if k.Doc != nil && len(k.Doc.Content) > 0 {
		return k.Doc.Content[0].Line - 1
	}
	return 0
}

// rel is p relative to its workspace root, with slashes.
func (x *Index) rel(s *diagnostics.Snapshot, p string) string { return relPath(s, p) }

func relPath(s *diagnostics.Snapshot, p string) string {
	if root := s.Root(p); root != "" {
		if r, err := filepath.Rel(root, p); err == nil {
			return filepath.ToSlash(r)
		}
	}
	return p
}

// BuiltBy returns the build roots whose build reads path.
func (x *Index) BuiltBy(path string) []string { return x.owners[path] }

// IsRoot reports whether the kustomization file p is a build root.
func (x *Index) IsRoot(p string) bool {
	_, ok := x.Reads[p]
	return ok || x.unbuilt[p].Message != ""
}

// problems are what NR001 says about a kustomization in s.
func (x *Index) problems(path string) []diagnostics.Problem {
	r := x.res[path]
	if r == nil {
		return nil
	}
	out := slices.Clone(r.problems)
	k := x.Kusts[path]
	for _, l := range r.left {
		out = append(out, diagnostics.Problem{Range: yamlnode.Range(k.File.Lines(), l.Node), Message: l.Reason, Severity: diagnostics.SeverityInfo})
	}
	out = append(out, x.cycles[path]...)
	if p := x.unbuilt[path]; p.Message != "" {
		out = append(out, p)
	}
	return out
}

// sanitized is the text of kustomization p as the build reads it: the entries the build
// leaves out removed and, for the root, kustomize's origin annotations asked for (its
// transformer annotations are not: kustomize adds every transformer to every object it
// holds, which says nothing of what changed a field, and costs a third of the build).
func (x *Index) sanitized(p string, root bool) (string, error) {
	k, r := x.Kusts[p], x.res[p]
	doc := cloneWithout(k.Doc, r.dropped)
	if root {
		kn, _ := yamlnode.Get(doc, "buildMetadata")
		md := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "originAnnotations"}}}
		if kn == nil {
			doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "buildMetadata"}, md)
		} else {
			for i := 0; i+1 < len(doc.Content); i += 2 {
				if doc.Content[i] == kn {
					doc.Content[i+1] = md
				}
			}
		}
	}
	b, err := yaml.Marshal(doc)
	return string(b), err
}

// cloneWithout copies n without the nodes in drop (sequence items, or mapping entries whose
// key or value is dropped).
func cloneWithout(n *yaml.Node, drop map[*yaml.Node]bool) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = nil
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if drop[n.Content[i]] || drop[n.Content[i+1]] {
				continue
			}
			c.Content = append(c.Content, cloneWithout(n.Content[i], drop), cloneWithout(n.Content[i+1], drop))
		}
	default:
		for _, it := range n.Content {
			if !drop[it] {
				c.Content = append(c.Content, cloneWithout(it, drop))
			}
		}
	}
	return &c
}

// extraFiles are the other local files a kustomization names (generator inputs, replacement
// and configuration files, openapi schemas): every scalar that names a file beside it.
func extraFiles(s *diagnostics.Snapshot, k *Kustomization) []string {
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			v := n.Value
			if _, after, ok := strings.Cut(v, "="); ok {
				v = after
			}
			if v == "" || strings.ContainsAny(v, "\n:*") || len(v) > 512 {
				return
			}
			if p := filepath.Join(k.Dir, filepath.FromSlash(v)); s.Root(p) != "" && !isKustName(p) && s.Exists(p) {
				out = append(out, p)
			}
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		default:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	if k.Doc != nil {
		walk(k.Doc)
	}
	return out
}
