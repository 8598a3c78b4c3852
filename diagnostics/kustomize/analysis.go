package kustomize

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// BuiltDir is the folder, inside the build root's, of the virtual file that holds the built
// objects in the derived snapshot (never written to disk).
const BuiltDir = ".built"

// Build is a build root built and judged, its findings traced back to the sources.
type Build struct {
	Root   *Kustomization
	Result *Result
	// Virtual is the path of the built objects in Derived, the snapshot that holds them.
	Virtual string
	Derived *diagnostics.Snapshot
	Objects *kube.Manifest // the model of the built objects
	// Findings are the manifest rules' findings of the built objects, traced.
	Findings []Traced

	x      *Index
	snap   *diagnostics.Snapshot
	inputs []string // the files of the request, absolute
	rootD  string   // the workspace root the request's paths are relative to
}

type buildKey struct{ root string }

// held is a build root's Build as a snapshot holds it; an edit elsewhere (that none of its
// inputs, links or settings see) keeps the previous snapshot's.
type held struct {
	mu sync.Mutex
	b  *Build
}

// Analyze builds the build root root (a kustomization file) and traces the findings of what
// it deploys; nil when root is not a build root, or ctx is cancelled first. The previous
// snapshot's Build is kept when the snapshot changed nothing it reads.
func Analyze(ctx context.Context, s *diagnostics.Snapshot, root string) *Build {
	x := For(s)
	if _, ok := x.Reads[root]; !ok {
		return nil
	}
	h := s.MemoDerived(buildKey{root}, func(prev any, changed []string, all bool) any {
		if p, _ := prev.(*held); !all && p != nil && p.unaffected(s, x, changed) {
			return p
		}
		return &held{}
	}).(*held)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.b == nil {
		h.b = analyze(ctx, s, x, root) // nil when cancelled: the next call computes it
	}
	return h.b
}

// unaffected reports whether the held build is still that of s after changed: the index
// is the same, and no changed file is one the build reads or one that links images or sets
// severities (Dockerfiles, compose, skaffold, bake, kustomizations, .nonroot-ls.yaml, .env).
func (h *held) unaffected(s *diagnostics.Snapshot, x *Index, changed []string) bool {
	h.mu.Lock()
	b := h.b
	h.mu.Unlock()
	if b == nil || b.x != x {
		return false
	}
	for _, p := range changed {
		if slices.Contains(b.inputs, p) || filepath.Base(p) == ".env" || diagnostics.IsDockerfileName(filepath.Base(p)) {
			return false
		}
		kind := diagnostics.KindUnknown
		if f, err := s.File(p); err == nil {
			kind = f.Kind
		}
		switch kind {
		case diagnostics.KindDockerfile, diagnostics.KindConfig, diagnostics.KindCompose, diagnostics.KindSkaffold, diagnostics.KindBake, diagnostics.KindKustomize:
			return false
		}
	}
	return true
}

func analyze(ctx context.Context, s *diagnostics.Snapshot, x *Index, root string) *Build {
	st, _ := s.State(groupName).(*state)
	if st == nil {
		return nil
	}
	b := &Build{Root: x.Kusts[root], x: x, snap: s, rootD: s.Root(root)}
	req := b.request(s)
	if req == nil {
		b.Result = &Result{Err: "the files the kustomization reads exceed the size limit; not built"}
		return b
	}
	b.Result = st.run(ctx, req)
	if b.Result == nil {
		return nil
	}
	if b.Result.Err != "" {
		return b
	}
	b.Virtual = filepath.Join(b.Root.Dir, BuiltDir, "kustomize-build.yaml")
	b.Derived = s.WithFile(b.Virtual, 0, "yaml", b.Result.YAML)
	vf, err := b.Derived.File(b.Virtual)
	if err != nil {
		return b
	}
	b.Objects = kube.ForFile(vf)
	for _, fd := range b.Derived.Diagnose(ctx, b.Virtual) {
		if r := s.Engine().RuleByID(fd.RuleID); r == nil || r == diagnostics.NR001 || !r.RunsOn(diagnostics.KindManifest) {
			continue
		}
		b.Findings = append(b.Findings, b.trace(fd))
	}
	if ctx.Err() != nil {
		return nil
	}
	return b
}

