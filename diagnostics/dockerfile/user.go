package dockerfile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// UserKind classifies an effective user.
type UserKind string

const (
	KindRoot    UserKind = "root"
	KindNumeric UserKind = "numeric"
	KindNamed   UserKind = "named"
	KindUnknown UserKind = "unknown"
)

// Source says where an effective user comes from.
type Source string

const (
	SourceUSER    Source = "USER"
	SourceStage   Source = "stage"
	SourceBase    Source = "base-image"
	SourceDefault Source = "default"
)

// User is an effective user.
type User struct {
	Kind  UserKind
	UID   *int
	GID   *int
	Name  string // the user name (named users; also known names of numeric users)
	Group string // the group as written after ':' ("" when none)
	Value string // the user string after expansion ("" when unknown)
	Raw   string // as written in the USER instruction

	Source Source
	Instr  *Instruction // the USER instruction that set it (also when inherited through stages)
	Image  string       // the base image it is inherited from (SourceBase)
	// Unresolved names a variable without a value that the USER argument uses.
	Unresolved string
	Windows    bool
}

// NonRoot reports whether the user is known not to be root.
func (u User) NonRoot() bool { return u.Kind == KindNumeric || u.Kind == KindNamed }

// Range is the USER argument's range (zero when the user does not come from a USER line).
func (u User) Range() text.Range {
	if u.Instr == nil {
		return text.Range{}
	}
	return u.Instr.ArgsRange()
}

// UserPartRange is the range of the user part of the USER argument (before ':').
func (u User) UserPartRange() text.Range {
	if u.Instr == nil {
		return text.Range{}
	}
	in := u.Instr
	arg := in.Stage.model.src[in.ArgsAt:max(in.ArgsAt, in.FirstEnd)]
	if i := strings.IndexByte(arg, ':'); i >= 0 {
		arg = arg[:i]
	}
	return in.Stage.model.lines.RangeOf(in.ArgsAt, in.ArgsAt+len(arg))
}

// Describe is a short human description: "root (uid 0)", "uid 1001", "app (uid 1000)".
func (u User) Describe() string {
	switch u.Kind {
	case KindRoot:
		return "root (uid 0)"
	case KindNumeric:
		s := "uid " + strconv.Itoa(*u.UID)
		if u.GID != nil {
			s += ", gid " + strconv.Itoa(*u.GID)
		}
		return s
	case KindNamed:
		if u.UID != nil {
			return fmt.Sprintf("%s (uid %d)", u.Name, *u.UID)
		}
		return u.Name
	}
	if u.Unresolved != "" {
		return "unknown (${" + u.Unresolved + "} has no default)"
	}
	return "unknown"
}

// From says where the user comes from, in words.
func (u User) From() string {
	switch u.Source {
	case SourceUSER:
		return fmt.Sprintf("USER on line %d", u.Instr.Line()+1)
	case SourceStage:
		if u.Instr != nil {
			return fmt.Sprintf("stage %s (USER on line %d)", u.Instr.Stage.Label(), u.Instr.Line()+1)
		}
		return "an earlier stage"
	case SourceBase:
		if u.Kind == KindUnknown {
			return fmt.Sprintf("base image %s, whose user is not known", u.Image)
		}
		return "base image " + u.Image
	}
	return "Docker's default (no USER anywhere)"
}

// Initial user of a stage.
func (m *Model) initialUser(st *Stage) User {
	switch {
	case st.Parent != nil:
		u := st.Parent.User()
		if u.Source == SourceUSER {
			u.Source = SourceStage
		}
		return u
	case st.Scratch:
		z := 0
		return User{Kind: KindRoot, UID: &z, Name: "root", Source: SourceDefault, Image: "scratch"}
	case st.Base != nil:
		return st.Base.UserOf(st.BaseName)
	}
	img := st.BaseName
	if st.BaseUnresolved {
		img = st.BaseRaw
	}
	return User{Kind: KindUnknown, Source: SourceBase, Image: img, Windows: st.Windows}
}

