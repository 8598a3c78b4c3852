package dockerfile

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// This file answers "what does the build leave on this path?" in one place, following every
// change in build order: the OpenShift rules (group 0 ownership and group write) need the
// group and mode, not only whether one given user may write.

// dirBits is the mode mkdir gives a new directory in this RUN: 0755 under the default umask
// 022, or 0777 minus the umask a `umask` command earlier in the same RUN set.
func (r *Run) dirBits() int {
	if !r.umaskSet {
		return 0o755
	}
	return 0o777 &^ int(r.umask)
}

// Umask returns the umask a `umask` command in the RUN set (and true), or 022 and false.
func (r *Run) Umask() (int, bool) {
	if !r.umaskSet {
		return 0o022, false
	}
	return int(r.umask), true
}

// Perm is what the build leaves on one path: its owner, group and mode bits, as far as the
// Dockerfile tells.
type Perm struct {
	Path  string
	Owner *User  // the owner the build gives it (nil: no change named one)
	GID   *int   // the group's gid (nil: unknown)
	Group string // the group as written by the last change that named one ("" when none)
	// GIDAssumed is set when no change named a group and root created or changed the path:
	// what root creates belongs to group 0.
	GIDAssumed bool
	// Bits are the mode bits (-1 when no change tells them: a COPY keeps the build context's
	// modes, a path of the base image keeps the base image's).
	Bits int
	// Changes are the changes that apply to the path (recursive changes of its parents
	// included), in build order. A mkdir or WORKDIR of a path that already exists is not one.
	Changes []*PathPerm
	// ModeChange is the last change that decided the mode bits or the group (nil when none).
	ModeChange *PathPerm
}

// Known reports whether the build changes the path at all.
func (p Perm) Known() bool { return len(p.Changes) > 0 }

// Last returns the last change of the path (nil when none).
func (p Perm) Last() *PathPerm {
	if len(p.Changes) == 0 {
		return nil
	}
	return p.Changes[len(p.Changes)-1]
}

// GroupZero reports whether the path belongs to group 0 (named or assumed).
func (p Perm) GroupZero() bool { return p.GID != nil && *p.GID == 0 }

// GroupWritable reports whether the mode gives the group write access (unknown bits count as
// not writable: build-context files and base-image directories are 0644/0755).
func (p Perm) GroupWritable() bool { return p.Bits >= 0 && p.Bits&0o020 != 0 }

// WorldWritable reports whether the mode gives everyone write access.
func (p Perm) WorldWritable() bool { return p.Bits >= 0 && p.Bits&0o002 != 0 }

// PermOf returns what the build of the stage and its ancestry leaves on path p (absolute,
// clean), following COPY/ADD --chown/--chmod (and, for COPY --from, the modes the source
// stage left), WORKDIR, mkdir (under the RUN's umask), install -d, chown, chgrp and chmod
// (octal and symbolic: g=u, g+rwX…) in build order.
func (st *Stage) PermOf(p string) Perm {
	return st.permOf(p, 0)
}

const maxPermDepth = 8

// permIndex lists the path changes of a stage's ancestry in build order, by path.
type permIndex struct {
	changes []permChange
	byPath  map[string][]int // indices into changes
}

type permChange struct {
	q     *PathPerm
	stage *Stage // the stage holding q
}

func (st *Stage) permIndex() *permIndex {
	st.permOnce.Do(func() {
		ix := &permIndex{byPath: map[string][]int{}}
		anc := st.Ancestry()
		for i := len(anc) - 1; i >= 0; i-- {
			for j := range anc[i].Paths {
				q := &anc[i].Paths[j]
				ix.byPath[q.Path] = append(ix.byPath[q.Path], len(ix.changes))
				ix.changes = append(ix.changes, permChange{q, anc[i]})
			}
		}
		st.perms = ix
	})
	return st.perms
}

