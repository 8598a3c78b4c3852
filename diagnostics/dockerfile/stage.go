package dockerfile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// analyse walks a stage's instructions in order, tracking env, WORKDIR and the user.
func (m *Model) analyse(st *Stage, meta []Var, lex *shell.Lex) {
	nEnv := 0
	for _, in := range st.Instructions {
		switch p := in.Parsed.(type) {
		case *instructions.ArgCommand:
			nEnv += len(p.Args)
		case *instructions.EnvCommand:
			nEnv += len(p.Env)
		}
	}
	if st.Parent != nil {
		nEnv += len(st.Parent.env)
	}
	if nEnv > 0 {
		st.env = make([]Var, 0, nEnv) // the exact size: parent's ENVs, then this stage's ARGs and ENVs
	}
	if st.Parent != nil {
		for _, v := range st.Parent.env {
			if !v.Arg {
				st.env = append(st.env, v)
			}
		}
	}
	st.Initial = m.initialUser(st)
	user := st.Initial
	cur := &User{}
	*cur = user // the user in force, shared by the instructions until the next USER
	// Size the per-stage lists once: appending large structs (PathPerm) one by one
	// reallocates and copies them repeatedly on long stages.
	var nPaths, nCopies, nRuns int
	for _, in := range st.Instructions {
		switch in.Parsed.(type) {
		case *instructions.WorkdirCommand:
			nPaths++
		case *instructions.CopyCommand, *instructions.AddCommand:
			nPaths++
			nCopies++
		case *instructions.RunCommand:
			nRuns++
			nPaths += pathCommands(in.Node.Original)
		}
	}
	if nPaths > 0 {
		st.Paths = make([]PathPerm, 0, nPaths)
	}
	if nCopies > 0 {
		st.Copies = make([]*Copy, 0, nCopies)
	}
	if nRuns > 0 {
		st.Runs = make([]*Run, 0, nRuns)
	}
	workdir := "/"
	if st.Parent != nil {
		workdir = st.Parent.finalWorkdir()
	}
	for _, in := range st.Instructions {
		in.envLen = len(st.env)
		in.user = cur
		switch p := in.Parsed.(type) {
		case *instructions.ArgCommand:
			for _, kv := range p.Args {
				v := Var{Name: kv.Key, Arg: true}
				if kv.Value != nil {
					v.Value, _ = expand(lex, *kv.Value, envView{st.env})
					v.Set = true
				} else if g, ok := (envView{meta}).Get(kv.Key); ok {
					v.Value, v.Set = g, true
				}
				st.env = append(st.env, v)
			}
		case *instructions.EnvCommand:
			for _, kv := range p.Env {
				val, _ := expand(lex, kv.Value, envView{st.env})
				st.env = append(st.env, Var{Name: kv.Key, Value: val, Set: true})
			}
			in.envLen = len(st.env)
		case *instructions.UserCommand:
			user = st.userOf(in)
			cur = &User{}
			*cur = user
			in.after = cur
			st.Users = append(st.Users, in)
			if user.Windows {
				st.Windows = true
			}
		case *instructions.WorkdirCommand:
			w, _ := expand(lex, p.Path, envView{st.env})
			workdir = joinPath(workdir, w)
			st.addPerm(PathPerm{Path: workdir, Op: "WORKDIR", Range: in.ArgsRange(), Instr: in, bits: 0o755}, cur)
		case *instructions.CopyCommand:
			st.addCopy(in, "COPY", p.SourcesAndDest, p.From, p.Chown, p.Chmod, workdir, cur, lex)
		case *instructions.AddCommand:
			st.addCopy(in, "ADD", p.SourcesAndDest, "", p.Chown, p.Chmod, workdir, cur, lex)
		case *instructions.VolumeCommand:
			words := p.Volumes
			rgs := in.tokenRanges(words)
			for i, v := range words {
				val, _ := expand(lex, v, envView{st.env})
				st.Volumes = append(st.Volumes, Port{Value: joinPath(workdir, val), Range: rgs[i], Instr: in})
			}
		case *instructions.ExposeCommand:
			words := nodeWords(in.Node)
			rgs := in.tokenRanges(words)
			for i, pt := range words {
				val, _ := expand(lex, pt, envView{st.env})
				for _, one := range strings.Fields(val) {
					port := Port{Value: one, Range: rgs[i], Instr: in}
					num, proto, _ := strings.Cut(one, "/")
					port.Protocol = proto
					if lo, _, isRange := strings.Cut(num, "-"); isRange {
						num = lo
					}
					if n, err := strconv.Atoi(num); err == nil {
						port.Number = n
					}
					st.Ports = append(st.Ports, port)
				}
			}
		case *instructions.EntrypointCommand:
			st.Entrypoint = in
		case *instructions.CmdCommand:
			st.Cmd = in
		case *instructions.RunCommand:
			r := &Run{Instr: in, Stage: st, Workdir: workdir}
			st.Runs = append(st.Runs, r)
			r.analyse()
		}
	}
	st.workdir = workdir
}

