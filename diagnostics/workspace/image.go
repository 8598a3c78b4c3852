package workspace

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"go.yaml.in/yaml/v3"
)

// image is what the image a container or compose service runs does at runtime: its user,
// the privilege drops of its entrypoint, the paths it prepares for writing, its ports. It is
// the one shape the NR3xx rules judge, made from the Dockerfile the workspace links to the
// image (its built stage) or, when no Dockerfile is linked, from the image catalog's entry
// for a public image. A workspace link always wins, even when its Dockerfile cannot be
// read; an image neither knows is not judged (imageOf returns nil).
type image struct {
	ref string // as written
	// use is where the image is written (the manifest's or compose file's value): the
	// related information of a catalog fact points there, with the fact's provenance.
	use diagnostics.Related

	// A linked image: the link and the built stage of its Dockerfile.
	link *Link
	df   *dockerfile.Model
	st   *dockerfile.Stage
	// A catalog image: the lookup's answer (Entry nil for a linked image) and its words.
	cat   imagecatalog.Result
	facts *catalogFacts

	user dockerfile.User
}

// imageOf returns what is known of the image ref written in file at rng: the linked
// Dockerfile's built stage, else the catalog's entry; nil when neither (or a linked
// Dockerfile that does not parse, or a Windows image).
func imageOf(s *diagnostics.Snapshot, file, ref string, rng text.Range) *image {
	if l := linkAt(For(s), file, ref, rng); l != nil {
		return linkedImage(s, l, file, ref, rng)
	}
	cf := catalogFactsOf(s, ref)
	if cf == nil {
		return nil
	}
	return &image{ref: ref, use: diagnostics.Related{File: file, Range: rng}, cat: cf.cat, facts: cf, user: cf.user}
}

// linkAt is the link of the graph's use of ref in file at rng (what check judges), or of the
// first use of ref in file when rng is zero; nil when that use is not linked.
func linkAt(g *Graph, file, ref string, rng text.Range) *Link {
	for _, i := range g.byFile[file] {
		if u := &g.Uses[i]; u.Image == ref && (rng.IsZero() || u.Range.Contains(rng.Start)) {
			return u.Link
		}
	}
	return nil
}

const groupName = "workspace"

// catalogCacheSize bounds the image references whose catalog facts an engine keeps.
const catalogCacheSize = 4096

// state is the workspace group's per-engine state.
type state struct {
	catalog *diagnostics.Cache // image reference → *catalogFacts (nil: not in the catalog)
}

// catalogFacts is what the catalog says of an image reference, with the words findings and
// hovers use: the same for every container that runs it, so the engine keeps it by reference
// and an edit does not look it up and phrase it again.
type catalogFacts struct {
	cat      imagecatalog.Result
	user     dockerfile.User
	origin   imagecatalog.Source // the source cited for the reference's tag
	describe string              // cat.Describe()
	userFrom string              // where the user comes from, in words
}

// catalogFactsOf returns the catalog's facts of ref (nil when the catalog does not know it,
// or it is a Windows image), kept in the engine's state.
func catalogFactsOf(s *diagnostics.Snapshot, ref string) *catalogFacts {
	compute := func(context.Context) (any, bool) {
		if dockerfile.IsWindowsImage(ref) {
			return (*catalogFacts)(nil), true
		}
		res := imagecatalog.Lookup(ref)
		b := dockerfile.BaseImageOf(res)
		if b == nil {
			return (*catalogFacts)(nil), true
		}
		cf := &catalogFacts{cat: res, user: b.UserOf(ref), origin: res.Entry.OriginFor(res.Ref.Tag), describe: res.Describe(), userFrom: res.Entry.Why}
		if res.TagUnknown() {
			what := "tag " + res.Ref.Tag
			if res.Ref.Tag == "" {
				what = "this digest"
			}
			cf.userFrom += fmt.Sprintf("; the catalog does not list %s of %s and uses its default family (%s)", what, res.Ref.Repository, res.Entry.Example)
		}
		return cf, true
	}
	st, _ := s.State(groupName).(*state)
	if st == nil {
		v, _ := compute(context.Background())
		return v.(*catalogFacts)
	}
	v, _ := st.catalog.Get(context.Background(), ref, compute)
	return v.(*catalogFacts)
}

