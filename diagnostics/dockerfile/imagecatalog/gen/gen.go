package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
)

// input is sources.yaml: what the catalog is generated from.
type input struct {
	// Official lists Docker Hub official images: their tags, Git repositories, commits and
	// folders come from Repo's library/<name> at Commit (docker-library/official-images).
	Official struct {
		Repo   string          `json:"repo"`
		Images []officialImage `json:"images"`
	} `json:"official"`
	// Images are other images, each family built from one Dockerfile at a pinned commit.
	Images []vendorImage `json:"images"`
	// Apko are images built with apko from a locked configuration (Chainguard's).
	Apko []apkoImages `json:"apko,omitempty"`
}

type officialImage struct {
	Name    string   `json:"name"`
	Commit  string   `json:"commit"`            // the official-images commit whose library file is read
	Aliases []string `json:"aliases,omitempty"` // other names of the same image (normalised)
}

type vendorImage struct {
	Repos        []string `json:"repos,omitempty"`
	Namespaces   []string `json:"namespaces,omitempty"`
	RepoPatterns []string `json:"repoPatterns,omitempty"`
	Families     []family `json:"families"`
}

type family struct {
	Tags        []string `json:"tags,omitempty"`
	TagPatterns []string `json:"tagPatterns,omitempty"`
	Default     bool     `json:"default,omitempty"`
	Example     string   `json:"example"`
	Source      source   `json:"source"`
	// Target is the build stage the image is built from ("" the last).
	Target string `json:"target,omitempty"`
	// Note is added to the entry's why (what the family is).
	Note string `json:"note,omitempty"`
	// Args are build arguments, as `docker build --build-arg` gives them: the default of the
	// ARG of that name is replaced (on its line, so line numbers hold).
	Args map[string]string `json:"args,omitempty"`
}

type source struct {
	Repo   string `json:"repo"`
	Commit string `json:"commit"`
	Path   string `json:"path"`
}

// row is one Dockerfile (or OCI image) to read, and the tags it is for.
type row struct {
	image   *plan
	tags    []string
	src     source
	file    string // the Dockerfile (or index.json) path in src.Repo
	oci     bool
	target  string
	note    string
	args    map[string]string
	library *imagecatalog.Source // the library file that maps the tags to it
	// patterns/def/example for vendor families
	patterns []string
	def      bool
	example  string

	done  bool
	facts *facts
	err   error
}

// plan is one image of the input: its rows, and its entries once they are all read.
type plan struct {
	name         string // for messages
	repos        []string
	namespaces   []string
	repoPatterns []string
	official     bool
	rows         []*row
	entries      []*imagecatalog.Entry
	done         bool
}

type generator struct {
	m       *mirrors
	plans   []*plan
	planned map[string]*plan // by repository
	overlay []*imagecatalog.Entry
	index   *imagecatalog.Index
	strict  bool // defer rows whose base is planned but not generated yet
	log     func(format string, args ...any)
}

// generate builds the catalog from the input and overlay.
func generate(m *mirrors, in *input, overlay []*imagecatalog.Entry, logf func(string, ...any)) (*imagecatalog.Catalog, error) {
	g := &generator{m: m, planned: map[string]*plan{}, overlay: overlay, log: logf}
	if err := g.plan(in); err != nil {
		return nil, err
	}
	g.reindex()
	// Bases first: a row whose base image is planned waits until its base's entries exist.
	g.strict = true
	for {
		progress := false
		for _, p := range g.plans {
			if p.done {
				continue
			}
			for _, r := range p.rows {
				if !r.done {
					g.read(r)
					progress = progress || r.done
				}
			}
			if g.finish(p) {
				progress = true
			}
		}
		if !progress {
			if !g.strict {
				break
			}
			g.strict = false // a cycle, or a base that never comes: read what is left as it is
		}
		if allDone(g.plans) {
			break
		}
	}
	cat := &imagecatalog.Catalog{Version: 1}
	for _, p := range g.plans {
		for _, r := range p.rows {
			if r.err != nil {
				g.log("skipped %s %v: %v", p.name, r.tags[:min(len(r.tags), 3)], r.err)
			}
		}
		cat.Images = append(cat.Images, p.entries...)
	}
	cat.Images = append(cat.Images, overlay...)
	if err := cat.Validate(); err != nil {
		return nil, err
	}
	return cat, nil
}

