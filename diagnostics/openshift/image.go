package openshift

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

var openshiftOnly = []diagnostics.Profile{diagnostics.ProfileOpenShift}

// NR501Data is the payload of an NR501 finding: the USER to rewrite.
type NR501Data struct {
	User  dockerfile.User
	Stage *dockerfile.Stage
}

// NR501 — USER without group 0.
var NR501 = &diagnostics.Rule{
	ID:       "NR501",
	Title:    "USER has no group 0",
	Severity: diagnostics.SeverityWarning,
	Profiles: openshiftOnly,
	Kinds:    []diagnostics.FileKind{diagnostics.KindDockerfile},
	FixTitle: "Use USER <uid>:0",
	Doc: diagnostics.Doc{
		Why:     "OpenShift ignores the image's USER and runs the container as an arbitrary uid whose group is 0. An image that runs as `USER 1001` (its passwd group) or `USER 1001:1001` elsewhere is tested with another group than the one it gets on OpenShift, so group-0 permission mistakes only show up there.",
		Runtime: "On Docker and Kubernetes the process runs with the USER's group (the passwd entry's primary group, or the group after ':'); on OpenShift with gid 0. Files the build left writable for the USER's group are not writable on OpenShift (`Permission denied`).",
		Fix:     "Write the group explicitly as 0: `USER 1001:0`. The image then behaves the same everywhere, and the group-0 permissions it needs for OpenShift (NR502) are exercised on every run.",
		Source:  "\"Set the user and group ID of the user running the container process with the USER instruction. E.g., USER 3000:0.\" (Friends don't let friends run containers as root); " + sourceFact,
		Bad:     "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER 10001\n",
		Good:    "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER 10001:0\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := dockerfile.BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		u := st.User()
		if u.Instr == nil || (u.Source != dockerfile.SourceUSER && u.Source != dockerfile.SourceStage) || !u.NonRoot() {
			return // root is NR101/NR102's business; an inherited base-image user is not this file's
		}
		if u.Group == "0" || u.Group == "root" || (u.Group == "" && createdInGroupZero(st, u)) {
			return
		}
		var msg string
		switch {
		case u.Group != "":
			msg = fmt.Sprintf("USER %s runs the process with group %s; OpenShift runs it as an arbitrary uid in group 0, so what works here with group %s fails there with \"Permission denied\"", u.Raw, u.Group, u.Group)
		default:
			msg = fmt.Sprintf("USER %s has no group: the process gets the user's passwd group (or 0 when the uid has none), while OpenShift always runs it as an arbitrary uid in group 0; write USER %s:0 so every platform runs it the same way", u.Raw, userPart(u))
		}
		pass.Report(diagnostics.Finding{Range: u.Range(), Message: msg, Data: &NR501Data{User: u, Stage: st}})
	},
}

// createdInGroupZero reports whether the Dockerfile creates the USER's user with primary
// group 0 (`useradd -u 1001 -g 0`, as the sclorg images do): then USER 1001 already runs in
// group 0.
func createdInGroupZero(st *dockerfile.Stage, u dockerfile.User) bool {
	for _, cu := range st.CreatedUsers() {
		same := u.UID != nil && cu.UID != nil && *u.UID == *cu.UID || u.Kind == dockerfile.KindNamed && cu.Name == u.Name
		if same && (cu.GID != nil && *cu.GID == 0 || cu.Group == "0" || cu.Group == "root") {
			return true
		}
	}
	return false
}

func userPart(u dockerfile.User) string {
	if u.Kind == dockerfile.KindNumeric && u.UID != nil {
		return strconv.Itoa(*u.UID)
	}
	if i := strings.IndexByte(u.Raw, ':'); i >= 0 {
		return u.Raw[:i]
	}
	return u.Raw
}

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