func (st *Stage) permOf(p string, depth int) Perm {
	out := Perm{Path: p, Bits: -1}
	if st == nil || depth > maxPermDepth {
		return out
	}
	ix := st.permIndex()
	// The changes of p and of its parents, in build order.
	idx := append([]int(nil), ix.byPath[p]...)
	for a := p; a != "/" && a != ""; {
		a = parentDir(a)
		idx = append(idx, ix.byPath[a]...)
	}
	sort.Ints(idx)
	groupNamed := false
	rootOnly := true
	for _, k := range idx {
		q, qst := ix.changes[k].q, ix.changes[k].stage
		exact := q.Path == p
		if !exact && !q.Recursive {
			continue
		}
		if !exact && (q.Op == "COPY" || q.Op == "ADD") && (q.Path == "/" || q.Owner == "0" && q.Group == "0" && q.Mode == "") {
			// A copy into a parent (without --chown/--chmod, or into /) says nothing
			// about p: the build context may not hold it.
			continue
		}
		creates := q.Op == "mkdir" || q.Op == "WORKDIR"
		if creates && len(out.Changes) > 0 {
			continue // mkdir -p / WORKDIR of a path that exists changes nothing
		}
		out.Changes = append(out.Changes, q)
		if u := q.Instr.User(); u.Kind != KindRoot {
			rootOnly = false
		}
		if q.Owner != "" {
			o := *q.owner
			out.Owner = &o
		}
		if q.Group != "" || q.GID != nil {
			out.GID, out.Group = q.GID, q.Group
			groupNamed = q.Group != ""
			out.ModeChange = q
		}
		switch {
		case q.bits >= 0:
			out.Bits = q.bits
			out.ModeChange = q
		case q.Mode != "":
			base := out.Bits
			if base < 0 {
				base = 0o755
			}
			out.Bits = applySymbolic(base, q.Mode)
			out.ModeChange = q
		case q.Op == "COPY" || q.Op == "ADD":
			// Without --chmod a copy keeps the source's modes: the source stage's for
			// COPY --from, the build context's (not known here) otherwise.
			out.Bits = -1
			if bits, ok := qst.copiedBits(q, p, depth); ok {
				out.Bits = bits
			}
			out.ModeChange = q
		}
	}
	if out.GID == nil && !groupNamed && len(out.Changes) > 0 && rootOnly {
		z := 0
		out.GID, out.GIDAssumed = &z, true
	}
	return out
}

func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// copiedBits returns the mode a COPY --from (without --chmod) gives p: the mode the source
// stage left on the corresponding source path.
func (st *Stage) copiedBits(q *PathPerm, p string, depth int) (int, bool) {
	cc, ok := q.Instr.Parsed.(*instructions.CopyCommand)
	if !ok || cc.From == "" || cc.Chmod != "" {
		return 0, false
	}
	var c *Copy
	for _, x := range st.Copies {
		if x.Instr == q.Instr {
			c = x
			break
		}
	}
	if c == nil || len(c.Sources) != 1 {
		return 0, false
	}
	dep := st.model.Stage(c.From)
	if dep == nil || dep.Index >= st.Index {
		return 0, false
	}
	src := joinPath("/", c.Sources[0])
	if strings.ContainsAny(src, "*?[") {
		return 0, false
	}
	dest := q.Path
	if strings.HasSuffix(c.Dest, "/") && dest != "/" {
		dest = dest + "/" + path.Base(src)
	}
	if !under(p, dest) {
		return 0, false
	}
	sp := src + strings.TrimPrefix(p, strings.TrimSuffix(dest, "/"))
	dp := dep.permOf(cleanPath(sp), depth+1)
	if dp.Bits < 0 {
		return 0, false
	}
	return dp.Bits, true
}

// Write is a path the container writes at runtime, as its ENTRYPOINT/CMD or entrypoint
// script says (a redirection, mkdir, touch, tee, cp/mv/ln/install targets, sed -i).
type Write struct {
	Path  string
	Tool  string     // the command, or ">" for a redirection
	File  string     // the Dockerfile or the entrypoint script
	Range text.Range // in File
	Line  int        // 0-based line in File
	Instr *Instruction
}

