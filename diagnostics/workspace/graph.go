// Package workspace is the workspace graph of nonroot-ls: which Dockerfile (and build target)
// builds each image a manifest or compose service runs, and the rules NR301–NR307 that
// judge a workload together with the image it runs.
//
// Links come, in order of trust, from `.nonroot-ls.yaml` `images:` (and the same editor
// setting), compose `services.*.build`, skaffold `build.artifacts`, docker-bake targets,
// Tiltfile `docker_build` calls, GitHub Actions workflows and GitLab CI scripts, kustomize
// `images:` rewrites (which rename an image to one linked by the others), and last a
// heuristic: the image repository's last path element names the folder holding a Dockerfile
// (or a `ko://`/`./` local reference names it), never the workspace root's own name, and not
// for an image whose owner differs from the one the sources build that name under. Registry
// host and port and digest never break a match; the tag does only between sources that build
// one repository from different Dockerfiles. Every link records its evidence: the file and
// range that made it (for a guess, the reference that made it).
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
	SourceTilt      Source = "tilt"
	SourceWorkflow  Source = "github-actions"
	SourceGitLabCI  Source = "gitlab-ci"
	SourceKustomize Source = "kustomize"
	SourceHeuristic Source = "heuristic"
)

// sourceOrder is the trust order: explicit build configuration first, CI scripts after it,
// the kustomize rewrites and the heuristic last.
var sourceOrder = []Source{SourceConfig, SourceCompose, SourceSkaffold, SourceBake, SourceTilt, SourceWorkflow, SourceGitLabCI, SourceKustomize, SourceHeuristic}

func (s Source) trust() int {
	if i := slices.Index(sourceOrder, s); i >= 0 {
		return i
	}
	return len(sourceOrder)
}

// Evidence is the file and range that made a link. File is "" for the editor settings.
type Evidence struct {
	File  string     `json:"file"`
	Range text.Range `json:"range"`
}

// Link says that Dockerfile (built up to Target, "" for its last stage) builds Image.
type Link struct {
	Image string `json:"image"` // as the evidence writes it
	// Tag is the tags the source builds, as a pattern (`*-cart` for `${VERSION}-cart`); ""
	// when it builds the repository under any tag. Tags tell apart sources that build the
	// same repository from different Dockerfiles.
	Tag        string   `json:"tag,omitempty"`
	Dockerfile string   `json:"dockerfile"`
	Target     string   `json:"target,omitempty"`
	Context    string   `json:"context,omitempty"`
	Source     Source   `json:"evidence"`
	Evidence   Evidence `json:"from"`
	// Guess is true for heuristic links (and rewrites that end in one): hover says so. A
	// heuristic link's evidence is the manifest reference that made the guess.
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

// Ambiguity is an image that is not linked although Dockerfiles could build it: several
// folders of its name hold one, several sources build the repository under tags that do not
// decide, or the heuristic's one candidate was rejected because the workspace builds the
// repository name under another owner. Hover lists the candidates.
type Ambiguity struct {
	Image      string   `json:"image"`
	Candidates []string `json:"candidates"`
	Why        Why      `json:"why"`
	// Owner is, for WhyOwner, the repository the workspace's sources build under that name.
	Owner string `json:"owner,omitempty"`
}

// Why says why an image with candidate Dockerfiles is not linked.
type Why string

const (
	WhyFolders Why = "folders" // several folders of the image's name hold a Dockerfile
	WhyTags    Why = "tags"    // sources build the repository from several Dockerfiles; its tag picks none or several
	WhyOwner   Why = "owner"   // the heuristic's candidate, rejected: the workspace builds that name under another owner
)

// Graph is the workspace graph of one snapshot.
type Graph struct {
	// Links are the declared links kept after conflicts, most trusted first, then the other
	// links the uses have: compose services' own builds, kustomize rewrites, the heuristic's.
	Links []*Link
	// Uses are the images manifests and compose services run, each with its link.
	Uses        []Use
	Conflicts   []Conflict
	Ambiguities []Ambiguity
	// Dockerfiles are every Dockerfile in the workspace.
	Dockerfiles []string

	declared map[string][]*Link   // image key → links, most trusted first (several: told apart by tag)
	owners   map[string][]Ref     // repository name → the references the sources build under it
	rewrites map[string][]rewrite // kustomize: key of name → rewrites
	byName   map[string][]string  // folder (or Dockerfile.<name>) name → Dockerfiles
	byDocker map[string][]int     // Dockerfile → indexes into Uses
	byFile   map[string][]int     // file → indexes into Uses
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
		declared: map[string][]*Link{}, owners: map[string][]Ref{}, rewrites: map[string][]rewrite{}, byName: map[string][]string{},
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
		case diagnostics.KindConfig, diagnostics.KindSkaffold, diagnostics.KindBake, diagnostics.KindWorkflow, diagnostics.KindGitLabCI, diagnostics.KindTiltfile:
			decls = append(decls, declsOf(f).decls...)
		case diagnostics.KindKustomize:
			for _, rw := range kustomizeDecls(f).rewrites {
				k := NormalizeImage(rw.name)
				g.rewrites[k] = append(g.rewrites[k], rw)
			}
		case diagnostics.KindCompose:
			composes = append(composes, p)
			for _, svc := range ComposeFor(s, p).Services {
				if svc.Build != nil && svc.Build.Dockerfile != "" && svc.Image != "" && svc.Build.File == p {
					decls = append(decls, decl{image: svc.ImagePattern, dockerfile: svc.Build.Dockerfile, target: svc.Build.Target,
						context: svc.Build.Context, source: SourceCompose, ev: Evidence{File: p, Range: svc.Build.Range}})
				}
			}
		case diagnostics.KindManifest:
			g.Uses = append(g.Uses, manifestUses(f)...)
		}
	}
	g.indexDockerfiles(s.Roots())

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
	// Tags tell links apart: a link is a conflict only when a kept one covers its tags.