// linkedImage is what the built stage of a link's Dockerfile says of the image (nil when it
// does not parse or is a Windows image).
func linkedImage(s *diagnostics.Snapshot, l *Link, file, ref string, rng text.Range) *image {
	df, err := dockerfile.For(s, l.Dockerfile)
	if err != nil || df.Fatal {
		return nil
	}
	st := df.Built(l.Target)
	if st == nil || st.Windows || st.User().Windows {
		return nil
	}
	return &image{ref: ref, use: diagnostics.Related{File: file, Range: rng}, link: l, df: df, st: st, user: st.User()}
}

func (im *image) linked() bool { return im.link != nil }

// origin says where the facts come from, for messages: "built by api/Dockerfile" or "known
// from the image catalog: docker-library/postgres 16/trixie/Dockerfile@31041e4".
func (im *image) origin(s *diagnostics.Snapshot) string {
	if im.linked() {
		return "built by " + builtBy(s, im.link)
	}
	return "known from the image catalog: " + im.catalogSource().String()
}

// catalogSource is the catalog source that tells a catalog image's facts, for its tag.
func (im *image) catalogSource() imagecatalog.Source { return im.facts.origin }

// userFrom says where the image's user comes from, in words.
func (im *image) userFrom() string {
	if im.linked() {
		return im.user.From()
	}
	return im.facts.userFrom
}

// catalogRelated is related information at the image's reference, stating a catalog fact.
func (im *image) catalogRelated(fact string) diagnostics.Related {
	r := im.use
	r.Message = "image catalog: " + fact
	return r
}

// userRelated points at where the image's user comes from: the Dockerfile's USER line or
// FROM, or (a catalog image) the catalog entry with its provenance, at the image reference.
func (im *image) userRelated(s *diagnostics.Snapshot) diagnostics.Related {
	if !im.linked() {
		return im.catalogRelated(im.facts.describe)
	}
	return userRelated(s, im.link, im.st, im.user)
}

// linkRelated points at the evidence of the image's link (nothing for a catalog image).
func (im *image) linkRelated(s *diagnostics.Snapshot) []diagnostics.Related {
	if !im.linked() {
		return nil
	}
	return linkRelated(s, im.link)
}

// runUID is the non-root uid the image runs its process as when started as it is: its
// user's uid, or the uid its entrypoint steps down to from root when that step-down only
// runs as root (the docker-library images). 0 when not known.
func (im *image) runUID() int {
	if u := im.user; u.UID != nil && *u.UID > 0 {
		return *u.UID
	}
	if !im.linked() {
		uid, _ := im.cat.Entry.RunAsUID()
		return uid
	}
	return 0
}

// fixUID is the uid a fix writes for the image and, when it is not one the image is
// prepared to run as, a note saying so: the uid the Dockerfile gives its user (or creates, or
// its base image's), for a catalog image the uid it runs as, else the configured default.
func (im *image) fixUID(cfg *diagnostics.Config) (uid int, note string) {
	if im.linked() {
		return fixUID(im.st, im.user, cfg), ""
	}
	if uid := im.runUID(); uid > 0 {
		return uid, ""
	}
	uid, _ = cfg.User()
	if im.user.Kind == dockerfile.KindNamed {
		return uid, fmt.Sprintf("the catalog does not know the uid of %s's user %s: %d is the configured default", im.cat.Ref.Repository, im.user.Name, uid)
	}
	if sd := im.cat.Entry.StepDown; sd.Mandatory() {
		return uid, fmt.Sprintf("%s's entrypoint %s: it will not run as uid %d either", im.cat.Ref.Repository, sd.Describe(), uid)
	}
	return uid, fmt.Sprintf("%s has no non-root user of its own: %d is the configured default; check that it can write what it needs", im.cat.Ref.Repository, uid)
}

// stepDown is a catalog image's step-down (nil for a linked image: see drops).
func (im *image) stepDown() *imagecatalog.StepDown {
	if im.linked() {
		return nil
	}
	return im.cat.Entry.StepDown
}

// drop is a privilege drop (or runtime chown) of the image's entrypoint.
type drop struct {
	tool  string
	where string // "db/docker-entrypoint.sh line 5"
	env   string // the opt-in variable it needs ("" always)
	rel   diagnostics.Related
}