// EntrypointWrites returns the absolute, literal paths the stage's ENTRYPOINT and CMD write:
// in the instructions' shell form and in the entrypoint script when it is COPY'd from the
// build context (read through the snapshot, confined to the workspace). Paths under /tmp,
// /dev, /proc and /sys are left out.
func (m *Model) EntrypointWrites(s *diagnostics.Snapshot, st *Stage) []Write {
	if st == nil || st.Windows {
		return nil
	}
	var out []Write
	seen := map[string]bool{}
	add := func(w Write) {
		if !strings.HasPrefix(w.Path, "/") {
			return
		}
		w.Path = cleanPath(w.Path)
		for _, skip := range []string{"/tmp", "/var/tmp", "/dev", "/proc", "/sys", "/run/secrets"} {
			if under(w.Path, skip) {
				return
			}
		}
		key := w.File + "\x00" + w.Path
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, w)
	}
	collect := func(sc *shellScanner, file string, lines *text.Lines, in *Instruction) {
		for _, c := range sc.cmds {
			for _, a := range writeTargets(c) {
				if a.OK {
					add(Write{Path: a.Value, Tool: c.Name, File: file, Range: lines.RangeOf(a.Start, a.End), Line: c.Line, Instr: in})
				}
			}
		}
		for _, a := range sc.write {
			if a.OK {
				rg := lines.RangeOf(a.Start, a.End)
				add(Write{Path: a.Value, Tool: ">", File: file, Range: rg, Line: rg.Start.Line, Instr: in})
			}
		}
	}
	scripts := map[string]bool{}
	for _, in := range []*Instruction{entrypointOf(st), cmdOf(st)} {
		words, shellForm := commandWords(in)
		if in == nil || len(words) == 0 {
			continue
		}
		if shellForm {
			sc := in.scanShellForm()
			collect(sc, m.Path, m.lines, in)
		}
		if s == nil {
			continue
		}
		for _, w := range words {
			src := m.scriptSource(st, w)
			if src == "" || scripts[src] {
				continue
			}
			scripts[src] = true
			f, err := s.File(src)
			if err != nil || f.Binary() {
				continue
			}
			sc := f.Memo(scriptWritesKey{}, func() any {
				sc := &shellScanner{lines: f.Lines()}
				sc.scan(f.Text, 0)
				sc.finish(nil)
				return sc
			}).(*shellScanner)
			collect(sc, f.Path, f.Lines(), in)
		}
	}
	return out
}

type scriptWritesKey struct{}

// writeTargets returns the arguments of c that name files it creates or changes.
func writeTargets(c *Command) []Arg {
	switch c.Name {
	case "mkdir", "touch", "tee":
		_, pos := parseOpts(c.Args, "m", "mode")
		return pos
	case "cp", "mv", "ln", "install":
		_, pos := parseOpts(c.Args, "tSogm")
		if len(pos) >= 2 {
			return pos[len(pos)-1:]
		}
	case "sed":
		opts, pos := parseOpts(c.Args, "ef")
		if opts.get("i") != "" || opts.get("in-place") != "" {
			if opts.get("e") == "" && opts.get("f") == "" && len(pos) > 0 {
				pos = pos[1:]
			}
			return pos
		}
	}
	return nil
}

// joinPath resolves p against dir and cleans it ("/" based).
func joinPath(dir, p string) string {
	if p == "" {
		return dir
	}
	if !strings.HasPrefix(p, "/") {
		p = strings.TrimSuffix(dir, "/") + "/" + p
	}
	return cleanPath(p)
}

func joinPathKeepSlash(dir, p string) string {
	j := joinPath(dir, p)
	if strings.HasSuffix(p, "/") && j != "/" {
		j += "/"
	}
	return j
}

// cleanPath makes p absolute and lexically clean (no empty, "." or ".." element, no
// trailing slash).
func cleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p) // no allocation when p is already clean
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	return p == dir || dir == "" || strings.HasPrefix(p, dir+"/")
}

// WritablePaths returns, path by path, the owner, group and mode the build leaves on the
// paths it creates or changes in the stage and its ancestry (the last change wins).
func (st *Stage) WritablePaths() []PathPerm {
	var out []PathPerm
	idx := map[string]int{}
	anc := st.Ancestry()
	for i := len(anc) - 1; i >= 0; i-- {
		for _, p := range anc[i].Paths {
			if (p.Op == "COPY" || p.Op == "ADD") && p.Owner == "0" && p.Mode == "" {
				continue // plain copies: not a path prepared for writing
			}
			j, ok := idx[p.Path]
			if !ok {
				idx[p.Path] = len(out)
				out = append(out, p)
				continue
			}
			q := &out[j]
			if p.Owner != "" {
				q.Owner, q.UID, q.owner = p.Owner, p.UID, p.owner
			}
			if p.Group != "" || p.GID != nil {
				q.Group, q.GID = p.Group, p.GID
			}
			if p.Mode != "" {
				q.Mode, q.bits = p.Mode, p.bits
			}
			q.Range, q.Instr, q.Op = p.Range, p.Instr, p.Op
		}
	}
	return out
}

// Access is what the model knows about whether a user can write a path.
type Access int

const (
	AccessUnknown  Access = iota // nothing in this Dockerfile decides it
	AccessWritable               // owned by the user, or group/other writable for it
	AccessDenied                 // the build leaves it owned by someone else without write access for the user
)

