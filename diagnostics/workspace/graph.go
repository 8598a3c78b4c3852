// Package workspace is the workspace graph of nonroot-ls: which Dockerfile (and build target)
// builds each image a manifest or compose service runs, and the rules NR301–NR307 that
// judge a workload together with the image it runs.
//
// Links come, in order of trust, from `.nonroot-ls.yaml` `images:` (and the same editor
// setting), compose `services.*.build`, skaffold `build.artifacts`, docker-bake targets,
// kustomize `images:` rewrites (which rename an image to one linked by the others), and last
// a heuristic: the image repository's last path element names the folder holding a
// Dockerfile (or a `ko://`/`./` local reference names it). Registry host and port, tag and
// digest never break a match. Every link records its evidence: the file and range that made it.
package workspace

import (
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Source says where a link comes from.
type Source string

// Link sources, most trusted first.
const (
	SourceConfig    Source = "config"
	SourceCompose   Source = "compose"
	SourceSkaffold  Source = "skaffold"
	SourceBake      Source = "bake"
	SourceKustomize Source = "kustomize"
	SourceHeuristic Source = "heuristic"
)

func (s Source) trust() int {
	switch s {
	case SourceConfig:
		return 0
	case SourceCompose:
		return 1
	case SourceSkaffold:
		return 2
	case SourceBake:
		return 3
	case SourceKustomize:
		return 4
	}
	return 5
}

// Evidence is the file and range that made a link. File is "" for the editor settings.
type Evidence struct {
	File  string     `json:"file"`
	Range text.Range `json:"range"`
}

// Link says that Dockerfile (built up to Target, "" for its last stage) builds Image.
type Link struct {
	Image      string   `json:"image"` // as the evidence writes it
	Dockerfile string   `json:"dockerfile"`
	Target     string   `json:"target,omitempty"`
	Context    string   `json:"context,omitempty"`
	Source     Source   `json:"evidence"`
	Evidence   Evidence `json:"from"`
	// Guess is true for heuristic links (and rewrites that end in one): hover says so.
	Guess bool `json:"guess,omitempty"`
	// Via is the link a kustomize rewrite leads to (the rewritten name's own link).
	Via *Link `json:"via,omitempty"`
	key string
}

// Conflict is a second link for an image that names another Dockerfile or target than the
// one kept (the more trusted, or the first in file order).
type Conflict struct {
	Image string `json:"image"`
	Kept  *Link  `json:"kept"`
	Other *Link  `json:"other"`
}

// Ambiguity is an image the heuristic could not decide: several folders of that name hold a
// Dockerfile. No link is made; hover lists the candidates.
type Ambiguity struct {
	Image      string   `json:"image"`
	Candidates []string `json:"candidates"`
}

// Graph is the workspace graph of one snapshot.
type Graph struct {
	// Links are the declared links (config, compose, skaffold, bake) kept after conflicts,
	// most trusted first, then the links the uses resolved through kustomize or the heuristic.
	Links []*Link
	// Uses are the images manifests and compose services run, each with its link.
	Uses        []Use
	Conflicts   []Conflict
	Ambiguities []Ambiguity
	// Dockerfiles are every Dockerfile in the workspace.
	Dockerfiles []string

	declared map[string]*Link     // image key → link
	rewrites map[string][]rewrite // kustomize: key of name → rewrites
	byName   map[string][]string  // folder (or Dockerfile.<name>) name → Dockerfiles
	byDocker map[string][]int     // Dockerfile → indexes into Uses
	dfSet    map[string]bool
	// declaredN is how many of Links are declared (the rest are derived from the uses).
	declaredN int
	kinds     map[string]diagnostics.FileKind // every walked file
}

type graphKey struct{}

// For returns the workspace graph of snapshot s, memoised on the snapshot. The per-file parts
// are memoised on the files, and an edit that only changes Dockerfiles' contents or manifests
// updates the previous snapshot's graph instead of rebuilding it.
func For(s *diagnostics.Snapshot) *Graph {
	return s.MemoDerived(graphKey{}, func(prev any, changed []string, all bool) any {
		if !all {
			if g, ok := update(s, prev.(*Graph), changed); ok {
				return g
			}
		}
		return build(s)
	}).(*Graph)
}

// update brings g0 up to date when the changed paths are only Dockerfiles that stayed
// Dockerfiles (the graph does not depend on their content) and manifests (their uses are
// re-read); anything else (a link source, a Dockerfile created or deleted) declines.
func update(s *diagnostics.Snapshot, g0 *Graph, changed []string) (*Graph, bool) {
	walk := s.Walk()
	var patch []string
	for _, p := range changed {
		if filepath.Base(p) == ".env" {
			return nil, false
		}
		before := g0.kinds[p]
		after := diagnostics.KindUnknown
		if _, found := slices.BinarySearch(walk, p); found {
			if f, err := s.File(p); err == nil {
				after = f.Kind
			}
		}
		switch {
		case before == diagnostics.KindDockerfile && after == diagnostics.KindDockerfile:
		case (before == diagnostics.KindManifest || before == diagnostics.KindUnknown) &&
			(after == diagnostics.KindManifest || after == diagnostics.KindUnknown):
			if before != after || after == diagnostics.KindManifest {
				patch = append(patch, p)
			}
		default:
			return nil, false
		}
	}
	if len(patch) == 0 {
		return g0, true
	}
	g := *g0
	g.kinds = maps.Clone(g0.kinds)
	g.Links = g0.Links[:g0.declaredN:g0.declaredN]
	drop := map[string]bool{}
	for _, p := range patch {
		drop[p] = true
	}
	g.Uses = make([]Use, 0, len(g0.Uses)+4)
	for _, u := range g0.Uses {
		if !drop[u.File] {
			g.Uses = append(g.Uses, u)
		}
	}
	for _, p := range patch {
		delete(g.kinds, p)
		if f, err := s.File(p); err == nil && f.Kind == diagnostics.KindManifest {
			if _, found := slices.BinarySearch(walk, p); found {
				g.kinds[p] = f.Kind
				g.Uses = append(g.Uses, manifestUses(f)...)
			}
		}
	}
	g.finish()
	return &g, true
}

func build(s *diagnostics.Snapshot) *Graph {
	g := &Graph{
		declared: map[string]*Link{}, rewrites: map[string][]rewrite{}, byName: map[string][]string{},
		byDocker: map[string][]int{}, dfSet: map[string]bool{}, kinds: map[string]diagnostics.FileKind{},
	}
	var decls []decl
	var composes []string
	for _, root := range s.Roots() {
		for _, l := range s.Settings().Images {
			df := joinPath(root, l.Dockerfile)
			decls = append(decls, decl{image: l.Image, dockerfile: df, target: l.Target, context: filepath.Dir(df), source: SourceConfig})
		}
	}
	for _, p := range s.Walk() {
		f, err := s.File(p)
		if err != nil {
			continue
		}
		g.kinds[p] = f.Kind
		switch f.Kind {
		case diagnostics.KindDockerfile:
			g.Dockerfiles = append(g.Dockerfiles, p)
			g.dfSet[p] = true
		case diagnostics.KindConfig:
			decls = append(decls, configDecls(f).decls...)
		case diagnostics.KindSkaffold:
			decls = append(decls, skaffoldDecls(f).decls...)
		case diagnostics.KindBake:
			decls = append(decls, bakeDecls(f).decls...)
		case diagnostics.KindKustomize:
			for _, rw := range kustomizeDecls(f).rewrites {
				k := NormalizeImage(rw.name)
				g.rewrites[k] = append(g.rewrites[k], rw)
			}
		case diagnostics.KindCompose:
			composes = append(composes, p)
			for _, svc := range ComposeFor(s, p).Services {
				if svc.Build != nil && svc.Build.Dockerfile != "" && svc.Image != "" && svc.Build.File == p {
					decls = append(decls, decl{image: svc.Image, dockerfile: svc.Build.Dockerfile, target: svc.Build.Target,
						context: svc.Build.Context, source: SourceCompose, ev: Evidence{File: p, Range: svc.Build.Range}})
				}
			}
		case diagnostics.KindManifest:
			g.Uses = append(g.Uses, manifestUses(f)...)
		}
	}
	g.indexDockerfiles(s)

	// Declared links: most trusted first, then in file order; a later link for the same image
	// that names another Dockerfile or target is a conflict.
	sort.SliceStable(decls, func(i, j int) bool {
		a, b := decls[i], decls[j]
		if a.source.trust() != b.source.trust() {
			return a.source.trust() < b.source.trust()
		}
		if a.ev.File != b.ev.File {
			return a.ev.File < b.ev.File
		}
		return a.ev.Range.Start.Less(b.ev.Range.Start)
	})
	for _, d := range decls {
		k := NormalizeImage(d.image)
		if k == "" {
			continue
		}
		l := &Link{Image: d.image, Dockerfile: d.dockerfile, Target: d.target, Context: d.context, Source: d.source, Evidence: d.ev, key: k}
		if kept := g.declared[k]; kept != nil {
			if kept.Dockerfile != l.Dockerfile || kept.Target != l.Target {
				g.Conflicts = append(g.Conflicts, Conflict{Image: d.image, Kept: kept, Other: l})
			}
			continue
		}
		g.declared[k] = l
		g.Links = append(g.Links, l)
	}
	g.declaredN = len(g.Links)

	// Uses: manifests (collected above) and compose services.
	for _, p := range composes {
		for _, svc := range ComposeFor(s, p).Services {
			u := Use{File: p, Kind: diagnostics.KindCompose, Image: svc.Image, Range: svc.ImageRange, Container: svc.Name, Service: svc}
			if svc.Build != nil && svc.Build.Dockerfile != "" {
				// A service that is built runs what its build section builds, whatever else says so.
				u.Link = &Link{Image: svc.Image, Dockerfile: svc.Build.Dockerfile, Target: svc.Build.Target, Context: svc.Build.Context,
					Source: SourceCompose, Evidence: Evidence{File: svc.Build.File, Range: svc.Build.Range}, key: NormalizeImage(svc.Image)}
				if svc.ImageFile != p || svc.ImageInherited {
					u.Range = svc.NameRange
				}
			} else if svc.Image == "" || svc.ImageFile != p || svc.ImageInherited {
				u.Range = svc.NameRange
			}
			g.Uses = append(g.Uses, u)
		}
	}
	g.finish()
	return g
}

// finish resolves the uses not resolved yet, orders them (file, position) and builds the
// indexes: uses by Dockerfile, the derived links, the ambiguities.
func (g *Graph) finish() {
	for i := range g.Uses {
		u := &g.Uses[i]
		if !u.resolved {
			u.resolved = true
			if u.Link == nil && u.Image != "" {
				u.Link, u.amb = g.resolve(u.File, u.Image)
			}
		}
	}
	sort.SliceStable(g.Uses, func(i, j int) bool {
		a, b := &g.Uses[i], &g.Uses[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Range.Start.Less(b.Range.Start)
	})
	g.byDocker = map[string][]int{}
	g.Ambiguities = nil
	derived := map[*Link]bool{}
	seenAmb := map[string]bool{}
	for i := range g.Uses {
		u := &g.Uses[i]
		if len(u.amb) > 0 && !seenAmb[NormalizeImage(u.Image)] {
			seenAmb[NormalizeImage(u.Image)] = true
			g.Ambiguities = append(g.Ambiguities, Ambiguity{Image: u.Image, Candidates: u.amb})
		}
		if u.Link != nil {
			g.byDocker[u.Link.Dockerfile] = append(g.byDocker[u.Link.Dockerfile], i)
			if (u.Link.Source == SourceHeuristic || u.Link.Source == SourceKustomize) && !derived[u.Link] {
				derived[u.Link] = true
				g.Links = append(g.Links, u.Link)
			}
		}
	}
}

// indexDockerfiles builds the heuristic's index: a Dockerfile is a candidate for the name of
// the folder that holds it, and for <name> in <name>.Dockerfile / Dockerfile.<name>. A folder
// with a plain Dockerfile (or Containerfile) offers only that one for its name.
func (g *Graph) indexDockerfiles(s *diagnostics.Snapshot) {
	plain := map[string]bool{}
	for _, df := range g.Dockerfiles {
		base := strings.ToLower(filepath.Base(df))
		if base == "dockerfile" || base == "containerfile" {
			plain[filepath.Dir(df)] = true
		}
	}
	add := func(name, df string) {
		name = strings.ToLower(name)
		for _, have := range g.byName[name] {
			if have == df {
				return
			}
		}
		g.byName[name] = append(g.byName[name], df)
	}
	for _, df := range g.Dockerfiles {
		dir, base := filepath.Dir(df), strings.ToLower(filepath.Base(df))
		if base == "dockerfile" || base == "containerfile" || !plain[dir] {
			add(filepath.Base(dir), df)
		}
		for _, pre := range []string{"dockerfile.", "containerfile."} {
			if n, ok := strings.CutPrefix(base, pre); ok && n != "" {
				add(n, df)
			}
		}
		for _, suf := range []string{".dockerfile", ".containerfile"} {
			if n, ok := strings.CutSuffix(base, suf); ok && n != "" {
				add(n, df)
			}
		}
	}
}

// LinkFor returns the link of an image reference, or nil. References are matched on their
// repository path: registry host and port, tag and digest do not matter.
func (g *Graph) LinkFor(image string) *Link {
	l, _ := g.resolve("", image)
	return l
}

// LinkAt is LinkFor for an image written in file (a `./folder` reference is relative to it).
func (g *Graph) LinkAt(file, image string) *Link {
	l, _ := g.resolve(file, image)
	return l
}

// Ambiguous returns the candidate Dockerfiles when the heuristic found several for image.
func (g *Graph) Ambiguous(image string) []string {
	_, amb := g.resolve("", image)
	return amb
}

// ConflictsFor returns the conflicts recorded for an image.
func (g *Graph) ConflictsFor(image string) []Conflict {
	k := NormalizeImage(image)
	var out []Conflict
	for _, c := range g.Conflicts {
		if NormalizeImage(c.Image) == k {
			out = append(out, c)
		}
	}
	return out
}

// resolve finds the link of image written in file: a declared link, a kustomize rewrite to a
// linked name, a declared link whose repository path ends the image's, then the heuristic.
func (g *Graph) resolve(file, image string) (*Link, []string) {
	ref := ParseRef(image)
	if ref.Local != "" && !strings.HasPrefix(image, "ko://") {
		if file == "" {
			return nil, nil
		}
		return g.localLink(image, joinPath(filepath.Dir(file), ref.Local))
	}
	k := ref.Key()
	if k == "" {
		return nil, nil
	}
	if l := g.direct(k); l != nil {
		return l, nil
	}
	var amb []string
	for _, rw := range g.rewrites[k] {
		to, a := g.direct(NormalizeImage(rw.newName)), []string(nil)
		if to == nil {
			to, a = g.heuristic(rw.newName, ParseRef(rw.newName))
		}
		if to != nil {
			return &Link{Image: image, Dockerfile: to.Dockerfile, Target: to.Target, Context: to.Context, Source: SourceKustomize,
				Evidence: rw.ev, Guess: to.Guess, Via: to, key: k}, nil
		}
		amb = append(amb, a...)
	}
	if len(amb) > 0 {
		return nil, amb
	}
	return g.heuristic(image, ref)
}

// direct returns the declared link for key, or the one declared link whose key ends key on a
// path boundary (skaffold's default-repo and registry prefixes: `web` builds `gcr.io/p/web`).
func (g *Graph) direct(k string) *Link {
	if l := g.declared[k]; l != nil {
		return l
	}
	var found *Link
	for dk, l := range g.declared {
		if len(dk) < len(k) && strings.HasSuffix(k, "/"+dk) {
			if found != nil && (found.Dockerfile != l.Dockerfile || found.Target != l.Target) {
				return nil
			}
			if found == nil || dk > found.key {
				found = l
			}
		}
	}
	return found
}

func (g *Graph) heuristic(image string, ref Ref) (*Link, []string) {
	cands := g.byName[strings.ToLower(ref.Name())]
	switch len(cands) {
	case 0:
		return nil, nil
	case 1:
		df := cands[0]
		return &Link{Image: image, Dockerfile: df, Context: filepath.Dir(df), Source: SourceHeuristic,
			Evidence: Evidence{File: df}, Guess: true, key: ref.Key()}, nil
	}
	return nil, append([]string(nil), cands...)
}

func (g *Graph) localLink(image, dir string) (*Link, []string) {
	var cands []string
	for _, n := range []string{"Dockerfile", "Containerfile"} {
		if p := filepath.Join(dir, n); g.dfSet[p] {
			return &Link{Image: image, Dockerfile: p, Context: dir, Source: SourceHeuristic, Evidence: Evidence{File: p}, Guess: true}, nil
		}
	}
	for _, df := range g.Dockerfiles {
		if filepath.Dir(df) == dir {
			cands = append(cands, df)
		}
	}
	if len(cands) == 1 {
		return &Link{Image: image, Dockerfile: cands[0], Context: dir, Source: SourceHeuristic, Evidence: Evidence{File: cands[0]}, Guess: true}, nil
	}
	return nil, cands
}

// UsesOf returns the uses (manifest containers and compose services) linked to dockerfile.
func (g *Graph) UsesOf(dockerfile string) []Use {
	var out []Use
	for _, i := range g.byDocker[diagnostics.Clean(dockerfile)] {
		out = append(out, g.Uses[i])
	}
	return out
}

// ManifestsUsing returns the manifest and compose files that run an image dockerfile builds,
// sorted, each once.
func (g *Graph) ManifestsUsing(dockerfile string) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range g.UsesOf(dockerfile) {
		if !seen[u.File] {
			seen[u.File] = true
			out = append(out, u.File)
		}
	}
	sort.Strings(out)
	return out
}

// UsesIn returns the uses in one file, in file order.
func (g *Graph) UsesIn(file string) []Use {
	file = diagnostics.Clean(file)
	var out []Use
	for _, u := range g.Uses {
		if u.File == file {
			out = append(out, u)
		}
	}
	return out
}

// UseAt returns the use whose image (or compose service key) is at pos in file.
func (g *Graph) UseAt(file string, pos text.Pos) (Use, bool) {
	for _, u := range g.UsesIn(file) {
		if u.Range.Contains(pos) {
			return u, true
		}
	}
	return Use{}, false
}
