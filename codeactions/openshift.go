package codeactions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	yaml "go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/openshift"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Quick-fixes for NR501–NR504 (SPEC §3, profile openshift).

func init() {
	Register("NR501", planNR501)
	Register("NR502", planNR502)
	Register("NR503", manifestPlanner(planNR503))
	Register("NR504", manifestPlanner(planNR504))
}

// NR501: rewrite the USER argument as <uid>:0 (the uid the Dockerfile gives a named user).
func planNR501(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*openshift.NR501Data)
	_, m, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil || d.User.Instr.Stage.Model() != m {
		return nil
	}
	u := d.User
	user := u.Raw
	if i := strings.IndexByte(user, ':'); i >= 0 {
		user = user[:i]
	}
	switch {
	case u.UID != nil:
		user = strconv.Itoa(*u.UID)
	case u.Kind == dockerfile.KindNamed:
		if cu := findCreated(d.Stage, u.Name); cu != nil && cu.UID != nil {
			user = strconv.Itoa(*cu.UID)
		}
	}
	if user == "" || strings.ContainsAny(user, " \t") {
		return nil
	}
	arg := user + ":0"
	return single(fmt.Sprintf("Use USER %s", arg), f.File, true, text.Edit{Range: u.Range(), NewText: arg})
}

// shellSafe reports whether a path can be written unquoted in a RUN line.
func shellSafe(p string) bool {
	return p != "" && strings.HasPrefix(p, "/") && !strings.ContainsAny(p, " \t'\"$`\\;&|<>*?[]{}()#~")
}

// NR502: `chgrp -R 0 P && chmod -R g=u P` appended to the RUN that last changes P (when root
// runs it), else as a new RUN before USER (or before the VOLUME that declares P). For a
// VOLUME of a FROM scratch image nothing can run: prepare the directory in a builder stage
// and COPY it in with --chown=<uid>:0 (seed 000's pattern).
func planNR502(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*openshift.NR502Data)
	_, m, ok2 := dockerfileOf(s, f)
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
	if d.Scratch {
		return planNR502Scratch(s, f, m, st, d)
	}
	fix := fmt.Sprintf("chgrp -R 0 %s && chmod -R g=u %s", p, p)
	title := fmt.Sprintf("Give %s to group 0: chgrp -R 0 && chmod -R g=u", p)
	// Merge into the RUN that last changes P.
	if last := d.Path.Perm.Last(); last != nil && last.Instr != nil && last.Instr.Stage == st && last.Instr.Cmd == "run" && mergeable(m, last.Instr) {
		end := m.Lines().PosAt(last.Instr.End)
		return single(title, f.File, true, text.Edit{Range: text.Range{Start: end, End: end}, NewText: " && " + fix})
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
	if d.Path.Status == openshift.StatusNotCreated {
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
		edit = insertLineBefore(m, before, line)
	} else {
		last := st.Instructions[len(st.Instructions)-1]
		if last.Cmd != "user" && st.User().NonRoot() {
			return nil
		}
		edit = insertLineAfter(m, last, line)
	}
	return single(title, f.File, true, edit)
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
func planNR502InBuilder(f diagnostics.Finding, m *dockerfile.Model, st *dockerfile.Stage, d *openshift.NR502Data) []Action {
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
	return single(fmt.Sprintf("Give %s to group 0 in stage %s: chgrp -R 0 && chmod -R g=u", src, dep.Label()), f.File, true,
		text.Edit{Range: text.Range{Start: end, End: end}, NewText: fix})
}

// builderStageName names the stage planNR502Scratch adds.
const builderStageName = "nonroot-dirs"

func planNR502Scratch(s *diagnostics.Snapshot, f diagnostics.Finding, m *dockerfile.Model, st *dockerfile.Stage, d *openshift.NR502Data) []Action {
	if d.Path.Status != openshift.StatusNotCreated || st.From == nil || st.Parent != nil || m.Stage(builderStageName) != nil {
		return nil
	}
	p := d.Path.Target
	cfg := s.ConfigFor(f.File)
	uid, _ := dockerfile.FixUser(st, &cfg)
	eol := m.Lines().EOL()
	builder := fmt.Sprintf("FROM busybox:1.36 AS %s%sRUN mkdir -p %s && chgrp -R 0 %s && chmod -R g=u %s%s%s", builderStageName, eol, p, p, p, eol, eol)
	at := lineStartBefore(m, st.From)
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
		edits = append(edits, insertLineBefore(m, before, copyLine))
	} else {
		edits = append(edits, insertLineAfter(m, st.Instructions[len(st.Instructions)-1], copyLine))
	}
	return single(fmt.Sprintf("Prepare %s in a builder stage and COPY it with --chown=%d:0", p, uid), f.File, true, edits...)
}