// request is the build as plain data; nil when its files are too large.
func (b *Build) request(s *diagnostics.Snapshot) *BuildRequest {
	x := b.x
	req := &BuildRequest{Files: map[string]string{}, Timeout: BuildTimeout}
	req.Dir = b.wsRel(b.Root.Dir)
	total := 0
	add := func(p, text string) bool {
		total += len(text)
		req.Files[b.wsRel(p)] = text
		b.inputs = append(b.inputs, p)
		return total <= MaxInputBytes
	}
	for _, p := range x.Reads[b.Root.File.Path] {
		if s.Root(p) != b.rootD {
			continue // another workspace folder: kustomize reports what it cannot read
		}
		if k := x.Kusts[p]; k != nil {
			t, err := x.sanitized(p, p == b.Root.File.Path)
			if err != nil || !add(p, t) {
				return nil
			}
			for _, e := range extraFiles(s, k) {
				if f, err := s.File(e); err == nil && s.Root(e) == b.rootD && !add(e, f.Text) {
					return nil
				}
			}
			continue
		}
		if f, err := s.File(p); err == nil && !add(p, f.Text) {
			return nil
		}
	}
	return req
}

// wsRel is p relative to the build's workspace root, with slashes.
func (b *Build) wsRel(p string) string {
	r, err := filepath.Rel(b.rootD, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(r)
}

// Name is the build root's folder relative to its workspace root ("overlays/dev"), or its
// file's name when it is the workspace root's own.
func (b *Build) Name() string {
	if n := b.wsRel(b.Root.Dir); n != "." {
		return n
	}
	return filepath.Base(b.Root.File.Path)
}

// OriginOf returns the source file (absolute) of a built object, from kustomize's origin
// annotation; "" when it came from a generator or a remote base.
func (b *Build) OriginOf(o *kube.Object) string {
	_, ann := yamlnode.GetPath(o.Node, "metadata", "annotations")
	_, v := yamlnode.Get(ann, "config.kubernetes.io/origin")
	var origin struct {
		Path string `yaml:"path"`
		Repo string `yaml:"repo"`
	}
	if yaml.Unmarshal([]byte(yamlnode.Str(v)), &origin) != nil || origin.Path == "" || origin.Repo != "" {
		return ""
	}
	return filepath.Join(b.Root.Dir, filepath.FromSlash(origin.Path))
}

// objectAt returns the top-level built object whose document holds line.
func (b *Build) objectAt(line int) *kube.Object {
	var best *kube.Object
	for _, o := range b.Objects.Objects {
		if o.Parent == nil && o.Node.Line-1 <= line && (best == nil || o.Node.Line >= best.Node.Line) {
			best = o
		}
	}
	return best
}

// isWorkloadKey reports whether key names a list of containers.
func isContainerList(key string) bool {
	return key == "containers" || key == "initContainers" || key == "ephemeralContainers"
}

// pathAt returns the path from mapping n to the deepest node that starts on line, twice:
// as keys, where a list item is "[name]" (a container by name) or "[i]", and as JSON pointer
// tokens, where it is its index.
func pathAt(n *yaml.Node, line int) (keys, ptr []string) {
	for depth := 0; depth < 64 && n != nil; depth++ {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Line-1 == line {
					return append(keys, k.Value), append(ptr, k.Value)
				}
				if spans(v, line) {
					keys, ptr, next = append(keys, k.Value), append(ptr, k.Value), v
					break
				}
			}
		case yaml.SequenceNode:
			for i, it := range n.Content {
				if spans(it, line) {
					keys, ptr, next = append(keys, itemKey(it, i)), append(ptr, strconv.Itoa(i)), it
					break
				}
			}
		}
		if next == nil || next.Kind == yaml.ScalarNode {
			return keys, ptr
		}
		n = next
	}
	return keys, ptr
}

// itemKey names a list item in a key path: "[name]" when it has a name, else "[i]".
func itemKey(it *yaml.Node, i int) string {
	if _, nm := yamlnode.Get(it, "name"); yamlnode.Str(nm) != "" {
		return "[" + yamlnode.Str(nm) + "]"
	}
	return "[" + strconv.Itoa(i) + "]"
}

// spans reports whether n's text covers line (from its first line to its last node's).
func spans(n *yaml.Node, line int) bool {
	return n != nil && n.Line-1 <= line && line <= lastLine(n)
}

func lastLine(n *yaml.Node) int {
	for len(n.Content) > 0 {
		n = n.Content[len(n.Content)-1]
	}
	l := n.Line - 1
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		l += strings.Count(n.Value, "\n")
	}
	return l
}