func allDone(ps []*plan) bool {
	for _, p := range ps {
		if !p.done {
			return false
		}
	}
	return true
}

// withPartial is the index with the entries of p's rows read so far added.
func (g *generator) withPartial(p *plan) *imagecatalog.Index {
	cat := &imagecatalog.Catalog{Version: 1, Images: slices.Clone(g.overlay)}
	for _, q := range g.plans {
		if q != p {
			cat.Images = append(cat.Images, q.entries...)
		}
	}
	saved := p.entries
	if p.official {
		cat.Images = append(cat.Images, officialEntries(p)...)
	} else {
		cat.Images = append(cat.Images, vendorEntries(p)...)
	}
	p.entries = saved
	return imagecatalog.NewIndex(cat)
}

func (g *generator) reindex() {
	cat := &imagecatalog.Catalog{Version: 1, Images: slices.Clone(g.overlay)}
	for _, p := range g.plans {
		cat.Images = append(cat.Images, p.entries...)
	}
	g.index = imagecatalog.NewIndex(cat)
}

// plan lists the rows of every image of the input.
func (g *generator) plan(in *input) error {
	for _, e := range g.overlay {
		for _, r := range e.Repositories {
			g.planned[r] = &plan{name: r, done: true}
		}
	}
	for _, o := range in.Official.Images {
		p := &plan{name: o.Name, repos: append([]string{o.Name}, o.Aliases...), official: true}
		lib := "library/" + o.Name
		b, err := g.m.read(in.Official.Repo, o.Commit, lib)
		if err != nil {
			return fmt.Errorf("official image %s: %v", o.Name, err)
		}
		libSrc := &imagecatalog.Source{Repo: in.Official.Repo, Commit: o.Commit, Path: lib, Role: "library"}
		for _, e := range parseLibrary(b) {
			if e.Windows {
				continue // Windows images are not judged by the Linux rules
			}
			r := &row{image: p, tags: e.Tags, library: libSrc, src: source{Repo: e.GitRepo, Commit: e.GitCommit, Path: e.Directory}}
			r.oci = e.Builder == "oci-import"
			r.file = path.Join(e.Directory, e.File)
			if e.GitRepo == "" {
				r.done, r.err = true, fmt.Errorf("its Git repository is not on GitHub")
			}
			p.rows = append(p.rows, r)
		}
		g.add(p)
	}
	for i, v := range in.Images {
		name := first(v.Repos, v.Namespaces, v.RepoPatterns)
		if name == "" {
			return fmt.Errorf("image %d: no repository", i)
		}
		p := &plan{name: name, repos: v.Repos, namespaces: v.Namespaces, repoPatterns: v.RepoPatterns}
		for _, f := range v.Families {
			p.rows = append(p.rows, &row{image: p, tags: f.Tags, patterns: f.TagPatterns, def: f.Default, example: f.Example,
				src: f.Source, file: f.Source.Path, target: f.Target, note: f.Note, args: f.Args})
		}
		g.add(p)
	}
	for _, a := range in.Apko {
		if err := g.apkoPlans(a); err != nil {
			return err
		}
	}
	return nil
}

func sortStrings(s []string) { slices.Sort(s) }

func first(ls ...[]string) string {
	for _, l := range ls {
		if len(l) > 0 {
			return l[0]
		}
	}
	return ""
}

func (g *generator) add(p *plan) {
	g.plans = append(g.plans, p)
	for _, r := range p.repos {
		g.planned[r] = p
	}
}