// manifestPlanner adapts an NR503/NR504 plan to a Planner.
func manifestPlanner(plan func(e *YAMLEditor, d *openshift.ManifestData) (kubeFix, error)) Planner {
	return func(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
		d, ok := f.Data.(*openshift.ManifestData)
		if !ok || d == nil || d.Manifest == nil {
			return nil
		}
		file, err := s.File(f.File)
		if err != nil || file.Text != d.Manifest.Lines.Source() {
			return nil
		}
		e := &YAMLEditor{Lines: d.Manifest.Lines, Style: DetectYAMLStyle(file.Text, d.Manifest.Docs)}
		fix, err := plan(e, d)
		if err != nil || len(fix.edits) == 0 {
			return nil
		}
		return []Action{{Title: fix.title, Preferred: !fix.notPreferred, Edits: []FileEdit{{Path: f.File, Edits: fix.edits}}}}
	}
}

func hasKey(m *yaml.Node, key string) bool {
	if m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// NR503: remove the field; when its securityContext does not say runAsNonRoot, the field
// becomes `runAsNonRoot: true` so the workload still declares it runs as non-root.
func planNR503(e *YAMLEditor, d *openshift.ManifestData) (kubeFix, error) {
	if d.Holder == nil || d.KeyNode == nil || d.Value == nil {
		return kubeFix{}, ErrYAMLShape
	}
	title := fmt.Sprintf("Remove %s (OpenShift assigns it from the namespace's range)", d.Key)
	if hasKey(d.Holder, "runAsNonRoot") {
		ed, err := e.Remove(d.Holder, d.Key)
		if err != nil {
			return kubeFix{}, err
		}
		return kubeFix{title: title, edits: []text.Edit{ed}}, nil
	}
	vr := kube.Range(e.Lines, d.Value)
	if d.Value.Kind != yaml.ScalarNode && !(d.Value.Style&yaml.FlowStyle != 0 && vr.Start.Line == vr.End.Line && d.Value.Line == d.KeyNode.Line) {
		return kubeFix{}, ErrYAMLShape
	}
	if d.Value.Kind != yaml.ScalarNode {
		// A flow sequence: its range is its first line; it must close on it.
		line := e.Lines.Line(vr.Start.Line)
		end := strings.LastIndexByte(line, ']')
		if end < vr.Start.Col {
			return kubeFix{}, ErrYAMLShape
		}
		vr.End = text.Pos{Line: vr.Start.Line, Col: end + 1}
	}
	repl := "runAsNonRoot: true"
	if e.Style.JSON {
		repl = `"runAsNonRoot": true`
	}
	kr := kube.Range(e.Lines, d.KeyNode)
	return kubeFix{title: title + ", keep runAsNonRoot: true", edits: []text.Edit{{Range: text.Range{Start: kr.Start, End: vr.End}, NewText: repl}}}, nil
}

// NR504: as the NR2xx fixes — remove privileged, hostNetwork/hostPID/hostIPC and hostPort,
// set allowPrivilegeEscalation: false and seccompProfile.type: RuntimeDefault; an added
// capability gets NR204's "Remove capability X" (not preferred: only the author knows whether
// the workload needs it). Volumes are the author's decision: no fix.
func planNR504(e *YAMLEditor, d *openshift.ManifestData) (kubeFix, error) {
	switch d.Key {
	case "privileged", "hostNetwork", "hostPID", "hostIPC", "hostPort":
		if d.Holder == nil {
			return kubeFix{}, ErrYAMLShape
		}
		title := "Remove " + d.Key
		if ed, err := e.Remove(d.Holder, d.Key); err == nil {
			return kubeFix{title: title, edits: []text.Edit{ed}}, nil
		}
		if d.Key == "hostPort" || d.Value == nil {
			return kubeFix{}, ErrYAMLShape
		}
		return kubeFix{title: title, edits: []text.Edit{e.SetScalar(d.Value, "false")}}, nil
	case "allowPrivilegeEscalation":
		if d.Value == nil {
			return kubeFix{}, ErrYAMLShape
		}
		return kubeFix{title: "Set allowPrivilegeEscalation: false", edits: []text.Edit{e.SetScalar(d.Value, "false")}}, nil
	case "capabilities.add":
		if d.Container == nil || d.Value == nil {
			return kubeFix{}, ErrYAMLShape
		}
		return removeCapability(e, &kube.Data{Manifest: d.Manifest, Workload: d.Workload, Container: d.Container,
			Field: &kube.Field{Value: d.Value.Value, Node: d.Value}})
	case "seccompProfile.type":
		if d.Value == nil {
			return kubeFix{}, ErrYAMLShape
		}
		edits := []text.Edit{e.SetScalar(d.Value, "RuntimeDefault")}
		if hasKey(d.Holder, "localhostProfile") {
			// localhostProfile is only valid with type Localhost.
			ed, err := e.Remove(d.Holder, "localhostProfile")
			if err != nil {
				return kubeFix{}, err
			}
			edits = append(edits, ed)
		}
		return kubeFix{title: "Set seccompProfile.type: RuntimeDefault", edits: edits}, nil
	}
	return kubeFix{}, ErrYAMLShape
}