// onbuild analyses the RUNs the stage's ONBUILD instructions trigger: they run, in a stage or
// image built FROM this one, right after its FROM, so as this stage's final user, in its final
// WORKDIR, with its ENVs.
func (m *Model) onbuild(st *Stage) {
	for _, in := range st.Instructions {
		if in.Cmd != "onbuild" {
			continue
		}
		n := in.Node.Next
		if n == nil || len(n.Children) == 0 || len(in.Node.Heredocs) > 0 || lowerCmd(n.Children[0].Value) != "run" {
			continue
		}
		child := *n.Children[0]
		child.StartLine, child.EndLine = in.Node.StartLine, in.Node.EndLine
		rc, err := parseInstruction(&child)
		if _, ok := rc.(*instructions.RunCommand); !ok || err != nil {
			continue
		}
		u := st.User()
		t := &Instruction{Cmd: "run", Node: &child, Parsed: rc, Stage: st, Index: in.Index, End: in.End, FirstEnd: in.FirstEnd, envLen: len(st.env), user: &u}
		m.keyword(t, in.ArgsAt, max(in.ArgsAt, in.FirstEnd))
		r := &Run{Instr: t, Stage: st, Workdir: st.finalWorkdir(), Onbuild: true}
		r.analyse()
		st.Onbuild = append(st.Onbuild, r)
	}
}

// Export reports whether the stage is an export stage, whose image never runs: FROM scratch
// (directly or through its parents), no ENTRYPOINT or CMD, and nothing but files copied in
// (COPY, ADD; ARG, LABEL) — the build output `docker build --output` writes out.
func (st *Stage) Export() bool {
	if !st.Scratch {
		return false
	}
	for _, s := range st.Ancestry() {
		for _, in := range s.Instructions[1:] {
			switch in.Cmd {
			case "copy", "add", "arg", "label":
			default:
				return false
			}
		}
	}
	return true
}

// RunsAndTriggers returns the stage's RUNs, then those its ONBUILD instructions trigger.
func (st *Stage) RunsAndTriggers() []*Run {
	if len(st.Onbuild) == 0 {
		return st.Runs
	}
	return slices.Concat(st.Runs, st.Onbuild)
}

// pathCommands estimates how many path changes a RUN records (Run.record): the number of
// mkdir, chown, chgrp and chmod words in it (install -d is rare; "apt-get install" is
// common). It only sizes Stage.Paths.
func pathCommands(run string) int {
	n := 0
	for _, w := range [...]string{"mkdir", "chown", "chgrp", "chmod"} {
		n += strings.Count(run, w)
	}
	return n
}

func (st *Stage) finalWorkdir() string {
	if st.workdir == "" {
		return "/"
	}
	return st.workdir
}

func nodeWords(n *parser.Node) []string {
	var out []string
	for w := n.Next; w != nil; w = w.Next {
		out = append(out, w.Value)
	}
	return out
}

// tokenRanges finds the ranges of successive tokens (as written) in the instruction's
// arguments, each a whole word (delimited by blanks, quotes, brackets or commas).
func (in *Instruction) tokenRanges(toks []string) []text.Range {
	m := in.Stage.model
	out := make([]text.Range, len(toks))
	pos := in.ArgsAt
	end := max(in.ArgsAt, in.End)
	delim := func(c byte) bool {
		return isBlank(c) || c == '"' || c == '\'' || c == '[' || c == ']' || c == ',' || c == '\n' || c == '\\'
	}
	for i, tok := range toks {
		out[i] = in.ArgsRange()
		if tok == "" {
			continue
		}
		for p := pos; p < end; {
			j := strings.Index(m.src[p:end], tok)
			if j < 0 {
				break
			}
			a, b := p+j, p+j+len(tok)
			if (a == in.ArgsAt || delim(m.src[a-1])) && (b == end || delim(m.src[b])) {
				out[i] = m.lines.RangeOf(a, b)
				pos = b
				break
			}
			p = a + 1
		}
	}
	return out
}

