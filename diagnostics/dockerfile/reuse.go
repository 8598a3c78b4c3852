package dockerfile

import (
	"slices"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// An edit changes one stage of a Dockerfile; the model of the new version copies the
// analysis of every other stage from the model of the previous version of the same document,
// moved to where the stage now is, instead of analysing it again:
//
//   - a stage's analysis depends only on its text (FROM line to last instruction), the
//     global ARGs, the escape token and its parent stage: a stage whose text and global ARGs
//     are those of the previous model's stage with the same index, and whose parent is the
//     copy of that stage's parent (or both have none), gets that stage's analysis, every
//     byte offset moved by the distance the stage moved and every line by the lines it moved;
//     pointers to instructions (the USER a user comes from, the instruction of a path) are
//     mapped to the new model's instructions with the same stage and instruction index;
//   - in a stage that is analysed again, a RUN whose text the previous stage had, and whose
//     variables have the values they had, gets that RUN's commands, moved the same way.
//
// The previous model is the one memoised on the document's previous version (File.Previous:
// only one is kept per document), and a model keeps no pointer to the model it copied from,
// so nothing chains old versions together. A RUN that
// did not move shares its commands with the previous model instead of copying them; they
// read their positions through the line index of the version that made them, which is then
// kept alive: a model shares only commands made by one of its maxOldLines previous versions
// (copying the others), so at most that many older texts are kept.

// maxOldLines bounds the older versions whose line index a model's commands may use.
const maxOldLines = 3

// place sets the stage's text, offset and line from its instructions' lines.
func (m *Model) place(st *Stage) {
	first, last := st.Instructions[0].Node, st.Instructions[len(st.Instructions)-1].Node
	st.at = m.lineStart(first.StartLine)
	st.text = m.src[st.at:max(st.at, m.lineEnd(last.EndLine))]
	st.line = m.lines.PosAt(st.at).Line
}

// reusable returns the previous model's stage whose analysis st can copy, or nil. It also
// sets st.old, whose RUNs an analysis of st may reuse.
func (m *Model) reusable(st *Stage, sameMeta bool) *Stage {
	p := m.prev
	if p == nil || st.Index >= len(p.Stages) {
		return nil
	}
	o := p.Stages[st.Index]
	st.old = o
	if !sameMeta || o.text != st.text || (o.at == 0) != (st.at == 0) || len(o.Instructions) != len(st.Instructions) {
		return nil
	}
	switch {
	case st.Parent == nil && o.Parent == nil:
	case st.Parent != nil && o.Parent != nil && st.Parent.reused == o.Parent:
	default:
		return nil
	}
	return o
}

// instr maps an instruction of the previous model (of a stage whose copy this model holds at
// the same index) to this model's.
func (m *Model) instr(in *Instruction) *Instruction {
	if in == nil {
		return nil
	}
	return m.Stages[in.Stage.Index].Instructions[in.Index]
}

func (m *Model) user(u User) User {
	u.Instr = m.instr(u.Instr)
	return u
}

// users maps the shared users of a previous model's stage to this model's: a user that
// names no instruction is immutable and shared as it is.
type users struct {
	m    *Model
	done map[*User]*User
}

func (us *users) of(u *User) *User {
	if u == nil || u.Instr == nil {
		return u
	}
	if n, ok := us.done[u]; ok {
		return n
	}
	n := us.m.user(*u)
	if us.done == nil {
		us.done = map[*User]*User{}
	}
	us.done[u] = &n
	return &n
}

// reuse copies the analysis of o, the previous model's stage that st is a copy of.
func (m *Model) reuse(st, o *Stage) {
	st.reused = o
	dB, dL := st.at-o.at, st.line-o.line
	mv := func(r text.Range) text.Range {
		r.Start.Line += dL
		r.End.Line += dL
		return r
	}
	us := users{m: m}
	for k, in := range st.Instructions {
		oi := o.Instructions[k]
		in.Start, in.End, in.FlagsAt, in.ArgsAt, in.FirstEnd = oi.Start+dB, oi.End+dB, oi.FlagsAt+dB, oi.ArgsAt+dB, oi.FirstEnd+dB
		in.envLen = oi.envLen
		in.user = us.of(oi.user)
		// Only USER instructions that parsed have their user set by the analysis (others
		// compute it when asked).
		if _, ok := oi.Parsed.(*instructions.UserCommand); ok {
			in.after = us.of(oi.after)
		}
	}
	st.Windows = o.Windows
	st.env, st.workdir = o.env, o.workdir
	st.Initial = m.user(o.Initial)
	st.Entrypoint, st.Cmd = m.instr(o.Entrypoint), m.instr(o.Cmd)
	if len(o.Users) > 0 {
		st.Users = make([]*Instruction, len(o.Users))
		for i, in := range o.Users {
			st.Users[i] = m.instr(in)
		}
	}
	st.Created = slices.Clone(o.Created)
	for i := range st.Created {
		c := &st.Created[i]
		c.Range = mv(c.Range)
		if c.NameAt >= 0 {
			c.NameAt += dB
		}
	}
	st.Groups = slices.Clone(o.Groups)
	for i := range st.Groups {
		st.Groups[i].Range = mv(st.Groups[i].Range)
	}
	st.Paths = slices.Clone(o.Paths)
	for i := range st.Paths {
		p := &st.Paths[i]
		p.Range, p.Instr, p.owner = mv(p.Range), m.instr(p.Instr), us.of(p.owner)
	}
	st.Volumes, st.Ports = slices.Clone(o.Volumes), slices.Clone(o.Ports)
	for _, ps := range [][]Port{st.Volumes, st.Ports} {
		for i := range ps {
			ps[i].Range, ps[i].Instr = mv(ps[i].Range), m.instr(ps[i].Instr)
		}
	}
	st.Setcaps = slices.Clone(o.Setcaps)
	for i := range st.Setcaps {
		st.Setcaps[i].Range = mv(st.Setcaps[i].Range)
	}
	if len(o.Copies) > 0 {
		copies := make([]Copy, len(o.Copies))
		st.Copies = make([]*Copy, len(o.Copies))
		for i, c := range o.Copies {
			copies[i] = *c
			copies[i].Instr = m.instr(c.Instr)
			st.Copies[i] = &copies[i]
			if c.From != "" {
				if dep := m.Stage(c.From); dep != nil && dep.Index < st.Index {
					st.DependsOn = append(st.DependsOn, dep)
				}
			}
		}
	}
	if len(o.Runs) > 0 {
		var a cmdAlloc
		for _, r := range o.Runs {
			if dB != 0 || dL != 0 || !m.mayShare(r.Commands) {
				a.reserve(r.Commands)
			}
		}
		runs := make([]Run, len(o.Runs))
		st.Runs = make([]*Run, len(o.Runs))
		for i, or := range o.Runs {
			r := &runs[i]
			*r = *or
			r.Instr, r.Stage = m.instr(or.Instr), st
			r.Commands, r.Writes = a.moved(or.Commands, or.Writes, dB, dL, m, dB == 0 && dL == 0)
			st.Runs[i] = r
		}
	}
}

// cmdAlloc copies commands into slabs sized by reserve.
type cmdAlloc struct {
	nCmds, nArgs int
	cmds         []Command
	ptrs         []*Command
	args         []Arg
}

func (a *cmdAlloc) reserve(cmds []*Command) {
	a.nCmds += len(cmds)
	for _, c := range cmds {
		a.nArgs += len(c.Args)
	}
}

// moved returns the commands and written files of a RUN moved by dB bytes and dL lines:
// copies (reserved before), or the same ones when same says the RUN's lines did not move
// and m may share them. A command reads its positions through its line index, which may
// then be that of a previous version: the same lines at the same offsets have the same
// positions.
func (a *cmdAlloc) moved(cmds []*Command, writes []Arg, dB, dL int, m *Model, same bool) ([]*Command, []Arg) {
	if same && m.mayShare(cmds) {
		return cmds, writes
	}
	return a.move(cmds, dB, dL, m.lines), movedArgs(writes, dB)
}

// mayShare reports whether the line indexes cmds use are among those m keeps.
func (m *Model) mayShare(cmds []*Command) bool {
	for _, c := range cmds {
		if !slices.Contains(m.oldLines, c.lines) {
			return false
		}
	}
	return true
}

// move copies cmds (reserved before) with their byte offsets moved by dB and lines by dL.
func (a *cmdAlloc) move(cmds []*Command, dB, dL int, lines *text.Lines) []*Command {
	if len(cmds) == 0 {
		return nil
	}
	if a.cmds == nil {
		a.cmds, a.ptrs, a.args = make([]Command, a.nCmds), make([]*Command, a.nCmds), make([]Arg, 0, a.nArgs)
	}
	out := a.ptrs[:len(cmds):len(cmds)]
	a.ptrs = a.ptrs[len(cmds):]
	for i, oc := range cmds {
		c := &a.cmds[i]
		*c = *oc
		c.Start, c.End, c.NameStart, c.NameEnd = c.Start+dB, c.End+dB, c.NameStart+dB, c.NameEnd+dB
		if c.Sudo {
			c.SudoStart += dB
		}
		if c.RemoveEnd > c.RemoveStart {
			c.RemoveStart, c.RemoveEnd = c.RemoveStart+dB, c.RemoveEnd+dB
		}
		c.Line += dL
		c.lines = lines
		c.Args = nil
		if len(oc.Args) > 0 {
			start := len(a.args)
			for _, arg := range oc.Args {
				arg.Start, arg.End = arg.Start+dB, arg.End+dB
				a.args = append(a.args, arg)
			}
			c.Args = a.args[start:len(a.args):len(a.args)]
		}
		out[i] = c
	}
	a.cmds = a.cmds[len(cmds):]
	return out
}

func movedArgs(args []Arg, dB int) []Arg {
	if len(args) == 0 {
		return nil
	}
	out := make([]Arg, len(args))
	for i, arg := range args {
		arg.Start, arg.End = arg.Start+dB, arg.End+dB
		out[i] = arg
	}
	return out
}

// previousRun returns the previous model's RUN with the text of in (in the stage with the
// same index), or nil.
func (st *Stage) previousRun(in *Instruction) *Run {
	o := st.old
	if o == nil || len(o.Runs) == 0 {
		return nil
	}
	if st.oldRuns == nil {
		st.oldRuns = make(map[string]*Run, len(o.Runs))
		for _, r := range o.Runs {
			if r.scanned {
				st.oldRuns[o.model.src[r.Instr.Start:r.Instr.End]] = r
			}
		}
	}
	return st.oldRuns[st.model.src[in.Start:in.End]]
}

// lookupsValid reports whether the variables r's scan looked up have the same values in env.
func (r *Run) lookupsValid(env func(string) (string, bool)) bool {
	for _, l := range r.lookups {
		v, ok := env(l.name)
		if v != l.val || ok != l.ok {
			return false
		}
	}
	return true
}