// parseUserString classifies "uid[:gid]" or "name[:group]".
func parseUserString(v string) User {
	u := User{Value: v}
	user, group, hasGroup := strings.Cut(v, ":")
	if hasGroup {
		u.Group = group
		if g, err := strconv.Atoi(group); err == nil && g >= 0 {
			u.GID = &g
		} else if group == "root" {
			z := 0
			u.GID = &z
		}
	}
	switch {
	case user == "":
		// An empty user (USER "", ":0", or a variable that expands to nothing) is root for
		// the runtime: the image config sets no user.
		z := 0
		u.Kind, u.UID, u.Name = KindRoot, &z, "root"
	case isDigits(user):
		n, err := strconv.Atoi(user)
		if err != nil {
			u.Kind = KindUnknown
			return u
		}
		u.UID = &n
		u.Kind = KindNumeric
		if n == 0 {
			u.Kind = KindRoot
			u.Name = "root"
		}
	case user == "root":
		z := 0
		u.UID = &z
		u.Kind = KindRoot
		u.Name = "root"
	default:
		u.Kind = KindNamed
		u.Name = user
		if id, ok := wellKnownUsers[user]; ok {
			n := id.uid
			u.UID = &n
		}
	}
	return u
}

// wellKnownUsers are names whose uid and primary gid are the same on the common
// distributions (nobody:nogroup or nobody:nobody is 65534:65534; distroless's nonroot is
// 65532:65532).
var wellKnownUsers = map[string]struct{ uid, gid int }{"nobody": {65534, 65534}, "nonroot": {65532, 65532}}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// userAfter is the user in force after a USER instruction.
func (in *Instruction) userAfter() User {
	if in.Cmd != "user" {
		return in.User()
	}
	if in.after == nil {
		u := in.Stage.userOf(in)
		in.after = &u
	}
	return *in.after
}

func (st *Stage) userOf(in *Instruction) User {
	m := st.model
	lex := shell.NewLex(m.Escape)
	raw := m.src[in.ArgsAt:max(in.ArgsAt, in.FirstEnd)]
	if in.Node.EndLine != in.Node.StartLine || raw == "" {
		if a, ok := in.Parsed.(*instructions.UserCommand); ok {
			raw = a.User
			if i := commentStart(raw); i >= 0 {
				raw = strings.TrimRight(raw[:i], " \t")
			}
		}
	}
	env := st.env[:in.envLen]
	out := st.outOfScope(raw, env)
	if len(out) > 0 {
		env = slices.Clip(env) // BuildKit expands them to nothing: set them empty
		for _, k := range out {
			env = append(env, Var{Name: k, Set: true, Arg: true})
		}
	}
	val, unresolved := expand(lex, raw, envView{env})
	u := parseUserString(val)
	if unresolved != "" {
		u = User{Kind: KindUnknown, Unresolved: unresolved, Value: val}
	}
	u.Raw = strings.Clone(raw) // not a slice of the source, which later versions' models do not keep
	u.Source = SourceUSER
	u.Instr = in
	u.Windows = st.Windows
	if strings.EqualFold(val, "ContainerUser") || strings.EqualFold(val, "ContainerAdministrator") {
		u.Windows = true
	}
	if u.Kind == KindNamed && u.UID == nil {
		if cu := st.findUser(u.Name, in); cu != nil {
			u.UID = cu.UID
			if u.GID == nil && u.Group == "" {
				u.GID = cu.GID
			}
		} else if a := st.baseAccount(func(a imagecatalog.Account) bool { return a.Name == u.Name }); a != nil {
			uid := a.UID
			u.UID = &uid
			if u.GID == nil && u.Group == "" {
				u.GID = a.GID
			}
		}
	}
	if u.GID == nil && u.Group != "" && !isDigits(u.Group) {
		if g := st.findGroup(u.Group); g != nil {
			u.GID = g.GID
		}
	}
	if u.Kind == KindNumeric && u.Name == "" {
		for _, a := range st.Ancestry() {
			for _, c := range a.Created {
				if c.UID != nil && *c.UID == *u.UID {
					u.Name = c.Name
					if u.Group == "" {
						u.GID = c.GID // no group given: the user's primary group from /etc/passwd
					}
				}
			}
		}
		if u.Name == "" {
			if a := st.baseAccount(func(a imagecatalog.Account) bool { return a.UID == *u.UID }); a != nil {
				u.Name = a.Name
				if u.Group == "" {
					u.GID = a.GID
				}
			}
		}
	}
	return u
}