// drops returns the privilege drops of the image's entrypoint that run when a container with
// the environment env starts: those that always run, and the opt-in ones (minio's
// MINIO_USERNAME) whose variable env sets. Drops that only run when started as root are not
// among them: started as another uid the entrypoint goes on without them.
func (im *image) drops(s *diagnostics.Snapshot, env func(string) bool) []drop {
	var out []drop
	if !im.linked() {
		sd := im.cat.Entry.StepDown
		if sd == nil || !sd.Mandatory() && (sd.Env == "" || !env(sd.Env)) {
			return nil
		}
		where := fmt.Sprintf("%s line %d", sd.File, sd.Line)
		for _, src := range im.cat.Entry.Sources {
			if src.Role == "entrypoint" && src.Path == sd.File {
				where = fmt.Sprintf("%s line %d", src, sd.Line)
			}
		}
		return []drop{{tool: sd.Tool, where: where, env: sd.Env,
			rel: im.catalogRelated(fmt.Sprintf("the entrypoint of %s %s (%s)", im.cat.Ref, sd.Describe(), where))}}
	}
	for _, d := range im.df.PrivilegeDrops(s, im.st) {
		if !d.Mandatory() && (d.Env == "" || !env(d.Env)) {
			continue
		}
		out = append(out, drop{tool: d.Tool, where: fmt.Sprintf("%s line %d", rel(s, d.File), d.Line+1), env: d.Env,
			rel: diagnostics.Related{File: d.File, Range: d.Range, Message: fmt.Sprintf("%s needs root: %s", d.Tool, d.Text)}})
	}
	return out
}

// writes returns the paths the image prepares for its user to write (a build that creates or
// changes them and leaves them writable for that user; for a catalog image, its data
// directories), and its VOLUMEs (Op "VOLUME" when the build does not prepare them otherwise).
func (im *image) writes() []dockerfile.PathPerm {
	if !im.linked() {
		var out []dockerfile.PathPerm
		for _, p := range im.cat.Entry.Paths {
			pp := dockerfile.PathPerm{Path: p.Path, UID: p.UID, GID: p.GID, Owner: p.Owner, Mode: p.Mode, Op: "catalog"}
			if pp.Owner == "" && p.UID != nil {
				pp.Owner = strconv.Itoa(*p.UID)
			}
			if p.GID != nil {
				pp.Group = strconv.Itoa(*p.GID)
			}
			if p.Volume && p.UID == nil && p.Mode == "" {
				pp.Op = "VOLUME"
			}
			out = append(out, pp)
		}
		return out
	}
	st, u := im.st, im.user
	var out []dockerfile.PathPerm
	seen := map[string]bool{}
	for _, p := range st.WritablePaths() {
		if acc, _ := st.WriteAccess(u, p.Path); acc == dockerfile.AccessWritable && !seen[p.Path] && p.Path != "/" {
			seen[p.Path] = true
			out = append(out, p)
		}
	}
	for _, a := range st.Ancestry() {
		for _, v := range a.Volumes {
			if !seen[v.Value] {
				seen[v.Value] = true
				out = append(out, dockerfile.PathPerm{Path: v.Value, Op: "VOLUME", Range: v.Range, Instr: v.Instr})
			}
		}
	}
	return out
}

// pathRelated points at where the image prepares p: its Dockerfile line, or the catalog
// entry's provenance.
func (im *image) pathRelated(p dockerfile.PathPerm, msg string) diagnostics.Related {
	if im.linked() {
		return diagnostics.Related{File: im.link.Dockerfile, Range: p.Range, Message: msg}
	}
	return im.catalogRelated(fmt.Sprintf("%s (%s)", msg, im.catalogSource()))
}

// pathWhere names where the image prepares p, for messages: "api/Dockerfile line 3", or the
// catalog entry's provenance.
func (im *image) pathWhere(s *diagnostics.Snapshot, p dockerfile.PathPerm) string {
	if im.linked() {
		return fmt.Sprintf("%s line %d", rel(s, im.link.Dockerfile), p.Range.Start.Line+1)
	}
	return "image catalog: " + im.catalogSource().String()
}

// canWrite reports whether the runtime identity can write path in the image (its primary or
// any supplementary group counts).
func (im *image) canWrite(path string, id runtimeIdentity) bool {
	if !im.linked() {
		for _, p := range im.cat.Entry.Paths {
			if p.Path == path {
				return catalogCanWrite(p, id)
			}
		}
		return true // not a path the catalog knows: nothing says it cannot
	}
	for _, gid := range append([]int{id.gid}, id.groups...) {
		uid, g := id.uid, gid
		u := dockerfile.User{Kind: dockerfile.KindNumeric, UID: &uid, GID: &g, Value: strconv.Itoa(uid) + ":" + strconv.Itoa(g)}
		if acc, _ := im.st.WriteAccess(u, path); acc != dockerfile.AccessDenied {
			return true
		}
	}
	return false
}

