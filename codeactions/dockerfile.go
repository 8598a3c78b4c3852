package codeactions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Quick-fixes for the Dockerfile rules (SPEC §3, NR1xx). Every planner works on the model of
// the file as it is in the snapshot, edits the least text it can, keeps comments and the
// file's line endings, and plans nothing once its finding is gone (idempotent).

func init() {
	Register("NR101", planNR101)
	Register("NR102", planReplaceUser("NR102"))
	Register("NR103", planNR103)
	Register("NR104", planNR104)
	Register("NR105", planNR105)
	Register("NR106", planNR106)
	Register("NR107", planNR107)
	Register("NR110", planReplaceUser("NR110"))
	Register("NR111", planNR111)
}

// dockerfileOf returns the file and its model for a finding.
func dockerfileOf(s *diagnostics.Snapshot, f diagnostics.Finding) (*diagnostics.File, *dockerfile.Model, bool) {
	file, err := s.File(f.File)
	if err != nil || file.Kind != diagnostics.KindDockerfile {
		return nil, nil, false
	}
	m := dockerfile.Of(file)
	return file, m, !m.Fatal
}

func single(title string, path string, preferred bool, edits ...text.Edit) []Action {
	return []Action{{Title: title, Kind: KindQuickFix, Preferred: preferred, Edits: []FileEdit{{Path: path, Edits: edits}}}}
}

// lineStartBefore returns the position at the start of the comment block directly above the
// instruction (or the instruction's own line), where a new instruction is inserted "before" it.
func lineStartBefore(m *dockerfile.Model, in *dockerfile.Instruction) text.Pos {
	l := in.Line()
	for l > 0 {
		prev := strings.TrimSpace(m.Lines().Line(l - 1))
		if !strings.HasPrefix(prev, "#") || isDirective(m, l-1) {
			break
		}
		l--
	}
	return text.Pos{Line: l}
}

// isDirective reports whether line n is a parser directive (# syntax=, # escape=, # check=) at
// the top of the file, which must stay first.
func isDirective(m *dockerfile.Model, n int) bool {
	for i := 0; i <= n; i++ {
		t := strings.TrimSpace(m.Lines().Line(i))
		if !strings.HasPrefix(t, "#") {
			return false
		}
		k, _, ok := strings.Cut(strings.TrimSpace(t[1:]), "=")
		if !ok {
			return false
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "syntax", "escape", "check":
		default:
			return false
		}
	}
	return true
}

func indentOf(line string) string {
	return line[:len(line)-len(strings.TrimLeft(line, " \t"))]
}

// insertLineBefore inserts a new instruction line before in (and its comment block).
func insertLineBefore(m *dockerfile.Model, in *dockerfile.Instruction, line string) text.Edit {
	p := lineStartBefore(m, in)
	return text.Edit{Range: text.Range{Start: p, End: p}, NewText: indentOf(m.Lines().Line(in.Line())) + line + m.Lines().EOL()}
}

// insertLineAfter inserts a new line after the instruction's last line.
func insertLineAfter(m *dockerfile.Model, in *dockerfile.Instruction, line string) text.Edit {
	last := in.Node.EndLine - 1
	lines := m.Lines()
	if last+1 < lines.Count() {
		p := text.Pos{Line: last + 1}
		return text.Edit{Range: text.Range{Start: p, End: p}, NewText: line + lines.EOL()}
	}
	end := text.Pos{Line: last, Col: len(lines.Line(last))}
	return text.Edit{Range: text.Range{Start: end, End: end}, NewText: lines.EOL() + line}
}

// deleteLines deletes the instruction's lines with their terminators.
func deleteLines(m *dockerfile.Model, in *dockerfile.Instruction) text.Edit {
	lines := m.Lines()
	first, last := in.Line(), in.Node.EndLine-1
	start := text.Pos{Line: first}
	end := text.Pos{Line: last + 1}
	if last+1 >= lines.Count() {
		end = text.Pos{Line: last, Col: len(lines.Line(last))}
		if first > 0 {
			start = text.Pos{Line: first - 1, Col: len(lines.Line(first - 1))}
		}
	}
	return text.Edit{Range: text.Range{Start: start, End: end}}
}