func (st *Stage) addCopy(in *Instruction, op string, sd instructions.SourcesAndDest, from, chown, chmod, workdir string, user *User, lex *shell.Lex) {
	env := envView{st.env[:in.envLen]}
	dest, _ := expand(lex, sd.DestPath, env)
	c := &Copy{Instr: in, Dest: joinPathKeepSlash(workdir, dest), Sources: sd.SourcePaths, From: from, Chown: chown, Chmod: chmod}
	if chown != "" {
		c.Chown, _ = expand(lex, chown, env)
	}
	if chmod != "" {
		c.Chmod, _ = expand(lex, chmod, env)
	}
	st.Copies = append(st.Copies, c)
	if from != "" {
		if dep := st.model.Stage(from); dep != nil && dep.Index < st.Index {
			st.DependsOn = append(st.DependsOn, dep)
		}
	}
	// With --chown/--chmod every copied file gets them; a plain copy makes its files root's
	// but says nothing about the directories already below the destination.
	p := PathPerm{Path: strings.TrimSuffix(c.Dest, "/"), Op: op, Range: in.ArgsRange(), Instr: in, bits: -1, Recursive: chown != "" || chmod != ""}
	if p.Path == "" {
		p.Path = "/"
	}
	if c.Chown != "" {
		o, g, _ := strings.Cut(c.Chown, ":")
		p.Owner, p.Group = o, g
		if g == "" && o != "" {
			p.Group = o // --chown=user sets the group to the user's primary group, by name or number
		}
	}
	if c.Chmod != "" {
		p.Mode = c.Chmod
		if n, err := strconv.ParseUint(c.Chmod, 8, 32); err == nil {
			p.bits = int(n)
		}
	}
	if c.Chown == "" && c.Chmod == "" {
		// Files copied without --chown belong to root:root (uid 0), whatever the USER.
		p.Owner, p.Group = "0", "0"
	}
	st.addPerm(p, user)
}

// addPerm resolves the owner and group of p, created or changed as user, and records it.
func (st *Stage) addPerm(p PathPerm, user *User) {
	if p.Op == "WORKDIR" || p.Op == "mkdir" || (p.Op == "install" && p.Owner == "") {
		// Created by the current user.
		p.owner = user
		if p.Owner == "" {
			p.Owner = user.Value
			if user.Kind == KindRoot && user.Value == "" {
				p.Owner = "0"
			}
		}
	}
	if p.Owner != "" {
		ou := st.resolveOwner(p.Owner)
		p.UID = ou.UID
		p.owner = &ou
	}
	if p.Group != "" {
		if isDigits(p.Group) {
			g, _ := strconv.Atoi(p.Group)
			p.GID = &g
		} else if p.Group == "root" {
			z := 0
			p.GID = &z
		} else if g := st.findGroup(p.Group); g != nil {
			p.GID = g.GID
		} else if cu := st.findUser(p.Group, nil); cu != nil && cu.Name == p.Group {
			p.GID = cu.GID // a user's own group (useradd -U / adduser) shares the user's name
		}
	} else if p.Op == "WORKDIR" || p.Op == "mkdir" {
		p.GID = user.GID
		if user.Kind == KindRoot {
			z := 0
			p.GID = &z
		}
	}
	if p.Mode == "" && p.bits >= 0 {
		p.Mode = fmt.Sprintf("%04o", p.bits)
	}
	st.Paths = append(st.Paths, p)
}

func (st *Stage) resolveOwner(owner string) User {
	u := parseUserString(owner)
	if u.Kind == KindNamed && u.UID == nil {
		if cu := st.findUser(u.Name, nil); cu != nil {
			u.UID = cu.UID
		}
	}
	return u
}

// RuntimeEnv returns the value the stage's ENV (or its ancestry's) gives the environment
// variable name when the container starts; ARGs are not part of it.
func (st *Stage) RuntimeEnv(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	for i := len(st.env) - 1; i >= 0; i-- {
		if v := st.env[i]; v.Name == name && !v.Arg {
			return v.Value, v.Set
		}
	}
	return "", false
}
