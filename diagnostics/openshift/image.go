package openshift

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

var openshiftOnly = []diagnostics.Profile{diagnostics.ProfileOpenShift}

// Status says whether an arbitrary uid in group 0 can write a path.
type Status string

const (
	StatusGroupZero       Status = "group-0-writable" // group 0 and group-writable
	StatusWorld           Status = "world-writable"   // writable by anyone
	StatusNotWritable     Status = "not-writable"     // neither: the arbitrary uid cannot write it
	StatusNotCreated      Status = "not-created"      // a VOLUME the build does not create (mounted root:root 0755)
	StatusUnknown         Status = "unknown"          // nothing in the Dockerfile decides it
	reasonVolume                 = "VOLUME"
	reasonWorkdir                = "WORKDIR"
	reasonChown                  = "chowned"
	reasonChmod                  = "made writable"
	reasonDataDir                = "data directory"
	reasonCopyFromBuilder        = "copied from a builder stage"
	reasonEntrypoint             = "written by the entrypoint"
)

// WrittenPath is a path the image writes at runtime, why nonroot-ls thinks so, and what the
// build leaves on it.
type WrittenPath struct {
	Path   string
	Reason string // VOLUME, WORKDIR, chowned, made writable, data directory, copied from a builder stage, written by the entrypoint
	// Target is the path whose permissions decide (Path, or for an entrypoint write the
	// nearest parent the build changes): the path the fix changes.
	Target  string
	Perm    dockerfile.Perm
	Status  Status
	Range   text.Range // in the Dockerfile: where a finding lands
	Related []diagnostics.Related
}

// Ok reports whether the arbitrary uid can write the path.
func (w WrittenPath) Ok() bool { return w.Status == StatusGroupZero || w.Status == StatusWorld }

func judge(p dockerfile.Perm) Status {
	switch {
	case !p.Known():
		return StatusUnknown
	case p.WorldWritable():
		return StatusWorld
	case p.GroupZero() && p.GroupWritable():
		return StatusGroupZero
	}
	return StatusNotWritable
}

func ignoredPath(p string) bool {
	for _, d := range []string{"/tmp", "/var/tmp", "/dev", "/proc", "/sys"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return p == "/"
}

func isNonRootOwner(o string) bool { return o != "" && o != "0" && o != "root" }

// grantsWrite reports whether a chmod mode grants write to the group or to others.
func grantsWrite(mode string) bool {
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		return n&0o022 != 0
	}
	for _, clause := range strings.Split(mode, ",") {
		i := strings.IndexAny(clause, "+=")
		if i < 0 {
			continue
		}
		who, perm := clause[:i], clause[i+1:]
		if who == "" || strings.ContainsAny(who, "goa") {
			if strings.Contains(perm, "w") || (strings.Contains(who, "g") && perm == "u") {
				return true
			}
		}
	}
	return false
}

// WrittenPaths returns the built stage of the Dockerfile f and the paths its container
// writes: VOLUMEs, WORKDIRs created for a non-root user, paths chowned/chgrp'ed to a
// non-root user or group (by RUN, or by COPY/ADD --chown: builder directories among them)
// or chmod'ed writable, data directories the build creates, and the literal paths the entrypoint writes (judged by
// their nearest parent the build changes). Each comes with what the build leaves on it.
func WrittenPaths(s *diagnostics.Snapshot, f *diagnostics.File) (*dockerfile.Stage, []WrittenPath) {
	_, st := dockerfile.BuiltStage(s, f)
	if st == nil {
		return nil, nil
	}
	return st, WrittenPathsOf(s, f, st)
}