// hasCommentLines reports whether an instruction's continuation lines hold comments.
func hasCommentLines(m *dockerfile.Model, in *dockerfile.Instruction) bool {
	for l := in.Line() + 1; l < in.Node.EndLine; l++ {
		if strings.HasPrefix(strings.TrimSpace(m.Lines().Line(l)), "#") {
			return true
		}
	}
	return false
}

func identity(uid, gid int) string { return strconv.Itoa(uid) + ":" + strconv.Itoa(gid) }

// NR101: insert USER <uid>:0 before the ENTRYPOINT/CMD that follow the last RUN, else at the
// end of the stage.
func planNR101(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*dockerfile.NR101Data)
	_, m, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || d.Stage == nil || d.Stage.Model() != m {
		return nil
	}
	st := d.Stage
	cfg := s.ConfigFor(f.File)
	uid, gid := dockerfile.FixUser(st, &cfg)
	line := "USER " + identity(uid, gid)
	lastRun := -1
	for _, in := range st.Instructions {
		if in.Cmd == "run" {
			lastRun = in.Index
		}
	}
	var edit text.Edit
	var before *dockerfile.Instruction
	for _, in := range st.Instructions {
		if (in.Cmd == "entrypoint" || in.Cmd == "cmd") && in.Index > lastRun {
			before = in
			break
		}
	}
	if before != nil {
		edit = insertLineBefore(m, before, line)
	} else {
		edit = insertLineAfter(m, st.Instructions[len(st.Instructions)-1], line)
	}
	return single(fmt.Sprintf("Add %q", line), f.File, true, edit)
}

// NR102, NR110: replace the USER argument (NR102) or its user part (NR110) with a non-root uid.
func planReplaceUser(rule string) Planner {
	return func(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
		d, ok := f.Data.(*dockerfile.UserData)
		_, m, ok2 := dockerfileOf(s, f)
		if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil {
			return nil
		}
		cfg := s.ConfigFor(f.File)
		uid, gid := dockerfile.FixUser(d.Stage, &cfg)
		if rule == "NR102" {
			return single(fmt.Sprintf("Replace with USER %s", identity(uid, gid)), f.File, true,
				text.Edit{Range: d.User.Range(), NewText: identity(uid, gid)})
		}
		// NR110: the named user's uid when the Dockerfile creates it (in any stage), else the default.
		for _, st := range m.Stages {
			for _, c := range st.Created {
				if c.Name == d.User.Name && c.UID != nil && *c.UID > 0 {
					uid = *c.UID
				}
			}
		}
		return single(fmt.Sprintf("Replace %s with uid %d", d.User.Name, uid), f.File, true,
			text.Edit{Range: d.User.UserPartRange(), NewText: strconv.Itoa(uid)})
	}
}

// NR103: replace the name with the uid the Dockerfile gives it; when created without one,
// add -u <uid> to the useradd/adduser too.
func planNR103(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*dockerfile.UserData)
	_, m, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil {
		return nil
	}
	lines := m.Lines()
	edits := []text.Edit{}
	var uid int
	switch created := findCreated(d.Stage, d.User.Name); {
	case created != nil && created.UID != nil:
		uid = *created.UID
	case created != nil && created.NameAt >= 0:
		cfg := s.ConfigFor(f.File)
		uid, _ = cfg.User()
		flag := "-u "
		if created.LongOpts {
			flag = "--uid "
		}
		p := lines.PosAt(created.NameAt)
		edits = append(edits, text.Edit{Range: text.Range{Start: p, End: p}, NewText: flag + strconv.Itoa(uid) + " "})
	case d.User.UID != nil:
		uid = *d.User.UID
	default:
		return nil // a user the image already has, with a uid this file does not say
	}
	edits = append(edits, text.Edit{Range: d.User.UserPartRange(), NewText: strconv.Itoa(uid)})
	return single(fmt.Sprintf("Replace %s with uid %d", d.User.Name, uid), f.File, true, edits...)
}

func findCreated(st *dockerfile.Stage, name string) *dockerfile.CreatedUser {
	cs := st.CreatedUsers()
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// NR104: replace the uid with the configured default.
func planNR104(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*dockerfile.UserData)
	_, m, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	uid, _ := cfg.User()
	return single(fmt.Sprintf("Replace with uid %d", uid), f.File, true,
		text.Edit{Range: d.User.UserPartRange(), NewText: strconv.Itoa(uid)})
}