// finish makes the entries of a plan whose rows are all read.
func (g *generator) finish(p *plan) bool {
	for _, r := range p.rows {
		if !r.done {
			return false
		}
	}
	p.done = true
	if p.official {
		p.entries = officialEntries(p)
	} else {
		p.entries = vendorEntries(p)
	}
	if len(p.entries) > 0 {
		g.reindex()
	}
	return true
}

// officialEntries groups the rows of an official image with the same facts into one entry
// each; the entry holding "latest" (or else the first) is the default.
func officialEntries(p *plan) []*imagecatalog.Entry {
	var out []*imagecatalog.Entry
	keys := map[string]*imagecatalog.Entry{}
	for _, r := range p.rows {
		if r.facts == nil {
			continue
		}
		k := r.facts.key()
		e := keys[k]
		if e == nil {
			e = r.facts.entry()
			e.Repositories = p.repos
			e.Example = p.repos[0] + ":" + r.tags[0]
			keys[k] = e
			out = append(out, e)
		} else {
			e.Sources = mergeSources(e.Sources, r.facts.sources)
		}
		for _, t := range r.tags {
			if !slices.Contains(e.Tags, t) && !tagTaken(out, t) {
				e.Tags = append(e.Tags, t)
			}
		}
	}
	def := -1
	for i, e := range out {
		if slices.Contains(e.Tags, "latest") {
			def = i
		}
	}
	if def < 0 && len(out) > 0 {
		def = 0
	}
	if def >= 0 {
		out[def].Default = true
	}
	return out
}

func tagTaken(es []*imagecatalog.Entry, t string) bool {
	for _, e := range es {
		if slices.Contains(e.Tags, t) {
			return true
		}
	}
	return false
}

func vendorEntries(p *plan) []*imagecatalog.Entry {
	var out []*imagecatalog.Entry
	for _, r := range p.rows {
		if r.facts == nil {
			continue
		}
		e := r.facts.entry()
		e.Repositories, e.Namespaces, e.RepoPatterns = p.repos, p.namespaces, p.repoPatterns
		e.Tags, e.TagPatterns, e.Default, e.Example = r.tags, r.patterns, r.def, r.example
		if r.note != "" {
			e.Why = r.note + ": " + e.Why
		}
		out = append(out, e)
	}
	return out
}