// WrittenPathsOf is WrittenPaths for st, a built stage of the Dockerfile f.
func WrittenPathsOf(s *diagnostics.Snapshot, f *diagnostics.File, st *dockerfile.Stage) []WrittenPath {
	m := st.Model()
	var out []WrittenPath
	seen := map[string]bool{}
	add := func(p, reason string, rg text.Range) {
		if ignoredPath(p) || seen[p] {
			return
		}
		seen[p] = true
		perm := st.PermOf(p)
		w := WrittenPath{Path: p, Target: p, Reason: reason, Perm: perm, Status: judge(perm), Range: rg}
		if reason == reasonVolume && !perm.Known() {
			w.Status = StatusNotCreated
		}
		if w.Status == StatusNotWritable && opaqueAfter(st, p, perm.Last()) {
			w.Status = StatusUnknown
		}
		out = append(out, w)
	}
	anc := st.Ancestry()
	for i := len(anc) - 1; i >= 0; i-- {
		for _, v := range anc[i].Volumes {
			add(v.Value, reasonVolume, v.Range)
		}
	}
	for i := len(anc) - 1; i >= 0; i-- {
		a := anc[i]
		for j := range a.Paths {
			q := &a.Paths[j]
			switch q.Op {
			case "chown", "install":
				if isNonRootOwner(q.Owner) || isNonRootOwner(q.Group) {
					add(q.Path, reasonChown, q.Range)
				}
			case "chgrp":
				add(q.Path, reasonChown, q.Range)
			case "chmod":
				if grantsWrite(q.Mode) {
					add(q.Path, reasonChmod, q.Range)
				}
			case "WORKDIR", "mkdir":
				if u := q.Instr.User(); u.NonRoot() {
					add(q.Path, reasonWorkdir, q.Range)
					continue
				}
				if q.Op == "mkdir" && dataDir(q.Path) {
					add(q.Path, reasonDataDir, q.Range)
				}
			case "COPY", "ADD":
				// A tree copied with --chown to a non-root user (a chown -R of the copy, which
				// NR106 turns `RUN chown` into) is prepared for that user to write: a directory
				// a builder stage prepares, a source written as a directory, or a data
				// directory. A single file (a binary, a script) is not.
				if q.Path == "/" || !isNonRootOwner(q.Owner) && !isNonRootOwner(q.Group) {
					continue
				}
				switch c := copyOf(a, q.Instr); {
				case builderPrepared(m, c):
					add(q.Path, reasonCopyFromBuilder, q.Range)
				case copiesTree(c) || dataDir(q.Path):
					add(q.Path, reasonChown, q.Range)
				}
			}
		}
	}
	for _, wr := range m.EntrypointWrites(s, st) {
		target := ""
		for p := wr.Path; p != "/" && p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
			if st.PermOf(p).Known() {
				target = p
				break
			}
		}
		if target == "" || ignoredPath(target) || seen[wr.Path] {
			continue
		}
		seen[wr.Path] = true
		perm := st.PermOf(target)
		status := judge(perm)
		if status == StatusNotWritable && opaqueAfter(st, target, perm.Last()) {
			status = StatusUnknown
		}
		rg := text.Range{}
		if wr.Instr != nil {
			rg = wr.Instr.ArgsRange()
		}
		w := WrittenPath{Path: wr.Path, Target: target, Reason: reasonEntrypoint, Perm: perm, Status: status, Range: rg}
		if wr.File != f.Path {
			w.Related = []diagnostics.Related{{File: wr.File, Range: wr.Range, Message: fmt.Sprintf("`%s` writes %s at startup", wr.Tool, wr.Path)}}
		}
		out = append(out, w)
	}
	return out
}

// modeledOrInert are the commands whose effect on a path's owner and mode the permission model
// follows, or that do not change them.
var modeledOrInert = map[string]bool{
	"mkdir": true, "chown": true, "chgrp": true, "chmod": true, "install": true,
	"echo": true, "printf": true, "cat": true, "grep": true, "test": true, "[": true, "ls": true, "stat": true,
	"ln": true, "rm": true, "rmdir": true, "touch": true, "sed": true, "awk": true, "env": true, "id": true,
	"cd": true, "export": true, "set": true, "true": true, "false": true, "du": true, "wc": true, "head": true,
	"tail": true, "sort": true, "readlink": true, "realpath": true, "basename": true, "dirname": true,
}

// opaqueAfter reports whether a RUN at or after the change last (of the stage's ancestry)
// hands p, or a parent of p, to a program nonroot-ls cannot see into (a fix-permissions
// script, setfacl, find -exec…): what it does to p is not known.
func opaqueAfter(st *dockerfile.Stage, p string, last *dockerfile.PathPerm) bool {
	anc := st.Ancestry()
	for i := len(anc) - 1; i >= 0; i-- {
		for _, r := range anc[i].Runs {
			if last != nil && last.Instr != nil && last.Instr.Stage == anc[i] && r.Instr.Index < last.Instr.Index {
				continue
			}
			if last != nil && last.Instr != nil && last.Instr.Stage.Index > anc[i].Index {
				continue
			}
			for _, c := range r.Commands {
				if modeledOrInert[c.Name] {
					continue
				}
				for _, a := range c.Args {
					v := a.Value
					if !a.OK || !strings.HasPrefix(v, "/") || v == "/" {
						continue
					}
					v = strings.TrimSuffix(v, "/")
					if p == v || strings.HasPrefix(p, v+"/") {
						return true
					}
				}
			}
		}
	}
	return false
}

// dataDir reports whether p is a directory below one of the data folders (/var/lib/app,
// /srv/app), or /data.
func dataDir(p string) bool {
	for _, d := range dockerfile.DataDirs {
		if strings.HasPrefix(p, d+"/") || p == "/data" {
			return true
		}
	}
	return false
}

// copiesTree reports whether c copies a source written as a directory ("." or "conf/").
func copiesTree(c *dockerfile.Copy) bool {
	return c != nil && slices.ContainsFunc(c.Sources, func(s string) bool { return s == "." || strings.HasSuffix(s, "/") })
}

// builderPrepared reports whether c copies from a builder stage a directory that stage
// creates or prepares (mkdir, WORKDIR, install -d, chown, chgrp, chmod).
func builderPrepared(m *dockerfile.Model, c *dockerfile.Copy) bool {
	if c == nil || c.From == "" || len(c.Sources) != 1 {
		return false
	}
	dep := m.Stage(c.From)
	if dep == nil {
		return false
	}
	src := c.Sources[0]
	if !strings.HasPrefix(src, "/") {
		src = "/" + src
	}
	for _, dq := range dep.Paths {
		if dq.Op != "COPY" && dq.Op != "ADD" && (dq.Path == src || strings.HasPrefix(dq.Path, strings.TrimSuffix(src, "/")+"/")) {
			return true
		}
	}
	return false
}

func copyOf(st *dockerfile.Stage, in *dockerfile.Instruction) *dockerfile.Copy {
	for _, c := range st.Copies {
		if c.Instr == in {
			return c
		}
	}
	return nil
}
