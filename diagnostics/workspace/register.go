package workspace

import (
	"context"
	"path/filepath"
	"sort"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// Rules are the rules that judge files together, NR301–NR307.
var Rules = []*diagnostics.Rule{
	NR301,
	NR302,
	NR303,
	NR304,
	NR305,
	NR306,
	NR307,
}

// Group is the workspace graph: which Dockerfile builds the image each manifest and compose
// service runs (and which build target), the link sources' parse problems, hovers and
// navigation on `image:`, references from Dockerfiles, the files that depend on a change,
// and the links for `inspect`.
var Group = &diagnostics.Group{
	Name: groupName,
	Parse: map[diagnostics.FileKind]diagnostics.ParseFunc{
		diagnostics.KindBake:      declProblems,
		diagnostics.KindSkaffold:  declProblems,
		diagnostics.KindKustomize: declProblems,
		diagnostics.KindWorkflow:  declProblems,
		diagnostics.KindGitLabCI:  declProblems,
		diagnostics.KindTiltfile:  declProblems,
		diagnostics.KindCompose: func(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
			if c := ComposeFor(s, f.Path); c.Err != nil {
				return []diagnostics.Problem{yamlProblem(f, c.Err)}
			}
			return nil
		},
	},
	Hover:            map[diagnostics.FileKind]diagnostics.HoverFunc{diagnostics.KindManifest: hoverImage, diagnostics.KindCompose: hoverImage},
	Definition:       map[diagnostics.FileKind]diagnostics.Navigator{diagnostics.KindManifest: definition, diagnostics.KindCompose: definition},
	References:       map[diagnostics.FileKind]diagnostics.Navigator{diagnostics.KindDockerfile: references},
	Index:            indexFile,
	IndexWorkspace:   func(s *diagnostics.Snapshot) { For(s) },
	Kept:             []any{usesKey{}, declsKey{}},
	Dependents:       Dependents,
	InspectWorkspace: func(s *diagnostics.Snapshot) any { return Inspect(s) },
	BuildTargets:     func(s *diagnostics.Snapshot, path string) []string { return For(s).TargetsOf(path) },
	Image:            imageInfo,
	NewState:         func(*diagnostics.Engine) any { return &state{catalog: diagnostics.NewCache(catalogCacheSize)} },
}

// declProblems are a link source's parse problems (its NR001).
func declProblems(_ context.Context, _ *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
	return declsOf(f).problems
}

// indexFile builds what the graph reads of f: a manifest's image uses, a link source's
// declarations, a compose file's services.
func indexFile(s *diagnostics.Snapshot, f *diagnostics.File) {
	switch f.Kind {
	case diagnostics.KindManifest:
		manifestUses(f)
	case diagnostics.KindCompose:
		ComposeFor(s, f.Path)
	default:
		declsOf(f)
	}
}

// Dependents returns the files whose NR3xx findings depend on path: for a Dockerfile the
// manifests and compose files that run its image (and, for a compose/bake/skaffold target, the
// Dockerfile whose built stage it selects); for a file that declares links (config, compose,
// skaffold, bake, kustomize, .env) the files that run the images it names and the Dockerfiles
// it names. Call it on the snapshots before and after a change and re-publish the union.
func Dependents(s *diagnostics.Snapshot, path string) []string {
	path = diagnostics.Clean(path)
	g := For(s)
	f, err := s.File(path)
	kind := diagnostics.KindUnknown
	if err == nil {
		kind = f.Kind
	} else if diagnostics.IsDockerfileName(filepath.Base(path)) {
		kind = diagnostics.KindDockerfile
	}
	if filepath.Base(path) == ".env" {
		return dependentsOfSources(s, g, func(l *Link) bool { return filepath.Dir(l.Evidence.File) == filepath.Dir(path) })
	}
	switch kind {
	case diagnostics.KindDockerfile:
		return g.ManifestsUsing(path)
	case diagnostics.KindConfig, diagnostics.KindCompose, diagnostics.KindSkaffold, diagnostics.KindBake, diagnostics.KindKustomize,
		diagnostics.KindWorkflow, diagnostics.KindGitLabCI, diagnostics.KindTiltfile:
		out := dependentsOfSources(s, g, func(l *Link) bool { return l.Evidence.File == path })
		if kind == diagnostics.KindConfig {
			// The config also sets severities and ignores for everything below it.
			dir := filepath.Dir(path)
			for _, p := range s.Walk() {
				if rel, err := filepath.Rel(dir, p); err == nil && filepath.IsLocal(rel) {
					out = append(out, p)
				}
			}
		}
		return uniqueSorted(out)
	}
	return nil
}

// dependentsOfSources returns the files running an image whose link (or a rewrite on the way)
// has its evidence where from says, and the Dockerfiles those links name.
func dependentsOfSources(s *diagnostics.Snapshot, g *Graph, from func(*Link) bool) []string {
	var out []string
	for _, u := range g.Uses {
		for l := u.Link; l != nil; l = l.Via {
			if from(l) {
				out = append(out, u.File, l.Dockerfile)
				break
			}
		}
	}
	for _, l := range g.Links {
		if from(l) {
			out = append(out, l.Dockerfile)
		}
	}
	for _, c := range g.Conflicts {
		if from(c.Other) {
			out = append(out, c.Other.Dockerfile, c.Kept.Dockerfile)
		}
	}
	var kept []string
	for _, p := range out {
		if s.Exists(p) {
			kept = append(kept, p)
		}
	}
	return uniqueSorted(kept)
}

func uniqueSorted(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, p := range in {
		if i == 0 || p != in[i-1] {
			out = append(out, p)
		}
	}
	return out
}

// InspectLink is one link as `nonroot-ls inspect --format json` prints it for a folder.
type InspectLink struct {
	Image string `json:"image"`
	// Tag is the tag pattern the source builds the image under ("" any tag).
	Tag        string        `json:"tag,omitempty"`
	From       InspectSource `json:"from"` // the evidence; for a guess, the reference that made it
	Dockerfile string        `json:"dockerfile"`
	Target     string        `json:"target,omitempty"`
	Evidence   Source        `json:"evidence"`
	Guess      bool          `json:"guess,omitempty"`
	// Via is, for a kustomize rewrite, the link of the name it rewrites to.
	Via *InspectLink `json:"via,omitempty"`
	// UsedBy are the manifest containers and compose services that run the image through
	// this link: what the NR3xx rules judge.
	UsedBy []InspectUse `json:"usedBy,omitempty"`
	// Conflicts are other links for the same image that lost to this one.
	Conflicts []InspectSource `json:"conflicts,omitempty"`
}

// InspectSource is a file and 1-based line (paths relative to their workspace root).
type InspectSource struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// InspectUse is an image reference that runs a linked image.
type InspectUse struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Image string `json:"image"`
}

