package openshift

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// nr502Data is the payload of an NR502 finding: the path to give to group 0.
type nr502Data struct {
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
	Fix:      planNR502,
	Doc: diagnostics.Doc{
		Why:     "On OpenShift the process runs as an arbitrary uid that owns nothing in the image; its only useful identity is group 0. A path it writes must be owned by group 0 and group-writable — owned by the image's own uid (`chown 1001:1001`), by another group, or left 0755 is not enough.",
		Runtime: "The app fails at startup or on first write: `mkdir: cannot create directory '/data/db': Permission denied`, `could not open file \"/var/lib/app/x\": Permission denied`. Docker creates a VOLUME the image does not prepare as root:root 0755.",
		Fix:     "Before USER, give the path to group 0 and copy the owner's permissions to the group: `RUN chgrp -R 0 /data && chmod -R g=u /data` (in the RUN that creates it); for a `COPY --chown`, `--chown=<uid>:0` with a group-writable `--chmod`. For FROM scratch, prepare the directory in a builder stage and `COPY --from=builder --chown=10001:0`.",
		Source:  "\"Images should `chgrp -R 0` and `chmod -R g=u` the paths they write\"; Bitnami sets `BITNAMI_PKG_CHMOD=\"-R g+rwX\"` on the folders it writes (Bitnami, Non-Root Containers); " + sourceFact,
		Bad:     "FROM alpine:3.20\nRUN mkdir -p /data && chown 10001:10001 /data\nVOLUME /data\nUSER 10001:0\n",
		Good:    "FROM alpine:3.20\nRUN mkdir -p /data && chown 10001:0 /data && chmod g=u /data\nVOLUME /data\nUSER 10001:0\n",
	},
	Run: dockerfile.JudgeBuilt(func(pass *diagnostics.Pass, st *dockerfile.Stage) {
		paths := WrittenPathsOf(pass.Snapshot, pass.File, st)
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
			pass.Report(diagnostics.Finding{Range: rg, Message: msg, Related: w.Related, Data: &nr502Data{Path: w, Stage: st, Scratch: st.Scratch}})
		}
	}),
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

// shellSafe reports whether a path can be written unquoted in a RUN line.
func shellSafe(p string) bool {
	return p != "" && strings.HasPrefix(p, "/") && !strings.ContainsAny(p, " \t'\"$`\\;&|<>*?[]{}()#~")
}

// NR502: `chgrp -R 0 P && chmod -R g=u P` appended to the RUN that last changes P (when root
// runs it), else as a new RUN before USER (or before the VOLUME that declares P). For a
// VOLUME of a FROM scratch image nothing can run: prepare the directory in a builder stage
// and COPY it in with --chown=<uid>:0 (seed 000's pattern).
func planNR502(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr502Data)
	m := dockerfile.ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || d.Stage == nil || d.Stage.Model() != m {
		return nil
	}
	st := d.Stage
	p := d.Path.Target
	if !shellSafe(p) {
		return nil
	}
	if a := planNR502InBuilder(f, m, st, d); a != nil {
		return a
	}
	if a := planNR502Copy(f, st, d); a != nil {
		return a
	}
	if d.Scratch {
		return planNR502Scratch(s, f, m, st, d)
	}
	fix := fmt.Sprintf("chgrp -R 0 %s && chmod -R g=u %s", p, p)
	title := fmt.Sprintf("Give %s to group 0: chgrp -R 0 && chmod -R g=u", p)
	// Merge into the RUN that last changes P.
	if last := d.Path.Perm.Last(); last != nil && last.Instr != nil && last.Instr.Stage == st && last.Instr.Cmd == "run" && mergeable(m, last.Instr) {
		end := m.Lines().PosAt(last.Instr.End)
		return diagnostics.Single(title, f.File, true, text.Edit{Range: text.Range{Start: end, End: end}, NewText: " && " + fix})
	}
	// Else a new RUN before USER (as root), after every change of P.
	lastIdx := -1
	for _, c := range d.Path.Perm.Changes {
		if c.Instr != nil && c.Instr.Stage == st {
			lastIdx = max(lastIdx, c.Instr.Index)
		} else if c.Instr != nil && c.Instr.Stage.Index > st.Index {
			return nil
		}
	}
	var before *dockerfile.Instruction
	if u := st.User(); u.Instr != nil && u.Instr.Stage == st && u.Instr.Index > lastIdx {
		before = u.Instr
	}
	if before == nil {
		for _, in := range st.Instructions {
			if (in.Cmd == "entrypoint" || in.Cmd == "cmd") && in.Index > lastIdx {
				before = in
				break
			}
		}
	}
	line := "RUN " + fix
	if d.Path.Status == StatusNotCreated {
		line = fmt.Sprintf("RUN mkdir -p %s && %s", p, fix)
	}
	// A VOLUME's content is fixed when it is declared: prepare P before it.
	for _, in := range st.Instructions {
		if in.Cmd != "volume" || in.Index <= lastIdx || (before != nil && in.Index > before.Index) {
			continue
		}
		if vp, ok := in.Parsed.(*instructions.VolumeCommand); ok {
			for _, v := range vp.Volumes {
				if v == p || strings.HasPrefix(p, strings.TrimSuffix(v, "/")+"/") {
					before = in
				}
			}
		}
	}
	var edit text.Edit
	if before != nil {
		if before.User().NonRoot() {
			return nil // a non-root user cannot chgrp what root owns
		}
		edit = before.InsertBefore(line)
	} else {
		last := st.Instructions[len(st.Instructions)-1]
		if last.Cmd != "user" && st.User().NonRoot() {
			return nil
		}
		edit = last.InsertAfter(line)
	}
	return diagnostics.Single(title, f.File, true, edit)
}