// NR105: move the USER after the last RUN that needs root.
func planNR105(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*dockerfile.NR105Data)
	_, m, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || d.User == nil || d.Last == nil || d.User.Stage != d.Last.Stage || d.User.Stage.Model() != m || d.User.Index > d.Last.Index {
		return nil
	}
	if d.User.Node.EndLine != d.User.Node.StartLine {
		return nil
	}
	lines := m.Lines()
	userLine := lines.Line(d.User.Line())
	edits := []text.Edit{deleteLines(m, d.User), insertLineAfter(m, d.Last, userLine)}
	return single(fmt.Sprintf("Move USER after the RUN on line %d", d.Last.Node.EndLine), f.File, true, edits...)
}

// NR106: put --chown/--chmod on the COPY and drop the command from the RUN.
func planNR106(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*dockerfile.NR106Data)
	_, m, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || !d.Exact || d.Run.Stage.Model() != m {
		return nil
	}
	c := d.Cmd
	var pos []dockerfile.Arg
	for _, a := range c.Args {
		if !strings.HasPrefix(a.Value, "-") {
			pos = append(pos, a)
		}
	}
	if len(pos) < 2 || !pos[0].OK {
		return nil
	}
	spec := pos[0].Value
	flag := "--chown"
	if c.Name == "chmod" {
		flag = "--chmod"
		if _, err := strconv.ParseUint(spec, 8, 32); err != nil {
			return nil // COPY --chmod takes octal modes
		}
	} else if strings.ContainsAny(spec, " \t'\"") {
		return nil
	}
	lines := m.Lines()
	var edits []text.Edit
	for _, cp := range d.Copies {
		in := cp.Instr
		if in.Stage != d.Run.Stage {
			return nil
		}
		flags := m.Source()[in.FlagsAt:in.ArgsAt]
		if i := strings.Index(flags, flag+"="); i >= 0 {
			start := in.FlagsAt + i
			end := start
			for end < in.ArgsAt && m.Source()[end] != ' ' && m.Source()[end] != '\t' {
				end++
			}
			edits = append(edits, text.Edit{Range: lines.RangeOf(start, end), NewText: flag + "=" + spec})
		} else {
			p := lines.PosAt(in.FlagsAt)
			edits = append(edits, text.Edit{Range: text.Range{Start: p, End: p}, NewText: flag + "=" + spec + " "})
		}
	}
	switch {
	case d.Run.Single && !hasCommentLines(m, d.Run.Instr):
		edits = append(edits, deleteLines(m, d.Run.Instr))
	case c.RemoveEnd > c.RemoveStart:
		edits = append(edits, text.Edit{Range: lines.RangeOf(c.RemoveStart, c.RemoveEnd)})
	default:
		return nil
	}
	return single(fmt.Sprintf("Use COPY %s=%s and drop the %s", flag, spec, c.Name), f.File, true, edits...)
}

// NR107: create the path owned by the runtime user, group 0, before USER.
func planNR107(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := f.Data.(*dockerfile.NR107Data)
	_, m, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || d.Stage.Model() != m || d.Stage.Scratch {
		return nil
	}
	u := d.User
	if u.Instr == nil || u.Instr.Stage != d.Stage {
		return nil // the user comes from elsewhere: no place before it in this stage
	}
	owner := u.Name
	if u.UID != nil {
		owner = strconv.Itoa(*u.UID)
	}
	if owner == "" || strings.ContainsAny(d.Path, " \t'\"$") {
		return nil
	}
	p := d.Path
	line := fmt.Sprintf("RUN mkdir -p %s && chown %s:0 %s && chmod g=u %s", p, owner, p, p)
	before := u.Instr
	if in := d.Instr; in != nil && in.Cmd == "volume" && in.Stage == before.Stage && in.Index < before.Index {
		before = in // prepare the path before it is declared a volume
	}
	return single(fmt.Sprintf("Create %s owned by %s:0 before USER", p, owner), f.File, true, insertLineBefore(m, before, line))
}

// NR111: remove sudo (and its options).
func planNR111(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	c, ok := f.Data.(*dockerfile.Command)
	_, _, ok2 := dockerfileOf(s, f)
	if !ok || !ok2 || !c.Sudo {
		return nil
	}
	return single("Remove sudo", f.File, true, text.Edit{Range: c.SudoRange()})
}