func mergeSources(a, b []imagecatalog.Source) []imagecatalog.Source {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// facts are what one Dockerfile (or OCI image config) says.
type facts struct {
	User           imagecatalog.User
	Users          []imagecatalog.Account
	StepDown       *imagecatalog.StepDown
	Paths          []imagecatalog.Path
	Ports          []string
	NetBindService bool
	OpenShift      imagecatalog.OpenShift
	Why            string
	sources        []imagecatalog.Source
}

// key is what two rows must share to be one entry (the step-down's line may move).
func (f *facts) key() string {
	c := *f
	if c.StepDown != nil {
		sd := *c.StepDown
		sd.Line = 0
		c.StepDown = &sd
	}
	b, _ := json.Marshal(struct {
		U  imagecatalog.User
		A  []imagecatalog.Account
		S  *imagecatalog.StepDown
		P  []imagecatalog.Path
		O  []string
		NB bool
		X  imagecatalog.OpenShift
		W  string
	}{c.User, c.Users, c.StepDown, c.Paths, c.Ports, c.NetBindService, c.OpenShift, c.Why})
	return string(b)
}

func (f *facts) entry() *imagecatalog.Entry {
	return &imagecatalog.Entry{User: f.User, Users: f.Users, StepDown: f.StepDown, Paths: f.Paths, Ports: f.Ports, NetBindService: f.NetBindService,
		OpenShift: f.OpenShift, Why: f.Why, Sources: slices.Clone(f.sources)}
}

// errDeferred: the row's base image is planned and not generated yet.
var errDeferred = fmt.Errorf("deferred")

// read reads one row, unless its base image is still to come.
func (g *generator) read(r *row) {
	var f *facts
	var err error
	if r.oci {
		f, err = g.readOCI(r)
	} else {
		f, err = g.readDockerfile(r)
	}
	if err == errDeferred {
		return
	}
	r.done, r.facts, r.err = true, f, err
	if f != nil && r.library != nil {
		f.sources = append([]imagecatalog.Source{*r.library}, f.sources...)
	}
}

// baseLookup is the model's base-image lookup during generation: the entries made so far,
// for a tag they list or match. A tag the catalog does not list is taken only when every
// family of the repository has the same user (the OS images, whose tags all run as root).
func (g *generator) baseLookup(ref string) *dockerfile.BaseImage {
	res := g.index.Lookup(ref)
	if res.Entry == nil {
		return nil
	}
	return dockerfile.BaseImageForFROM(res)
}

func (g *generator) readDockerfile(r *row) (*facts, error) {
	if !g.m.has(r.src.Repo, r.src.Commit) {
		return nil, fmt.Errorf("commit %s is not in the mirror of %s", short(r.src.Commit), r.src.Repo)
	}
	b, err := g.m.read(r.src.Repo, r.src.Commit, r.file)
	if err != nil {
		return nil, err
	}
	text := string(b)
	if len(r.args) > 0 {
		text = withArgs(text, r.args)
	}
	mdl := dockerfile.ParseWith("/"+r.file, text, g.baseLookup)
	if mdl.Fatal {
		return nil, fmt.Errorf("%s does not parse", r.file)
	}
	st := mdl.Built(r.target)
	if st == nil {
		return nil, fmt.Errorf("%s has no stage", r.file)
	}
	if st.Windows {
		return nil, fmt.Errorf("a Windows image")
	}
	anc := st.Ancestry()
	root := anc[len(anc)-1]
	if root.BaseUnresolved {
		return nil, fmt.Errorf("FROM %s has an ARG without default", root.BaseRaw)
	}
	baseRef, _ := imagecatalog.Normalize(root.BaseName)
	if root.Base == nil && !root.Scratch && g.planned[baseRef.Repository] == r.image && !r.image.done {
		// FROM another tag of the same image (debian:bookworm-backports FROM debian:bookworm):
		// read it against the rows of the image read so far.
		saved := g.index
		g.index = g.withPartial(r.image)
		mdl = dockerfile.ParseWith("/"+r.file, text, g.baseLookup)
		g.index = saved
		if st = mdl.Built(r.target); st == nil {
			return nil, fmt.Errorf("%s has no stage", r.file)
		}
		anc = st.Ancestry()
		root = anc[len(anc)-1]
	}
	if root.Base == nil && !root.Scratch {
		if p := g.planned[baseRef.Repository]; p != nil && !p.done && g.strict {
			return nil, errDeferred
		}
	}
	f := &facts{}
	dfSrc := imagecatalog.Source{Repo: r.src.Repo, Commit: r.src.Commit, Path: r.file, Role: "dockerfile"}
	f.sources = append(f.sources, dfSrc)
	var base *imagecatalog.Entry
	if root.Base != nil {
		base = root.Base.Entry
		if len(base.Sources) > 0 {
			bs := base.OriginFor(baseRef.Tag)
			bs.Role = "base"
			f.sources = append(f.sources, bs)
		}
	}

	// The users the build creates with a fixed uid, the base image's first.
	if base != nil {
		f.Users = slices.Clone(base.Users)
	}
	for _, c := range st.CreatedUsers() {
		if c.UID == nil || c.Name == "" {
			continue
		}
		f.Users = slices.DeleteFunc(f.Users, func(a imagecatalog.Account) bool { return a.Name == c.Name })
		f.Users = append(f.Users, imagecatalog.Account{Name: c.Name, UID: *c.UID, GID: c.GID})
	}

	// The user.
	u := st.User()
	switch {
	case u.Kind == dockerfile.KindUnknown:
		return nil, fmt.Errorf("the user is not known: %s", u.From())
	case u.Source == dockerfile.SourceBase && base != nil:
		f.User = base.User
		f.Why = fmt.Sprintf("no USER: inherited from the base image %s (%s)", root.BaseName, userWords(base.User))
		if root.Base.TagUnknown {
			f.Why = fmt.Sprintf("no USER: inherited from the base image %s, a tag the catalog does not list; every family of %s runs as %s", root.BaseName, baseRef.Repository, userWords(base.User))
		}
	case u.Source == dockerfile.SourceDefault:
		z := 0
		f.User = imagecatalog.User{Config: "", UID: &z, Name: "root"}
		f.Why = "no USER in an image built FROM scratch: root"
	default:
		f.User = userOf(u)
		f.Why = fmt.Sprintf("USER %s on line %d of the Dockerfile", strings.TrimSpace(u.Raw), u.Instr.Line()+1)
		if u.Value != strings.TrimSpace(u.Raw) {
			f.Why += " (" + u.Value + ")"
		}
		if u.Source == dockerfile.SourceStage {
			f.Why = fmt.Sprintf("%s, in stage %s", f.Why, u.Instr.Stage.Label())
		}
	}
	for _, a := range f.Users {
		switch {
		case f.User.Name == "" && f.User.UID != nil && *f.User.UID == a.UID:
			f.User.Name = a.Name
		case f.User.UID == nil && f.User.Name == a.Name && !f.User.Root():
			uid := a.UID
			f.User.UID = &uid
			if f.User.GID == nil {
				f.User.GID = a.GID
			}
		}
	}

	// The step-down.
	ownEntrypoint := false
	for _, a := range anc {
		ownEntrypoint = ownEntrypoint || a.Entrypoint != nil
	}
	var drops []dockerfile.ScriptDrop
	var dropFile []string
	for _, d := range mdl.InstructionDrops(st) {
		drops, dropFile = append(drops, d), append(dropFile, r.file)
	}
	dir := path.Dir(r.file)
	for _, s := range mdl.EntrypointScripts(st) {
		p := path.Join(dir, s)
		b, err := g.m.read(r.src.Repo, r.src.Commit, p)
		if err != nil {
			continue // not in the build context at that path
		}
		f.sources = append(f.sources, imagecatalog.Source{Repo: r.src.Repo, Commit: r.src.Commit, Path: p, Role: "entrypoint"})
		for _, d := range dockerfile.ScriptDrops(string(b)) {
			drops, dropFile = append(drops, d), append(dropFile, p)
		}
	}
	// The drop cited: one that always runs, else an opt-in one, else one that only runs as root.
	// An opt-in whose variable the image's ENV sets always runs.
	rank := func(d dockerfile.ScriptDrop) int {
		switch {
		case d.Conditional:
			return 2
		case d.Env != "":
			return 1
		}
		return 0
	}
	pick := -1
	for i, d := range drops {
		if d.Tool == "sudo" {
			continue // raises privileges, does not step down
		}
		if v, ok := st.RuntimeEnv(d.Env); ok && v != "" {
			drops[i].Env = ""
			d.Env = ""
		}
		if pick < 0 || rank(d) < rank(drops[pick]) {
			pick = i
		}
	}
	if pick >= 0 {
		d := drops[pick]
		sd := &imagecatalog.StepDown{Tool: d.Tool, Conditional: d.Conditional, Env: d.Env, User: d.User, File: dropFile[pick], Line: d.Line + 1}
		if sd.File == r.file && d.Command == nil {
			sd.Line = d.Line + 1
		}
		name, group, _ := strings.Cut(d.User, ":")
		if isDigits(name) {
			n, _ := strconv.Atoi(name)
			sd.UID = &n
		}
		for _, a := range f.Users {
			if name != "" && (a.Name == name || sd.UID != nil && a.UID == *sd.UID) {
				uid := a.UID
				sd.UID, sd.GID = &uid, a.GID
			}
		}
		if isDigits(group) {
			n, _ := strconv.Atoi(group)
			sd.GID = &n
		}
		f.StepDown = sd
	} else if !ownEntrypoint && base != nil && base.StepDown != nil {
		f.StepDown = base.StepDown
	}

	// Paths: the base image's, then this image's VOLUMEs and the paths it prepares for writing.
	var paths []imagecatalog.Path
	at := map[string]int{}
	put := func(p imagecatalog.Path) {
		if i, ok := at[p.Path]; ok {
			p.Volume = p.Volume || paths[i].Volume
			paths[i] = p
			return
		}
		at[p.Path] = len(paths)
		paths = append(paths, p)
	}
	if base != nil {
		for _, p := range base.Paths {
			put(p)
		}
	}
	for i := len(anc) - 1; i >= 0; i-- {
		for _, v := range anc[i].Volumes {
			for _, one := range strings.Fields(v.Value) {
				if strings.HasPrefix(one, "/") && !strings.Contains(one, "$") {
					p := pathOf(st, path.Clean(one))
					p.Volume = true
					if prev, ok := at[p.Path]; ok && p.Mode == "" && p.UID == nil {
						p = paths[prev]
						p.Volume = true
					}
					put(p)
				}
			}
		}
	}
	for _, wp := range st.WritablePaths() {
		if skipPath(wp.Path) {
			continue
		}
		p := pathOf(st, wp.Path)
		if _, ok := at[p.Path]; ok || writableByOthers(p) {
			if i, ok := at[p.Path]; ok {
				p.Volume = paths[i].Volume
			}
			put(p)
		}
	}
	f.Paths = paths

	// Ports.
	if base != nil {
		f.Ports = slices.Clone(base.Ports)
	}
	for i := len(anc) - 1; i >= 0; i-- {
		for _, p := range anc[i].Ports {
			num, proto, _ := strings.Cut(p.Value, "/")
			if proto == "" {
				proto = "tcp"
			}
			if num == "" || strings.Trim(num, "0123456789-") != "" {
				continue
			}
			if s := num + "/" + strings.ToLower(proto); !slices.Contains(f.Ports, s) {
				f.Ports = append(f.Ports, s)
			}
		}
	}
	// cap_net_bind_service on a binary (the base image's binaries keep theirs).
	f.NetBindService = base != nil && base.NetBindService
	for _, a := range anc {
		for _, sc := range a.Setcaps {
			f.NetBindService = f.NetBindService || strings.Contains(strings.ToLower(sc.Caps), "net_bind_service")
		}
	}
	f.OpenShift = openShift(f)
	return f, nil
}

// withArgs gives the ARGs named in args their value, on their own lines.
func withArgs(src string, args map[string]string) string {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 2 || !strings.EqualFold(f[0], "ARG") {
			continue
		}
		name, _, _ := strings.Cut(f[1], "=")
		if v, ok := args[name]; ok {
			lines[i] = "ARG " + name + "=" + v
		}
	}
	return strings.Join(lines, "\n")
}