// mergeable reports whether a RUN can take `&& …` at its end: shell form, no heredoc, root.
func mergeable(m *dockerfile.Model, in *dockerfile.Instruction) bool {
	rc, ok := in.Parsed.(*instructions.RunCommand)
	if !ok || !rc.PrependShell || len(in.Node.Heredocs) > 0 || in.User().NonRoot() {
		return false
	}
	src := m.Source()[in.Start:in.End]
	last := src[strings.LastIndexByte(src, '\n')+1:]
	t := strings.TrimRight(last, " \t\r")
	return !strings.Contains(last, "#") && !strings.HasSuffix(t, "&") && !strings.HasSuffix(t, ";") && !strings.HasSuffix(t, "|")
}

// planNR502InBuilder fixes a directory COPY'd in from a builder stage where it is made: the
// chgrp/chmod goes into the builder's RUN that last changes it (the copy keeps its modes).
func planNR502InBuilder(f diagnostics.Finding, m *dockerfile.Model, st *dockerfile.Stage, d *nr502Data) []diagnostics.Action {
	last := d.Path.Perm.Last()
	if last == nil || last.Instr == nil || last.Instr.Cmd != "copy" || last.Path != d.Path.Target {
		return nil
	}
	cc, ok := last.Instr.Parsed.(*instructions.CopyCommand)
	if !ok || cc.From == "" || len(cc.SourcePaths) != 1 || cc.Chmod != "" {
		return nil
	}
	dep := m.Stage(cc.From)
	src := cc.SourcePaths[0]
	if dep == nil || dep.Index >= st.Index || !shellSafe(src) {
		return nil
	}
	perm := dep.PermOf(src)
	in := perm.Last()
	if in == nil || in.Instr == nil || in.Instr.Stage != dep || in.Instr.Cmd != "run" || !mergeable(m, in.Instr) {
		return nil
	}
	end := m.Lines().PosAt(in.Instr.End)
	fix := fmt.Sprintf(" && chgrp -R 0 %s && chmod -R g=u %s", src, src)
	return diagnostics.Single(fmt.Sprintf("Give %s to group 0 in stage %s: chgrp -R 0 && chmod -R g=u", src, dep.Label()), f.File, true,
		text.Edit{Range: text.Range{Start: end, End: end}, NewText: fix})
}

// planNR502Copy gives a path a COPY/ADD --chown'ed to group 0 in the copy's own flags:
// --chown=<owner>:0, and the owner's bits copied to the group in its octal --chmod (g=u).
// Without an octal --chmod the copied modes are not known: the fix is then a RUN.
func planNR502Copy(f diagnostics.Finding, st *dockerfile.Stage, d *nr502Data) []diagnostics.Action {
	last := d.Path.Perm.Last()
	if last == nil || last.Instr == nil || last.Instr.Stage != st || last.Path != d.Path.Target {
		return nil
	}
	var chown, chmod string
	switch c := last.Instr.Parsed.(type) {
	case *instructions.CopyCommand:
		chown, chmod = c.Chown, c.Chmod
	case *instructions.AddCommand:
		chown, chmod = c.Chown, c.Chmod
	}
	bits, err := strconv.ParseUint(chmod, 8, 32)
	owner, _, _ := strings.Cut(chown, ":")
	if err != nil || owner == "" || strings.ContainsAny(chown, "$ \t") {
		return nil
	}
	mode := strconv.FormatUint(bits&^0o070|(bits&0o700)>>3, 8)
	if len(chmod) > len(mode) {
		mode = strings.Repeat("0", len(chmod)-len(mode)) + mode
	}
	op := strings.ToUpper(last.Instr.Cmd)
	return diagnostics.Single(fmt.Sprintf("Give %s to group 0: %s --chown=%s:0 --chmod=%s", d.Path.Target, op, owner, mode), f.File, true,
		last.Instr.SetFlag("--chown", owner+":0"), last.Instr.SetFlag("--chmod", mode))
}

// builderStageName names the stage planNR502Scratch adds.
const builderStageName = "nonroot-dirs"

func planNR502Scratch(s *diagnostics.Snapshot, f diagnostics.Finding, m *dockerfile.Model, st *dockerfile.Stage, d *nr502Data) []diagnostics.Action {
	if d.Path.Status != StatusNotCreated || st.From == nil || st.Parent != nil || m.Stage(builderStageName) != nil {
		return nil
	}
	p := d.Path.Target
	cfg := s.ConfigFor(f.File)
	uid, _ := dockerfile.FixUser(st, &cfg)
	eol := m.Lines().EOL()
	builder := fmt.Sprintf("FROM busybox:1.36 AS %s%sRUN mkdir -p %s && chgrp -R 0 %s && chmod -R g=u %s%s%s", builderStageName, eol, p, p, p, eol, eol)
	at := codeactions.Before(m.Lines(), st.From.Line())
	edits := []text.Edit{{Range: text.Range{Start: at, End: at}, NewText: builder}}
	copyLine := fmt.Sprintf("COPY --from=%s --chown=%d:0 %s %s", builderStageName, uid, p, p)
	var before *dockerfile.Instruction
	for _, in := range st.Instructions {
		if in.Cmd == "volume" || in.Cmd == "user" || in.Cmd == "entrypoint" || in.Cmd == "cmd" {
			before = in
			break
		}
	}
	if before != nil {
		edits = append(edits, before.InsertBefore(copyLine))
	} else {
		edits = append(edits, st.Instructions[len(st.Instructions)-1].InsertAfter(copyLine))
	}
	return diagnostics.Single(fmt.Sprintf("Prepare %s in a builder stage and COPY it with --chown=%d:0", p, uid), f.File, true, edits...)
}