var dataDirs = []string{"/data", "/var/lib", "/var/log", "/var/cache", "/var/run", "/run", "/srv", "/home"}

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
// non-root user or group or chmod'ed writable, data directories the build creates, builder
// directories COPY'd in with --from, and the literal paths the entrypoint writes (judged by
// their nearest parent the build changes). Each comes with what the build leaves on it.
func WrittenPaths(s *diagnostics.Snapshot, f *diagnostics.File) (*dockerfile.Stage, []WrittenPath) {
	m, st := dockerfile.BuiltStage(s, f)
	if st == nil {
		return nil, nil
	}
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
				if q.Op == "mkdir" {
					for _, d := range dataDirs {
						if strings.HasPrefix(q.Path, d+"/") || q.Path == "/data" {
							add(q.Path, reasonDataDir, q.Range)
							break
						}
					}
				}
			case "COPY":
				if c := copyOf(a, q.Instr); c != nil && c.From != "" && isNonRootOwner(q.Owner) {
					if dep := m.Stage(c.From); dep != nil && len(c.Sources) == 1 {
						src := c.Sources[0]
						if !strings.HasPrefix(src, "/") {
							src = "/" + src
						}
						for _, dq := range dep.Paths {
							if (dq.Op == "mkdir" || dq.Op == "WORKDIR" || dq.Op == "install") && (dq.Path == src || strings.HasPrefix(dq.Path, strings.TrimSuffix(src, "/")+"/")) {
								add(q.Path, reasonCopyFromBuilder, q.Range)
								break
							}
						}
					}
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
	return st, out
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

func copyOf(st *dockerfile.Stage, in *dockerfile.Instruction) *dockerfile.Copy {
	for _, c := range st.Copies {
		if c.Instr == in {
			return c
		}
	}
	return nil
}

// NR502Data is the payload of an NR502 finding: the path to give to group 0.
type NR502Data struct {
	Path    WrittenPath
	Stage   *dockerfile.Stage
	Scratch bool // the built stage is FROM scratch: no shell to run chgrp/chmod in
}

// describePerm says what the build leaves on a path, in words.
func describePerm(p dockerfile.Perm) string {
	var parts []string
	switch {
	case p.GID == nil && p.Group != "":
		parts = append(parts, "group "+p.Group)
	case p.GID != nil && p.Group != "" && p.Group != strconv.Itoa(*p.GID):
		parts = append(parts, fmt.Sprintf("group %s (%d)", p.Group, *p.GID))
	case p.GID != nil:
		parts = append(parts, fmt.Sprintf("group %d", *p.GID))
	default:
		parts = append(parts, "group unknown")
	}
	switch mc := p.ModeChange; {
	case p.Bits >= 0:
		parts = append(parts, fmt.Sprintf("mode %04o", p.Bits))
	case mc != nil && (mc.Op == "COPY" || mc.Op == "ADD"):
		parts = append(parts, "the build context's mode (no --chmod: not group-writable)")
	default:
		parts = append(parts, "its mode not made group-writable")
	}
	return strings.Join(parts, ", ")
}

// NR502 — a path the image writes is not group-0 writable.
var NR502 = &diagnostics.Rule{
	ID:       "NR502",
	Title:    "A path the image writes is not group-0 writable",
	Severity: diagnostics.SeverityWarning,
	Profiles: openshiftOnly,
	Kinds:    []diagnostics.FileKind{diagnostics.KindDockerfile},
	FixTitle: "Give the path to group 0: chgrp -R 0 P && chmod -R g=u P",
	Doc: diagnostics.Doc{
		Why:     "On OpenShift the process runs as an arbitrary uid that owns nothing in the image; its only useful identity is group 0. A path it writes must be owned by group 0 and group-writable — owned by the image's own uid (`chown 1001:1001`), by another group, or left 0755 is not enough.",
		Runtime: "The app fails at startup or on first write: `mkdir: cannot create directory '/data/db': Permission denied`, `could not open file \"/var/lib/app/x\": Permission denied`. Docker creates a VOLUME the image does not prepare as root:root 0755.",
		Fix:     "Before USER, give the path to group 0 and copy the owner's permissions to the group: `RUN chgrp -R 0 /data && chmod -R g=u /data` (in the RUN that creates it). For FROM scratch, prepare the directory in a builder stage and `COPY --from=builder --chown=10001:0`.",
		Source:  "\"Images should `chgrp -R 0` and `chmod -R g=u` the paths they write\" (SPEC §6); Bitnami sets `BITNAMI_PKG_CHMOD=\"-R g+rwX\"` on the folders it writes (Bitnami, Non-Root Containers); " + sourceFact,
		Bad:     "FROM alpine:3.20\nRUN mkdir -p /data && chown 10001:10001 /data\nVOLUME /data\nUSER 10001:0\n",
		Good:    "FROM alpine:3.20\nRUN mkdir -p /data && chown 10001:0 /data && chmod g=u /data\nVOLUME /data\nUSER 10001:0\n",
	},
	Run: func(pass *diagnostics.Pass) {
		st, paths := WrittenPaths(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		anc := st.Ancestry()
		root := anc[len(anc)-1]
		opaque := runsScripts(anc)
		for _, w := range paths {
			var msg string
			switch w.Status {
			case StatusNotWritable:
				where := ""
				if mc := w.Perm.ModeChange; mc != nil {
					where = fmt.Sprintf(" (%s on line %d)", mc.Op, mc.Range.Start.Line+1)
				}
				what := w.Path
				if w.Target != w.Path {
					what = fmt.Sprintf("%s (in %s)", w.Path, w.Target)
				}
				msg = fmt.Sprintf("%s %s is left with %s%s: OpenShift's arbitrary uid (group 0) cannot write it — \"Permission denied\"", w.Reason, what, describePerm(w.Perm), where)
				if fixedBefore(w.Perm) {
					msg += "; an earlier step made it group-0 writable and this one undoes it"
				}
			case StatusNotCreated:
				if !(root.Scratch || root.Base != nil) || opaque {
					continue // the base image or a build script may create it
				}
				msg = fmt.Sprintf("VOLUME %s is not created by the build: it is mounted root:root 0755 and OpenShift's arbitrary uid (group 0) cannot write it — \"Permission denied\"", w.Path)
			default:
				continue
			}
			rg := w.Range
			if w.Reason != reasonVolume && w.Reason != reasonEntrypoint {
				if mc := w.Perm.ModeChange; mc != nil && mc.Instr != nil && mc.Instr.Stage.Model() == st.Model() {
					rg = mc.Range
				}
			}
			pass.Report(diagnostics.Finding{Range: rg, Message: msg, Related: w.Related, Data: &NR502Data{Path: w, Stage: st, Scratch: st.Scratch}})
		}
	},
}

// fixedBefore reports whether a change before the last one made the path writable (so the
// last one undid a fix).
func fixedBefore(p dockerfile.Perm) bool {
	for _, c := range p.Changes[:max(0, len(p.Changes)-1)] {
		if c.Op == "chmod" && grantsWrite(c.Mode) {
			return true
		}
	}
	return false
}

// runsScripts reports whether a RUN of the stages executes a program nonroot-ls cannot see
// into (a script of the build context or an installer), which may create paths.
func runsScripts(stages []*dockerfile.Stage) bool {
	for _, s := range stages {
		for _, r := range s.Runs {
			for _, c := range r.Commands {
				if strings.HasSuffix(c.Name, ".sh") || strings.HasPrefix(c.Name, "bitnami") || c.Name == "install_packages" {
					return true
				}
				for _, a := range c.Args {
					if strings.HasSuffix(a.Value, ".sh") && (c.Name == "sh" || c.Name == "bash") {
						return true
					}
				}
			}
			if r.ParseError != "" {
				return true
			}
		}
	}
	return false
}

func init() {
	diagnostics.Register(NR501, NR502, NR503, NR504)
}