// WriteAccess says whether user u can write path p when the stage is run (considering the
// changes the build makes to p and, for recursive changes, to its parents).
func (st *Stage) WriteAccess(u User, p string) (Access, *PathPerm) {
	if under(p, "/tmp") || under(p, "/var/tmp") || under(p, "/dev/shm") {
		return AccessWritable, nil
	}
	if u.Kind == KindRoot {
		return AccessWritable, nil
	}
	// The changes PermOf counts: a mkdir or WORKDIR of a path that already exists changes
	// nothing (WORKDIR /data after chown app /data leaves it owned by app).
	perm := st.PermOf(p)
	last := perm.Last()
	owner, gid, group, bits := perm.Owner, perm.GID, perm.Group, perm.Bits
	if last == nil {
		return AccessUnknown, nil
	}
	if bits < 0 {
		bits = 0o755
	}
	if bits&0o002 != 0 {
		return AccessWritable, last
	}
	if owner != nil && sameUser(*owner, u) && bits&0o200 != 0 {
		return AccessWritable, last
	}
	if bits&0o020 != 0 {
		ugid := u.GID
		if ugid == nil && u.Group == "" {
			if cu := st.findUser(u.Name, nil); cu != nil && u.Kind == KindNamed {
				ugid = cu.GID
			}
		}
		if gid != nil && ugid != nil && *gid == *ugid {
			return AccessWritable, last
		}
		if group != "" && (group == u.Group || group == u.Name) {
			return AccessWritable, last
		}
		if gid == nil && ugid == nil {
			return AccessUnknown, last
		}
	}
	if owner == nil {
		return AccessUnknown, last
	}
	return AccessDenied, last
}

// writable reports whether user u can write p when the stage is built: the Dockerfile's own
// changes decide (WriteAccess), else what the image catalog knows the base image leaves on
// p or its nearest listed parent (the golang image's /go and the ruby image's
// /usr/local/bundle are 1777).
func (st *Stage) writable(u User, p string) bool {
	acc, last := st.WriteAccess(u, p)
	if last != nil || acc != AccessUnknown {
		return acc == AccessWritable
	}
	anc := st.Ancestry()
	b := anc[len(anc)-1].Base
	if b == nil || b.Entry == nil {
		return false
	}
	var best *imagecatalog.Path
	for i := range b.Entry.Paths {
		q := &b.Entry.Paths[i]
		if under(p, q.Path) && (best == nil || len(q.Path) > len(best.Path)) {
			best = q
		}
	}
	if best == nil {
		return false
	}
	bits, err := strconv.ParseUint(best.Mode, 8, 32)
	switch {
	case err != nil:
		return false
	case bits&0o002 != 0:
		return true
	case bits&0o200 != 0 && best.UID != nil && u.UID != nil && *best.UID == *u.UID:
		return true
	}
	return bits&0o020 != 0 && best.GID != nil && u.GID != nil && *best.GID == *u.GID
}

func sameUser(a, b User) bool {
	if a.UID != nil && b.UID != nil {
		return *a.UID == *b.UID
	}
	return a.Name != "" && a.Name == b.Name || a.Value != "" && strings.SplitN(a.Value, ":", 2)[0] == strings.SplitN(b.Value, ":", 2)[0]
}

// applySymbolic applies a chmod mode (octal or symbolic, e.g. "g+rwX,o-w", "g=u") to bits.
func applySymbolic(bits int, mode string) int {
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		return int(n)
	}
	for _, clause := range strings.Split(mode, ",") {
		i := 0
		who := 0
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			switch clause[i] {
			case 'u':
				who |= 0o4700
			case 'g':
				who |= 0o2070
			case 'o':
				who |= 0o1007
			case 'a':
				who |= 0o7777
			}
			i++
		}
		if who == 0 {
			who = 0o7777 &^ 0o022 // umask 022
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return bits
			}
			i++
			perm := 0
			for i < len(clause) && strings.IndexByte("rwxXstugo", clause[i]) >= 0 {
				switch clause[i] {
				case 'r':
					perm |= 0o444
				case 'w':
					perm |= 0o222
				case 'x', 'X':
					perm |= 0o111
				case 's':
					perm |= 0o6000
				case 't':
					perm |= 0o1000
				case 'u':
					perm |= copyBits((bits >> 6) & 7)
				case 'g':
					perm |= copyBits((bits >> 3) & 7)
				case 'o':
					perm |= copyBits(bits & 7)
				}
				i++
			}
			switch op {
			case '+':
				bits |= perm & who
			case '-':
				bits &^= perm & who
			case '=':
				bits = bits&^(who&0o777) | perm&who
			}
		}
	}
	return bits
}

func copyBits(b int) int { return b<<6 | b<<3 | b }

// DataDirs are the folders under which a directory the build creates is data the application
// writes at runtime (NR107, NR502).
var DataDirs = []string{"/data", "/var/lib", "/var/log", "/var/cache", "/var/run", "/run", "/srv", "/home"}