// catalogCanWrite judges a catalog path's owner and mode for a runtime identity (unknown
// owner or mode: it can).
func catalogCanWrite(p imagecatalog.Path, id runtimeIdentity) bool {
	bits, err := strconv.ParseUint(p.Mode, 8, 32)
	if p.UID == nil || err != nil {
		return true
	}
	switch {
	case bits&0o002 != 0, *p.UID == id.uid && bits&0o200 != 0:
		return true
	case bits&0o020 != 0 && p.GID != nil:
		for _, g := range append([]int{id.gid}, id.groups...) {
			if g == *p.GID {
				return true
			}
		}
	}
	return false
}

// port is an EXPOSEd port of the image below 1024, with where it is declared.
type port struct {
	number int
	rel    diagnostics.Related
}

// lowPorts returns the image's EXPOSEd ports below 1024.
func (im *image) lowPorts() []port {
	var out []port
	if !im.linked() {
		for _, p := range im.cat.Entry.Ports {
			num, _, _ := strings.Cut(p, "/")
			if n, err := strconv.Atoi(num); err == nil && n > 0 && n < 1024 {
				out = append(out, port{n, im.catalogRelated(fmt.Sprintf("%s EXPOSEs %s (%s)", im.cat.Ref, p, im.catalogSource()))})
			}
		}
		return out
	}
	for _, a := range im.st.Ancestry() {
		for _, p := range a.Ports {
			if p.Number > 0 && p.Number < 1024 {
				out = append(out, port{p.Number, diagnostics.Related{File: im.link.Dockerfile, Range: p.Range, Message: "EXPOSE " + p.Value}})
			}
		}
	}
	return out
}

// bindsLowPorts reports whether the image gives a binary cap_net_bind_service (setcap).
func (im *image) bindsLowPorts() bool {
	if !im.linked() {
		return im.cat.Entry.NetBindService
	}
	for _, a := range im.st.Ancestry() {
		for _, sc := range a.Setcaps {
			if strings.Contains(strings.ToLower(sc.Caps), "net_bind_service") {
				return true
			}
		}
	}
	return false
}

// envSets returns whether a container's env sets a variable to a literal non-empty value
// (valueFrom and envFrom are not read: what they give is not known).
func envSets(container *yaml.Node) func(string) bool {
	return func(name string) bool {
		_, env := yamlnode.Get(container, "env")
		for _, item := range yamlnode.Items(env) {
			_, n := yamlnode.Get(item, "name")
			_, v := yamlnode.Get(item, "value")
			if yamlnode.Str(n) == name && yamlnode.Str(v) != "" {
				return true
			}
		}
		return false
	}
}

// imageInfo says what is known of an image a file runs, for `inspect` (Snapshot.Image).
func imageInfo(s *diagnostics.Snapshot, file, ref string) *diagnostics.ImageInfo {
	out := &diagnostics.ImageInfo{Image: ref, Source: "unknown", Kind: string(dockerfile.KindUnknown)}
	cfg := s.ConfigFor(file)
	out.FixUID, _ = cfg.User()
	im := imageOf(s, file, ref, text.Range{})
	if im == nil {
		if l := linkAt(For(s), file, ref, text.Range{}); l != nil {
			out.Source, out.Dockerfile, out.Target, out.Link = "workspace", rel(s, l.Dockerfile), l.Target, strings.ReplaceAll(evidenceWords(s, l), "`", "")
			out.From = "the Dockerfile cannot be read or parsed, or builds a Windows image"
		}
		return out
	}
	u := im.user
	out.Kind, out.User, out.UID, out.GID, out.From = string(u.Kind), u.Describe(), u.UID, u.GID, im.userFrom()
	out.FixUID, out.FixNote = im.fixUID(&cfg)
	out.NeedsRoot = len(im.drops(s, func(string) bool { return false })) > 0
	if im.linked() {
		out.Source, out.Dockerfile, out.Target, out.Link = "workspace", rel(s, im.link.Dockerfile), im.link.Target, strings.ReplaceAll(evidenceWords(s, im.link), "`", "")
		return out
	}
	e := im.cat.Entry
	out.Source, out.TagUnknown = "catalog", im.cat.TagUnknown()
	if e.StepDown != nil {
		out.StepDown = e.StepDown.Describe()
	}
	for _, src := range e.Sources {
		out.Provenance = append(out.Provenance, fmt.Sprintf("%s (%s)", src, src.Role))
	}
	return out
}