// baseAccount finds a user of the base image's /etc/passwd (the catalog's Users of the
// entry the root of the stage's ancestry is built FROM) that match accepts.
func (st *Stage) baseAccount(match func(imagecatalog.Account) bool) *imagecatalog.Account {
	anc := st.Ancestry()
	root := anc[len(anc)-1]
	if root.Base == nil || root.Base.Entry == nil {
		return nil
	}
	for i, a := range root.Base.Entry.Users {
		if match(a) {
			return &root.Base.Entry.Users[i]
		}
	}
	return nil
}

// OutOfScope names the global ARGs (declared before the first FROM) that the USER argument
// uses and its stage does not declare: they expand to nothing there.
func (u User) OutOfScope() []string {
	if u.Instr == nil || u.Instr.Cmd != "user" {
		return nil
	}
	st := u.Instr.Stage
	return st.outOfScope(u.Raw, st.env[:u.Instr.envLen])
}

// outOfScope returns the global ARGs that word uses (without a default) and env, the stage's
// variables in scope, does not declare: an ARG before the first FROM is only in scope in FROM
// lines, and in a stage that declares it again (`ARG NAME`).
func (st *Stage) outOfScope(word string, env []Var) []string {
	if !strings.Contains(word, "$") {
		return nil
	}
	var out []string
	for _, g := range st.model.MetaArgs {
		if (envView{env}).has(g.Name) || slices.Contains(out, g.Name) || !usedWithoutDefault(word, g.Name) {
			continue
		}
		out = append(out, g.Name)
	}
	return out
}

// findUser finds a user created in the stage (before in, when given) or its ancestry.
func (st *Stage) findUser(name string, before *Instruction) *CreatedUser {
	for _, a := range st.Ancestry() {
		for i := len(a.Created) - 1; i >= 0; i-- {
			if a.Created[i].Name == name {
				return &a.Created[i]
			}
		}
	}
	return nil
}

// findGroup finds a group created in the stage or its ancestry.
func (st *Stage) findGroup(name string) *CreatedGroup {
	for _, a := range st.Ancestry() {
		for i := len(a.Groups) - 1; i >= 0; i-- {
			if a.Groups[i].Name == name {
				return &a.Groups[i]
			}
		}
	}
	return nil
}

// CreatedUsers returns the users created in the stage and its ancestry, oldest first.
func (st *Stage) CreatedUsers() []CreatedUser {
	var out []CreatedUser
	anc := st.Ancestry()
	for i := len(anc) - 1; i >= 0; i-- {
		out = append(out, anc[i].Created...)
	}
	return out
}

// RunGroup is the primary group a user's process runs with, as far as the build tells.
type RunGroup struct {
	GID  *int   // the gid (nil: not known as a number)
	Name string // the group's name, when the build names one
	// Known is set when the group is known: a gid, or a group named other than root (which
	// is not group 0).
	Known bool
	From  string // where it comes from, in words
}

// Zero reports whether the group is known to be 0.
func (g RunGroup) Zero() bool { return g.GID != nil && *g.GID == 0 }

// NonZero reports whether the group is known and is not 0.
func (g RunGroup) NonZero() bool { return g.Known && !g.Zero() }