decls:
	for _, d := range decls {
		ref, tag, ok := patternRef(d.image)
		if !ok {
			continue
		}
		k := ref.Key()
		l := &Link{Image: d.image, Tag: tag, Dockerfile: d.dockerfile, Target: d.target, Context: d.context, Source: d.source, Evidence: d.ev, key: k}
		for _, kept := range g.declared[k] {
			if kept.Tag == "" || kept.Tag == l.Tag {
				if kept.Dockerfile != l.Dockerfile || kept.Target != l.Target {
					g.Conflicts = append(g.Conflicts, Conflict{Image: l.Image, Kept: kept, Other: l})
				}
				continue decls
			}
		}
		g.declared[k] = append(g.declared[k], l)
		g.owners[ref.Name()] = append(g.owners[ref.Name()], ref)
		g.Links = append(g.Links, l)
	}
	for _, rws := range g.rewrites {
		for _, rw := range rws {
			ref := ParseRef(rw.newName)
			g.owners[ref.Name()] = append(g.owners[ref.Name()], ref)
		}
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
				if u.Link != nil && u.Link.Source == SourceHeuristic {
					u.Link.Evidence = Evidence{File: u.File, Range: u.Range} // the reference that made the guess
				}
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
	g.byFile = map[string][]int{}
	g.Ambiguities = nil
	listed := map[*Link]bool{}
	for _, l := range g.Links {
		listed[l] = true
	}
	seenAmb := map[string]bool{}
	for i := range g.Uses {
		u := &g.Uses[i]
		g.byFile[u.File] = append(g.byFile[u.File], i)
		if u.amb != nil && !seenAmb[u.Image] {
			seenAmb[u.Image] = true
			g.Ambiguities = append(g.Ambiguities, *u.amb)
		}
		if u.Link != nil {
			g.byDocker[u.Link.Dockerfile] = append(g.byDocker[u.Link.Dockerfile], i)
			if !listed[u.Link] {
				listed[u.Link] = true
				g.Links = append(g.Links, u.Link)
			}
		}
	}
}