// Inspect lists every link the engine uses: the declared ones (config, compose, skaffold,
// bake, Tilt, CI), then those the manifests and compose files resolve (compose services' own
// builds, kustomize rewrites, the heuristic's guesses), each with the references that use it.
func Inspect(s *diagnostics.Snapshot) []InspectLink {
	g := For(s)
	relp := func(p string) string {
		if root := s.Root(p); root != "" {
			if r, err := filepath.Rel(root, p); err == nil {
				return filepath.ToSlash(r)
			}
		}
		return p
	}
	var row func(l *Link) InspectLink
	row = func(l *Link) InspectLink {
		il := InspectLink{
			Image: l.Image, Tag: l.Tag, Dockerfile: relp(l.Dockerfile), Target: l.Target, Evidence: l.Source, Guess: l.Guess,
			From: InspectSource{File: relp(l.Evidence.File), Line: l.Evidence.Range.Start.Line + 1},
		}
		if l.Evidence.File == "" {
			il.From = InspectSource{File: "(editor settings)"}
		}
		if l.Via != nil {
			v := row(l.Via)
			il.Via = &v
		}
		return il
	}
	// Rows are told apart by what they say: a compose service's own build and the link its
	// image declares are one row.
	type key struct {
		image, df, target string
		src               Source
		from              InspectSource
	}
	out := []InspectLink{}
	index := map[key]int{}
	byLink := map[*Link]int{}
	for _, l := range g.Links {
		il := row(l)
		k := key{il.Image, il.Dockerfile, il.Target, il.Evidence, il.From}
		i, seen := index[k]
		if !seen {
			i = len(out)
			index[k] = i
			for _, c := range g.Conflicts {
				if c.Kept == l {
					il.Conflicts = append(il.Conflicts, InspectSource{File: relp(c.Other.Evidence.File), Line: c.Other.Evidence.Range.Start.Line + 1})
				}
			}
			out = append(out, il)
		}
		byLink[l] = i
	}
	for _, u := range g.Uses {
		if i, ok := byLink[u.Link]; ok && u.Link != nil {
			out[i].UsedBy = append(out[i].UsedBy, InspectUse{File: relp(u.File), Line: u.Range.Start.Line + 1, Image: u.Image})
		}
	}
	return out
}