func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

func skipPath(p string) bool {
	for _, d := range []string{"/tmp", "/var/tmp", "/dev", "/proc", "/sys", "/run/secrets"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// writableByOthers reports whether a path is prepared for a user other than root: owned
// by one, or group- or world-writable.
func writableByOthers(p imagecatalog.Path) bool {
	if p.UID != nil && *p.UID != 0 || p.Owner != "" && p.Owner != "root" {
		return true
	}
	if p.Mode != "" {
		n, _ := strconv.ParseUint(p.Mode, 8, 32)
		return n&0o022 != 0
	}
	return false
}

func pathOf(st *dockerfile.Stage, p string) imagecatalog.Path {
	out := imagecatalog.Path{Path: p}
	perm := st.PermOf(p)
	if !perm.Known() {
		return out
	}
	if o := perm.Owner; o != nil {
		out.UID = o.UID
		if o.Kind == dockerfile.KindNamed {
			out.Owner = o.Name
		} else if o.Kind == dockerfile.KindRoot {
			z := 0
			out.UID = &z
		}
	} else if perm.GIDAssumed {
		z := 0
		out.UID = &z
	}
	out.GID = perm.GID
	if perm.Bits >= 0 {
		out.Mode = fmt.Sprintf("%04o", perm.Bits&0o7777)
	}
	return out
}

func userOf(u dockerfile.User) imagecatalog.User {
	out := imagecatalog.User{Config: u.Value, UID: u.UID, GID: u.GID, Name: u.Name}
	if u.Kind == dockerfile.KindRoot {
		z := 0
		out.UID, out.Name = &z, "root"
	}
	if u.Kind == dockerfile.KindNumeric && u.Name == "" {
		out.Name = ""
	}
	return out
}

func userWords(u imagecatalog.User) string {
	switch {
	case u.Root():
		return "root"
	case u.UID != nil && u.Name != "":
		return fmt.Sprintf("%s, uid %d", u.Name, *u.UID)
	case u.UID != nil:
		return fmt.Sprintf("uid %d", *u.UID)
	}
	return u.Config
}

// openShift judges readiness for a random uid with gid 0.
func openShift(f *facts) imagecatalog.OpenShift {
	if sd := f.StepDown; sd.Mandatory() {
		return imagecatalog.OpenShift{Why: fmt.Sprintf("the entrypoint always switches user with %s (%s line %d): started as a random uid it fails", sd.Tool, path.Base(sd.File), sd.Line)}
	}
	var good, bad []string
	for _, p := range f.Paths {
		if p.Mode == "" {
			continue
		}
		n, _ := strconv.ParseUint(p.Mode, 8, 32)
		switch {
		case n&0o002 != 0:
			good = append(good, p.Path+" (world-writable)")
		case n&0o020 != 0 && p.GID != nil && *p.GID == 0:
			good = append(good, p.Path+" (group 0, group-writable)")
		default:
			bad = append(bad, p.Path+" "+describePerm(p))
		}
	}
	switch {
	case len(bad) > 0:
		return imagecatalog.OpenShift{Why: "not writable by group 0: " + strings.Join(bad, ", ")}
	case len(good) > 0:
		why := strings.Join(good, ", ")
		switch sd := f.StepDown; {
		case sd != nil && sd.Env != "":
			why += "; the step-down only runs when " + sd.Env + " is set"
		case sd != nil:
			why += "; the step-down only runs as root"
		}
		return imagecatalog.OpenShift{Ready: true, Why: why}
	}
	return imagecatalog.OpenShift{Why: "the Dockerfile prepares no path for an arbitrary uid with group 0 to write"}
}

func describePerm(p imagecatalog.Path) string {
	var parts []string
	if p.Owner != "" {
		parts = append(parts, "owner "+p.Owner)
	} else if p.UID != nil {
		parts = append(parts, "uid "+strconv.Itoa(*p.UID))
	}
	if p.GID != nil {
		parts = append(parts, "gid "+strconv.Itoa(*p.GID))
	}
	parts = append(parts, "mode "+p.Mode)
	return "(" + strings.Join(parts, ", ") + ")"
}

// readOCI reads an image imported from an OCI layout (Builder: oci-import): its config
// blob's User, ExposedPorts and Volumes.
func (g *generator) readOCI(r *row) (*facts, error) {
	if !g.m.has(r.src.Repo, r.src.Commit) {
		return nil, fmt.Errorf("commit %s is not in the mirror of %s", short(r.src.Commit), r.src.Repo)
	}
	dir := path.Dir(r.file)
	blob := func(digest string) ([]byte, string, error) {
		alg, hex, _ := strings.Cut(digest, ":")
		p := path.Join(dir, "blobs", alg, hex)
		b, err := g.m.read(r.src.Repo, r.src.Commit, p)
		for range 4 { // a blob may be a symbolic link to the file ("../image-config.json")
			t := string(b)
			if err != nil || len(t) == 0 || len(t) > 256 || t[0] == '{' || strings.ContainsAny(t, "\n{") {
				break
			}
			p = path.Join(path.Dir(p), t)
			b, err = g.m.read(r.src.Repo, r.src.Commit, p)
		}
		return b, p, err
	}
	var idx struct {
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Platform  *struct {
				Architecture string `json:"architecture"`
				OS           string `json:"os"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	b, err := g.m.read(r.src.Repo, r.src.Commit, r.file)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %v", r.file, err)
	}
	var digest string
	for _, m := range idx.Manifests {
		if m.Platform == nil || m.Platform.Architecture == "amd64" || m.Platform.Architecture == "" {
			digest = m.Digest
			break
		}
	}
	if digest == "" {
		return nil, fmt.Errorf("%s: no amd64 manifest", r.file)
	}
	for range 3 { // an index may point at an index
		mb, _, err := blob(digest)
		if err != nil {
			return nil, err
		}
		var man struct {
			Manifests []struct {
				Digest   string `json:"digest"`
				Platform *struct {
					Architecture string `json:"architecture"`
				} `json:"platform"`
			} `json:"manifests"`
			Config *struct {
				Digest string `json:"digest"`
			} `json:"config"`
		}
		if err := json.Unmarshal(mb, &man); err != nil {
			return nil, err
		}
		if man.Config == nil {
			digest = ""
			for _, m := range man.Manifests {
				if m.Platform == nil || m.Platform.Architecture == "amd64" {
					digest = m.Digest
					break
				}
			}
			if digest == "" {
				return nil, fmt.Errorf("%s: no amd64 manifest", r.file)
			}
			continue
		}
		cb, cpath, err := blob(man.Config.Digest)
		if err != nil {
			return nil, err
		}
		var cfg struct {
			Config struct {
				User         string              `json:"User"`
				ExposedPorts map[string]struct{} `json:"ExposedPorts"`
				Volumes      map[string]struct{} `json:"Volumes"`
			} `json:"config"`
		}
		if err := json.Unmarshal(cb, &cfg); err != nil {
			return nil, err
		}
		f := &facts{sources: []imagecatalog.Source{{Repo: r.src.Repo, Commit: r.src.Commit, Path: cpath, Role: "dockerfile"}}}
		f.User = imagecatalog.User{Config: cfg.Config.User}
		if f.User.Root() {
			z := 0
			f.User.UID, f.User.Name = &z, "root"
			f.Why = "the image config (an OCI image imported as it is) sets no User: root"
		} else {
			return nil, fmt.Errorf("%s: User %q: only root images are read from OCI configs", cpath, cfg.Config.User)
		}
		for _, p := range sortedKeys(cfg.Config.ExposedPorts) {
			f.Ports = append(f.Ports, p)
		}
		for _, v := range sortedKeys(cfg.Config.Volumes) {
			f.Paths = append(f.Paths, imagecatalog.Path{Path: path.Clean(v), Volume: true})
		}
		f.OpenShift = openShift(f)
		return f, nil
	}
	return nil, fmt.Errorf("%s: nested indexes", r.file)
}

func sortedKeys(m map[string]struct{}) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// encode writes the catalog compactly, one entry a line.
func encode(c *imagecatalog.Catalog) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"version\":%d,\"images\":[\n", c.Version)
	for i, e := range c.Images {
		j, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		b.Write(j)
		if i < len(c.Images)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	return b.Bytes(), nil
}