// indexDockerfiles builds the heuristic's index: a Dockerfile is a candidate for the name of
// the folder that holds it, and for <name> in <name>.Dockerfile / Dockerfile.<name>. A folder
// with a plain Dockerfile (or Containerfile) offers only that one for its name. A workspace
// root's own name is never used: what the checkout folder is called decides nothing.
func (g *Graph) indexDockerfiles(roots []string) {
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
		if (base == "dockerfile" || base == "containerfile" || !plain[dir]) && !slices.Contains(roots, dir) {
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
// repository path: registry host and port and digest do not matter, nor does the tag unless
// sources build the repository from several Dockerfiles under different tags.
func (g *Graph) LinkFor(image string) *Link {
	l, _ := g.resolve("", image)
	return l
}

// Ambiguous says why image is not linked although Dockerfiles could build it (nil when it is
// linked or none could).
func (g *Graph) Ambiguous(image string) *Ambiguity {
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
func (g *Graph) resolve(file, image string) (*Link, *Ambiguity) {
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
	if l, amb := g.direct(image, k, ref.Tag); l != nil || amb != nil {
		return l, amb
	}
	var amb *Ambiguity
	for _, rw := range g.rewrites[k] {
		nref := ParseRef(rw.newName)
		tag := nref.Tag
		if tag == "" {
			tag = ref.Tag // a rewrite without newTag keeps the image's tag
		}
		to, a := g.direct(rw.newName, nref.Key(), tag)
		if to == nil && a == nil {
			to, a = g.heuristic(rw.newName, nref)
		}
		if to != nil {
			return &Link{Image: image, Dockerfile: to.Dockerfile, Target: to.Target, Context: to.Context, Source: SourceKustomize,
				Evidence: rw.ev, Guess: to.Guess, Via: to, key: k}, nil
		}
		if a != nil && amb == nil {
			amb = a
			amb.Image = image
		}
	}
	if amb != nil {
		return nil, amb
	}
	return g.heuristic(image, ref)
}

// direct returns the declared link for key k (tag picking among several), or else the one
// declared for a key that ends k on a path boundary (skaffold's default-repo and registry
// prefixes: `web` builds `gcr.io/p/web`).
func (g *Graph) direct(image, k, tag string) (*Link, *Ambiguity) {
	cands := g.declared[k]
	if cands == nil {
		for dk, ls := range g.declared {
			if len(dk) < len(k) && strings.HasSuffix(k, "/"+dk) {
				cands = append(cands, ls...)
			}
		}
		if len(cands) == 0 {
			return nil, nil
		}
		sort.SliceStable(cands, func(i, j int) bool {
			if a, b := cands[i].Source.trust(), cands[j].Source.trust(); a != b {
				return a < b
			}
			return len(cands[i].key) > len(cands[j].key)
		})
	}
	if agree(cands) {
		return cands[0], nil
	}
	// Sources build the repository from several Dockerfiles: the tag decides. The links whose
	// tags match, the most specific first (a tag, a pattern, any tag); those must agree.
	best, top := -1, []*Link(nil)
	for _, l := range cands {
		if !tagMatch(l.Tag, tag) {
			continue
		}
		switch sp := tagSpecificity(l.Tag); {
		case sp > best:
			best, top = sp, []*Link{l}
		case sp == best:
			top = append(top, l)
		}
	}
	if len(top) > 0 && agree(top) {
		return top[0], nil
	}
	if len(top) == 0 {
		top = cands
	}
	amb := &Ambiguity{Image: image, Why: WhyTags}
	for _, l := range top {
		if !slices.Contains(amb.Candidates, l.Dockerfile) {
			amb.Candidates = append(amb.Candidates, l.Dockerfile)
		}
	}
	return nil, amb
}

// agree reports whether links name one Dockerfile and target.
func agree(ls []*Link) bool {
	for _, l := range ls[1:] {
		if l.Dockerfile != ls[0].Dockerfile || l.Target != ls[0].Target {
			return false
		}
	}
	return true
}

// heuristic links image to the one Dockerfile whose folder (or file) name is the repository's
// last path element, unless the workspace's sources build that name under another owner
// (`ghcr.io/stefanprodan/podinfo` makes `deavon/podinfo` someone else's image).
func (g *Graph) heuristic(image string, ref Ref) (*Link, *Ambiguity) {
	cands := g.byName[strings.ToLower(ref.Name())]
	if len(cands) == 0 {
		return nil, nil
	}
	for _, o := range g.owners[ref.Name()] {
		if !sameOwner(o, ref) {
			return nil, &Ambiguity{Image: image, Candidates: slices.Clone(cands), Why: WhyOwner, Owner: o.String()}
		}
	}
	if len(cands) > 1 {
		return nil, &Ambiguity{Image: image, Candidates: slices.Clone(cands), Why: WhyFolders}
	}
	df := cands[0]
	return &Link{Image: image, Dockerfile: df, Context: filepath.Dir(df), Source: SourceHeuristic,
		Evidence: Evidence{File: df}, Guess: true, key: ref.Key()}, nil
}

func (g *Graph) localLink(image, dir string) (*Link, *Ambiguity) {
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
	switch len(cands) {
	case 0:
		return nil, nil
	case 1:
		return &Link{Image: image, Dockerfile: cands[0], Context: dir, Source: SourceHeuristic, Evidence: Evidence{File: cands[0]}, Guess: true}, nil
	}
	return nil, &Ambiguity{Image: image, Candidates: cands, Why: WhyFolders}
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
	var out []Use
	for _, i := range g.byFile[diagnostics.Clean(file)] {
		out = append(out, g.Uses[i])
	}
	return out
}

// UseAt returns the use whose image (or compose service key) is at pos in file.
func (g *Graph) UseAt(file string, pos text.Pos) (Use, bool) {
	for _, i := range g.byFile[diagnostics.Clean(file)] {
		if g.Uses[i].Range.Contains(pos) {
			return g.Uses[i], true
		}
	}
	return Use{}, false
}
