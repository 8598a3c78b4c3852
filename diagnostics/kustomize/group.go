package kustomize

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

const groupName = "kustomize"

// state is the group's state in one engine: the builder it was built with and the builds it
// keeps by their input.
type state struct {
	build  BuildFunc
	builds *diagnostics.Cache
}

// NewGroup returns the kustomize model: kustomizations built with build (kustomize's engine:
// in the nonroot-ls-helm helper process for the language server, in-process for tests; nil
// leaves them unbuilt, reported on the build roots), their problems, the findings of what
// they deploy carried to the source lines, the files a build holds (BuiltBy), the files to
// re-publish after an edit, and `inspect` of a kustomization.
func NewGroup(build BuildFunc) *diagnostics.Group {
	return &diagnostics.Group{
		Name:       groupName,
		Parse:      map[diagnostics.FileKind]diagnostics.ParseFunc{diagnostics.KindKustomize: parseProblems},
		Inspect:    map[diagnostics.FileKind]diagnostics.InspectFunc{diagnostics.KindKustomize: inspect},
		BuiltBy:    func(s *diagnostics.Snapshot, path string) []string { return For(s).BuiltBy(path) },
		Carried:    carried,
		Dependents: Dependents,
		// The index of kustomizations is built with the workspace's, so that the first
		// diagnosis does not wait for it; builds run when a build root's files are diagnosed.
		IndexWorkspace: func(s *diagnostics.Snapshot) { For(s) },
		Kept:           []any{modelKey{}},
		NewState: func(*diagnostics.Engine) any {
			return &state{build: build, builds: diagnostics.NewCache(buildCacheSize)}
		},
	}
}

// parseProblems are NR001's findings on a kustomization: what it names that is missing or
// left out, cycles, and a build root's failed build.
func parseProblems(ctx context.Context, s *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
	x := For(s)
	out := x.problems(f.Path)
	if out == nil && x.Kusts[f.Path] == nil {
		// Not in the walk (an ignored folder): the file's own model.
		out = slices.Clone(Parse(f).Problems)
	}
	if b := Analyze(ctx, s, f.Path); b != nil && b.Result != nil && b.Result.Err != "" {
		k := b.Root
		out = append(out, diagnostics.Problem{Range: k.File.Lines().LineRange(firstLine(k)), Message: "kustomize build failed: " + b.Result.Err})
	}
	return out
}

// carried are the findings of the builds that read f, on f's lines. The same finding from
// several builds (a base two overlays use) is one, naming them all.
func carried(ctx context.Context, s *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Finding {
	x := For(s)
	roots := x.BuiltBy(f.Path)
	if len(roots) == 0 {
		return nil
	}
	type group struct {
		first  Traced
		builds []string
	}
	groups := map[string]*group{}
	var order []string
	for _, root := range roots {
		b := Analyze(ctx, s, root)
		if b == nil {
			continue
		}
		for _, t := range b.Findings {
			if t.File != f.Path {
				continue
			}
			key := t.Underlying.RuleID + "@" + t.Range.String() + "@" + t.Where
			g := groups[key]
			if g == nil {
				g = &group{first: t}
				groups[key] = g
				order = append(order, key)
			}
			if !slices.Contains(g.builds, b.Name()) {
				g.builds = append(g.builds, b.Name())
			}
		}
	}
	var out []diagnostics.Finding
	for _, key := range order {
		g := groups[key]
		sort.Strings(g.builds)
		t := g.first
		fd := diagnostics.Finding{RuleID: t.Underlying.RuleID, File: f.Path, Range: t.Range, Message: message(s, g.builds, t)}
		if t.fix != nil {
			d := *t.fix
			d.builds = len(g.builds)
			fd.Data = &d
		}
		if t.Set != nil {
			fd.Related = append(fd.Related, *t.Set)
			fd.Message += fmt.Sprintf(", set in %s line %d", relPath(s, t.Set.File), t.Set.Range.Start.Line+1)
		}
		if t.Origin != "" && t.Origin != f.Path {
			if rng, ok := baseLine(s, t); ok {
				fd.Related = append(fd.Related, diagnostics.Related{File: t.Origin, Range: rng, Message: "the base resource"})
			}
		}
		out = append(out, fd)
	}
	return out
}

// baseLine is the kind: line of the base resource a traced finding's object is built from.
func baseLine(s *diagnostics.Snapshot, t Traced) (text.Range, bool) {
	f, err := s.File(t.Origin)
	if err != nil {
		return text.Range{}, false
	}
	for n := 0; n < f.Lines().Count(); n++ {
		if l := f.Lines().Line(n); len(l) >= 5 && l[:5] == "kind:" {
			return trimmedLine(f.Lines(), n), true
		}
	}
	return text.Range{}, false
}

// Dependents returns the files whose findings depend on path: every file a build that reads
// path reads (the bases, the patches, the kustomizations); for a Dockerfile, every build's
// files (the NR3xx findings of what a build deploys may change with any image, and the
// builds themselves are served from the cache). Call it on the snapshots before and after a
// change and re-publish the union.
func Dependents(s *diagnostics.Snapshot, path string) []string {
	x := For(s)
	var out []string
	roots := slices.Clone(x.BuiltBy(path))
	if diagnostics.IsDockerfileName(filepath.Base(path)) {
		roots = x.Roots
	}
	for _, root := range roots {
		out = append(out, x.Reads[root]...)
	}
	if _, ok := x.Reads[path]; ok {
		out = append(out, x.Reads[path]...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