// Describe is "gid 0", "group app (gid 1000)", "group app" or "unknown".
func (g RunGroup) Describe() string {
	switch {
	case g.Name != "" && g.GID != nil:
		return fmt.Sprintf("group %s (gid %d)", g.Name, *g.GID)
	case g.GID != nil:
		return "gid " + strconv.Itoa(*g.GID)
	case g.Name != "":
		return "group " + g.Name
	case g.Known:
		return "a group of its own (not 0)"
	}
	return "unknown"
}

// namedGroup is the group written as g (a number, root, or a name the build may create).
func (st *Stage) namedGroup(g string) RunGroup {
	if g == "root" {
		g = "0"
	}
	if isDigits(g) {
		n, err := strconv.Atoi(g)
		if err != nil {
			return RunGroup{}
		}
		return RunGroup{GID: &n, Known: true}
	}
	r := RunGroup{Name: g, Known: true}
	if cg := st.findGroup(g); cg != nil {
		r.GID = cg.GID
	}
	return r
}

// GroupOf returns the primary group user u runs with in the stage (Docker, Podman and
// Kubernetes; OpenShift ignores it): the group USER names after ':'; else the primary group
// of u's passwd entry, when the build creates it or it is the base image's user; else gid 0
// when u is a bare uid known to have no passwd entry (FROM scratch, or the base image's user
// without one). Otherwise it is not known: a uid the base image's /etc/passwd does not list
// runs with gid 0.
func (st *Stage) GroupOf(u User) RunGroup {
	if u.Group != "" {
		g := st.namedGroup(u.Group)
		g.From = "the group USER names after ':'"
		return g
	}
	var cu *CreatedUser
	for _, c := range st.CreatedUsers() {
		if u.UID != nil && c.UID != nil && *u.UID == *c.UID || u.Kind == KindNamed && c.Name == u.Name {
			cu = &c
		}
	}
	if cu != nil {
		var g RunGroup
		switch {
		case cu.GID != nil:
			g = RunGroup{GID: cu.GID, Name: cu.Group, Known: true}
			if isDigits(cu.Group) || cu.Group == "root" {
				g.Name = ""
			}
		case cu.Group != "":
			g = st.namedGroup(cu.Group)
		default:
			g = RunGroup{Known: true} // adduser makes the user a group of its own
		}
		g.From = fmt.Sprintf("the passwd entry `%s` creates on line %d", cu.Tool, cu.Range.Start.Line+1)
		return g
	}
	anc := st.Ancestry()
	root := anc[len(anc)-1]
	z := 0
	switch b := root.Base; {
	case root.Scratch && u.Kind == KindNumeric:
		return RunGroup{GID: &z, Known: true, From: "FROM scratch has no /etc/passwd: a bare uid runs with gid 0"}
	case b != nil && (u.UID != nil && b.UID != nil && *u.UID == *b.UID || u.Kind == KindNamed && u.Name == b.Name):
		bu := parseUserString(b.User)
		switch {
		case bu.GID != nil || b.GID != nil:
			gid := bu.GID
			if gid == nil {
				gid = b.GID
			}
			return RunGroup{GID: gid, Known: true, From: fmt.Sprintf("the user of the base image %s", root.BaseName)}
		case b.Name == "" && u.Kind == KindNumeric:
			return RunGroup{GID: &z, Known: true, From: fmt.Sprintf("uid %d has no passwd entry in the base image %s: it runs with gid 0", *u.UID, root.BaseName)}
		}
	}
	if id, ok := wellKnownUsers[u.Name]; ok && u.Kind == KindNamed {
		gid := id.gid
		return RunGroup{GID: &gid, Known: true, From: fmt.Sprintf("the passwd entry of %s on the common distributions", u.Name)}
	}
	if u.Kind == KindNumeric {
		return RunGroup{From: fmt.Sprintf("gid 0 unless the base image's /etc/passwd has an entry for uid %d, which nonroot-ls cannot see", *u.UID)}
	}
	return RunGroup{From: "the primary group of its passwd entry in the base image, which nonroot-ls cannot see"}
}
