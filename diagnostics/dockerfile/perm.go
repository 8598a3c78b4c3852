package dockerfile

import (
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
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
	return 0o777 &^ r.umask
}

// Umask returns the umask a `umask` command in the RUN set (and true), or 022 and false.
func (r *Run) Umask() (int, bool) {
	if !r.umaskSet {
		return 0o022, false
	}
	return r.umask, true
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
			sc := &shellScanner{lines: m.lines, env: envView{in.Stage.env[:in.envLen]}.Get}
			src := m.src[in.ArgsAt:max(in.ArgsAt, in.End)]
			sc.scan(src, 0)
			sc.finish(offsetMap{{shell: 0, file: in.ArgsAt, n: len(src)}})
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
