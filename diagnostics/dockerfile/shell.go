package dockerfile

import (
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Run is a RUN instruction and the commands its shell program runs.
type Run struct {
	Instr    *Instruction
	Stage    *Stage
	Workdir  string // its working directory
	Commands []*Command
	Writes   []Arg // files written by redirections (> and >>)
	// ParseError is set when the shell program could not be parsed.
	ParseError string
	// Single is true when the program is exactly one command (no &&, ;, pipes or redirections).
	Single bool
	// Onbuild is set for the RUN an ONBUILD instruction triggers (Stage.Onbuild).
	Onbuild bool

	umaskSet bool  // a `umask` command set umask
	umask    int32 // the shell's umask after a `umask` command (see perm.go)
	// scanned is set when the RUN's program was read; lookups are the variables that
	// reading looked up, with what it found (another version may reuse it, see reuse.go).
	scanned bool
	lookups []lookup
	assigns []assign // the variables command lines set for their commands
}

// Command is one simple command of a shell program.
type Command struct {
	Name      string // the program's base name (apt-get, useradd…)
	Word      string // the program as written (/usr/libexec/fix-permissions)
	Args      []Arg  // its arguments (not the name)
	Start     int    // byte offset of the command (of sudo when prefixed)
	End       int
	NameStart int
	NameEnd   int
	// Sudo is set when the command runs through sudo; SudoStart is the offset of "sudo".
	Sudo      bool
	SudoStart int
	// RemoveStart/RemoveEnd span the text to delete to drop this command from an && chain
	// (both 0 when it is not in one).
	RemoveStart, RemoveEnd int
	Line                   int // 0-based line of the command in its file

	lines *text.Lines
}

// assign is a variable a command line sets for its command (`GOBIN=/x go install`,
// `env PREFIX=/x make install`): the index of the command in its RUN, the name and the
// literal value (ok false when it is not literal).
type assign struct {
	cmd         int
	name, value string
	ok          bool
}

// Getenv returns the value command c of the RUN sees for variable k: the command line's own
// assignment, else the RUN's environment (the stage's ARGs and ENVs in scope); ok is false
// when it is unset or not literal.
func (r *Run) Getenv(c *Command, k string) (string, bool) {
	for i := len(r.assigns) - 1; i >= 0; i-- {
		if a := r.assigns[i]; a.name == k && a.cmd < len(r.Commands) && r.Commands[a.cmd] == c {
			return a.value, a.ok
		}
	}
	return envView{r.Stage.env[:r.Instr.envLen]}.Get(k)
}

// Arg is a word with its literal value (OK false when it holds an expansion that cannot be known).
type Arg struct {
	Value      string
	OK         bool
	Start, End int // byte offsets in the file
}

// Range is the command's range (from sudo when prefixed, through its last argument).
func (c *Command) Range() text.Range { return c.lines.RangeOf(c.Start, c.End) }

// NameRange is the range of the program's name.
func (c *Command) NameRange() text.Range { return c.lines.RangeOf(c.NameStart, c.NameEnd) }

// SudoRange is the range of the sudo word and its options (to be deleted).
func (c *Command) SudoRange() text.Range { return c.lines.RangeOf(c.SudoStart, c.NameStart) }

// ArgRange is the range of an argument.
func (c *Command) ArgRange(a Arg) text.Range { return c.lines.RangeOf(a.Start, a.End) }

// String returns the command with its arguments (as written where they are not literal).
func (c *Command) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, a := range c.Args {
		b.WriteByte(' ')
		if !a.OK && c.lines != nil && a.Start <= a.End && a.End <= len(c.lines.Source()) {
			b.WriteString(c.lines.Source()[a.Start:a.End]) // as written: "$@", ${DIR}
			continue
		}
		b.WriteString(a.Value)
	}
	return b.String()
}

// segment maps a span of parsed shell text to the file.
type segment struct{ shell, file, n int }

type offsetMap []segment

func (om offsetMap) file(off int) int {
	if len(om) == 0 {
		return off
	}
	i := sort.Search(len(om), func(i int) bool { return om[i].shell > off }) - 1
	if i < 0 {
		i = 0
	}
	s := om[i]
	return s.file + min(max(off-s.shell, 0), s.n)
}

// shellScanner extracts commands from shell text.
type shellScanner struct {
	parser  *syntax.Parser
	lines   *text.Lines
	env     func(string) (string, bool)
	lookups []lookup
	cmds    []*Command
	assigns []assign
	write   []Arg
	depth   int
	err     string
	stmts   int
	calls   int
	redir   bool
}

const maxShellDepth = 4

// lookup is a variable a scan looked up, with what it found.
type lookup struct {
	name, val string
	ok        bool
}

func (sc *shellScanner) get(name string) (string, bool) {
	v, ok := "", false
	if sc.env != nil {
		v, ok = sc.env(name)
	}
	sc.lookups = append(sc.lookups, lookup{name, v, ok})
	return v, ok
}

// finish maps the offsets the scan recorded (in the coordinates of the top-level shell text)
// to the file through om (nil: they already are file offsets) and sets the commands' lines.
func (sc *shellScanner) finish(om offsetMap) {
	for _, c := range sc.cmds {
		c.Start, c.End, c.NameStart, c.NameEnd = om.file(c.Start), om.file(c.End), om.file(c.NameStart), om.file(c.NameEnd)
		if c.Sudo {
			c.SudoStart = om.file(c.SudoStart)
		}
		if c.RemoveEnd > c.RemoveStart {
			c.RemoveStart, c.RemoveEnd = om.file(c.RemoveStart), om.file(c.RemoveEnd)
		}
		for i := range c.Args {
			c.Args[i].Start, c.Args[i].End = om.file(c.Args[i].Start), om.file(c.Args[i].End)
		}
		c.lines = sc.lines
		c.Line = sc.lines.PosAt(c.NameStart).Line
	}
	for i := range sc.write {
		sc.write[i].Start, sc.write[i].End = om.file(sc.write[i].Start), om.file(sc.write[i].End)
	}
}

// scan parses src, whose offset 0 is offset base of the top-level shell text, and collects
// its commands with offsets in top-level coordinates (finish maps them to the file).
func (sc *shellScanner) scan(src string, base int) {
	if sc.depth > maxShellDepth {
		return
	}
	f, perr := sc.parse(src)
	if perr != "" {
		if sc.err == "" {
			sc.err = perr
		}
		if f == nil {
			return
		}
	}
	if sc.depth == 0 {
		sc.stmts = len(f.Stmts)
	}
	removal := map[*syntax.CallExpr][2]int{}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.BinaryCmd:
			if x.Op == syntax.AndStmt || x.Op == syntax.OrStmt {
				sc.redir = true
				if c, ok := x.X.Cmd.(*syntax.CallExpr); ok && len(x.X.Redirs) == 0 {
					removal[c] = [2]int{int(x.X.Pos().Offset()), int(x.Y.Pos().Offset())}
				}
				if c, ok := x.Y.Cmd.(*syntax.CallExpr); ok && len(x.Y.Redirs) == 0 {
					if _, done := removal[c]; !done {
						removal[c] = [2]int{int(x.X.End().Offset()), int(x.Y.End().Offset())}
					}
				}
			} else {
				sc.redir = true
			}
		case *syntax.Stmt:
			for _, r := range x.Redirs {
				switch r.Op {
				case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.RdrClob:
					sc.redir = true
					if r.Word != nil {
						v, ok := sc.word(r.Word)
						sc.write = append(sc.write, Arg{Value: v, OK: ok, Start: base + int(r.Word.Pos().Offset()), End: base + int(r.Word.End().Offset())})
					}
				case syntax.Hdoc, syntax.DashHdoc:
					if r.Hdoc == nil {
						continue
					}
					shellBody := x.Cmd == nil
					if c, ok := x.Cmd.(*syntax.CallExpr); ok && len(c.Args) > 0 {
						if name, ok := sc.word(c.Args[0]); ok && isShell(path.Base(name)) {
							shellBody = true
						}
					}
					if shellBody {
						start, end := int(r.Hdoc.Pos().Offset()), int(r.Hdoc.End().Offset())
						if start < end && end <= len(src) {
							body := src[start:end]
							// The body's end position includes the terminator line.
							if i := strings.LastIndexByte(strings.TrimRight(body, "\n"), '\n'); i >= 0 {
								body = body[:i+1]
							} else if d, ok := sc.word(r.Word); ok && strings.TrimLeft(strings.TrimSpace(body), "\t") == d {
								body = ""
							}
							sc.nested(body, base+start)
						}
					}
				}
			}
		case *syntax.CallExpr:
			sc.calls++
			sc.call(x, base, src, removal[x])
		}
		return true
	})
}

func (sc *shellScanner) parse(src string) (*syntax.File, string) {
	if sc.parser == nil {
		sc.parser = syntax.NewParser(syntax.Variant(syntax.LangBash))
	}
	f, err := sc.parser.Parse(strings.NewReader(src), "")
	if err != nil {
		return f, err.Error()
	}
	return f, ""
}

// nested scans a script that starts at offset at of the top-level shell text.
func (sc *shellScanner) nested(body string, at int) {
	sc.depth++
	sc.scan(body, at)
	sc.depth--
}

func isShell(name string) bool {
	switch name {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
		return true
	}
	return false
}

// word returns the literal value of w (false when it depends on something unknown).
func (sc *shellScanner) word(w *syntax.Word) (string, bool) {
	var b strings.Builder
	ok := true
	for _, p := range w.Parts {
		if !sc.part(&b, p) {
			ok = false
		}
	}
	return b.String(), ok
}

func (sc *shellScanner) part(b *strings.Builder, p syntax.WordPart) bool {
	switch x := p.(type) {
	case *syntax.Lit:
		b.WriteString(unescape(x.Value))
		return true
	case *syntax.SglQuoted:
		b.WriteString(x.Value)
		return !x.Dollar
	case *syntax.DblQuoted:
		ok := true
		for _, q := range x.Parts {
			if !sc.part(b, q) {
				ok = false
			}
		}
		return ok
	case *syntax.ParamExp:
		if x.Param == nil || x.Excl || x.Length || x.Index != nil || x.Slice != nil || x.Repl != nil || x.Names != 0 {
			return false
		}
		v, ok := sc.get(x.Param.Value)
		if x.Exp != nil {
			switch x.Exp.Op {
			case syntax.DefaultUnsetOrNull, syntax.DefaultUnset:
				if !ok || (v == "" && x.Exp.Op == syntax.DefaultUnsetOrNull) {
					if x.Exp.Word == nil {
						return true
					}
					d, dok := sc.word(x.Exp.Word)
					b.WriteString(d)
					return dok
				}
			default:
				return false
			}
		}
		b.WriteString(v)
		return ok
	}
	return false
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// call records a simple command, unwrapping sudo, exec, env and friends, and scanning
// `sh -c '…'` scripts.
func (sc *shellScanner) call(x *syntax.CallExpr, base int, src string, rm [2]int) {
	if len(x.Args) == 0 {
		return
	}
	args := make([]Arg, len(x.Args))
	for i, w := range x.Args {
		v, ok := sc.word(w)
		args[i] = Arg{Value: v, OK: ok, Start: base + int(w.Pos().Offset()), End: base + int(w.End().Offset())}
	}
	c := &Command{Start: args[0].Start, End: args[len(args)-1].End, lines: sc.lines}
	var env []assign // the command line's assignments, kept when it has a command
	for _, as := range x.Assigns {
		if as.Name != nil && !as.Append && as.Array == nil && as.Index == nil {
			v, ok := "", true
			if as.Value != nil {
				v, ok = sc.word(as.Value)
			}
			env = append(env, assign{cmd: len(sc.cmds), name: as.Name.Value, value: v, ok: ok})
		}
	}
	if rm != [2]int{} {
		c.RemoveStart, c.RemoveEnd = base+rm[0], base+rm[1]
	}
	var script string
	scriptAt := -1
	i := 0
	for i < len(args) {
		name := path.Base(args[i].Value)
		if !args[i].OK {
			return
		}
		switch name {
		case "sudo":
			if !c.Sudo {
				c.Sudo, c.SudoStart = true, args[i].Start
			}
			i = skipOptions(args, i+1, "ughCDprtUT")
			continue
		case "exec", "command", "nohup", "time", "builtin":
			i++
			continue
		case "nice", "ionice", "stdbuf", "timeout":
			i = skipOptions(args, i+1, "nc")
			if name == "timeout" && i < len(args) {
				i++ // the duration
			}
			continue
		case "env":
			i++
			for i < len(args) && (strings.HasPrefix(args[i].Value, "-") || strings.Contains(args[i].Value, "=")) {
				if args[i].Value == "-u" {
					i++
				} else if k, v, ok := strings.Cut(args[i].Value, "="); ok && !strings.HasPrefix(k, "-") {
					env = append(env, assign{cmd: len(sc.cmds), name: k, value: v, ok: args[i].OK})
				}
				i++
			}
			continue
		case "sh", "bash", "ash", "dash":
			for j := i + 1; j < len(args)-1; j++ {
				if a := args[j].Value; args[j].OK && strings.HasPrefix(a, "-") && strings.Contains(a, "c") && !strings.HasPrefix(a, "--") {
					w := x.Args[j+1]
					if start, ok := scriptStart(w); ok {
						end := int(w.End().Offset()) - 1
						if start <= end && end <= len(src) {
							script, scriptAt = src[start:end], start
						}
					}
					break
				}
			}
		}
		break
	}
	if i >= len(args) {
		return
	}
	c.Name = path.Base(args[i].Value)
	c.Word = args[i].Value
	c.NameStart, c.NameEnd = args[i].Start, args[i].End
	c.Args = args[i+1:]
	if !c.Sudo {
		c.Start = c.NameStart
	}
	sc.assigns = append(sc.assigns, env...)
	sc.cmds = append(sc.cmds, c)
	if scriptAt >= 0 {
		sc.nested(script, base+scriptAt)
	}
}

// scriptStart returns the offset of the script inside a quoted `sh -c` argument.
func scriptStart(w *syntax.Word) (int, bool) {
	if len(w.Parts) != 1 {
		return 0, false
	}
	switch q := w.Parts[0].(type) {
	case *syntax.SglQuoted:
		if q.Dollar {
			return 0, false
		}
		return int(q.Left.Offset()) + 1, true
	case *syntax.DblQuoted:
		for _, p := range q.Parts {
			if _, ok := p.(*syntax.Lit); !ok {
				return 0, false
			}
		}
		return int(q.Left.Offset()) + 1, true
	}
	return 0, false
}

// skipOptions skips "-x" options from i; letters in withArg take a separate argument.
func skipOptions(args []Arg, i int, withArg string) int {
	for i < len(args) {
		a := args[i].Value
		if a == "--" {
			return i + 1
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return i
		}
		if strings.HasPrefix(a, "--") {
			if !strings.Contains(a, "=") && len(a) > 2 && strings.Contains(withArg, "*") {
				i++
			}
			i++
			continue
		}
		last := a[len(a)-1]
		i++
		if len(a) == 2 && strings.IndexByte(withArg, last) >= 0 {
			i++
		}
	}
	return i
}

// User is the user the RUN runs as.
func (r *Run) User() User { return r.Instr.User() }

// analyse parses the RUN's shell program and records what it creates and changes.
func (r *Run) analyse() {
	in := r.Instr
	m := r.Stage.model
	p, _ := in.Parsed.(*instructions.RunCommand)
	if p == nil || m.Escape != '\\' || r.Stage.Windows {
		return
	}
	env := envView{r.Stage.env[:in.envLen]}
	r.scanned = true
	if o := r.Stage.previousRun(in); o != nil && o.lookupsValid(env.Get) {
		// The same text with the same variables: the same commands, moved.
		var a cmdAlloc
		a.reserve(o.Commands)
		dB, dL := in.Start-o.Instr.Start, in.Node.StartLine-o.Instr.Node.StartLine
		// The same lines at the same place: the same line start, not only the same keyword offset.
		same := dB == 0 && dL == 0 && m.lineStart(in.Node.StartLine) == o.Stage.model.lineStart(o.Instr.Node.StartLine)
		r.Commands, r.Writes = a.moved(o.Commands, o.Writes, dB, dL, m, same)
		r.ParseError, r.Single, r.lookups, r.assigns = o.ParseError, o.Single, o.lookups, o.assigns
		r.recordAll()
		return
	}
	if m.sh == nil {
		m.sh = syntax.NewParser(syntax.Variant(syntax.LangBash))
	}
	sc := &shellScanner{parser: m.sh, lines: m.lines, env: env.Get}
	if !p.PrependShell {
		// Exec form: the words are the command.
		args := make([]Arg, len(p.CmdLine))
		for i, a := range p.CmdLine {
			args[i] = Arg{Value: a, OK: true}
		}
		for i, rg := range in.tokenRanges(p.CmdLine) {
			args[i].Start, args[i].End = m.lines.Offset(rg.Start), m.lines.Offset(rg.End)
		}
		if len(args) >= 3 && isShell(path.Base(args[0].Value)) && args[1].Value == "-c" {
			sc.nested(args[2].Value, args[2].Start+1)
		} else if len(args) > 0 {
			c := &Command{Name: path.Base(args[0].Value), Word: args[0].Value, Args: args[1:], Start: args[0].Start, End: args[len(args)-1].End,
				NameStart: args[0].Start, NameEnd: args[0].End, lines: m.lines, Line: in.Line()}
			sc.cmds = append(sc.cmds, c)
		}
	} else {
		src, om := r.shellText()
		sc.scan(src, 0)
		sc.finish(om)
		r.Single = sc.stmts == 1 && sc.calls == 1 && !sc.redir && len(in.Node.Heredocs) == 0
	}
	if !p.PrependShell {
		sc.finish(nil)
	}
	r.ParseError = sc.err
	r.Commands = sc.cmds
	r.Writes = sc.write
	r.lookups, r.assigns = sc.lookups, sc.assigns
	r.recordAll()
}

// recordAll records what the RUN's commands create and change in its stage (nothing for an
// ONBUILD trigger, which runs in another image).
func (r *Run) recordAll() {
	if r.Onbuild {
		return
	}
	for _, c := range r.Commands {
		r.record(c)
	}
}

// scanShellForm scans the shell form of an ENTRYPOINT or CMD as the container's shell runs
// it: with the stage's ENVs, not its ARGs.
func (in *Instruction) scanShellForm() *shellScanner {
	m := in.Stage.model
	sc := &shellScanner{lines: m.lines, env: in.runtimeEnv()}
	src := m.src[in.ArgsAt:max(in.ArgsAt, in.End)]
	sc.scan(src, 0)
	sc.finish(offsetMap{{shell: 0, file: in.ArgsAt, n: len(src)}})
	return sc
}

// shellText returns the RUN's shell program as BuildKit hands it to the shell (comment lines
// and empty continuation lines removed; heredoc bodies kept) with its map to file offsets.
func (r *Run) shellText() (string, offsetMap) {
	in := r.Instr
	m := r.Stage.model
	heredoc := len(in.Node.Heredocs) > 0
	var b strings.Builder
	var om offsetMap
	for n := in.Node.StartLine; n <= in.Node.EndLine; n++ {
		start, end := m.lineStart(n), m.lineEnd(n)
		if n == in.Node.StartLine {
			start = in.ArgsAt
		} else if !heredoc {
			t := strings.TrimLeft(m.src[start:end], " \t\r")
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
		}
		if start > end {
			start = end
		}
		om = append(om, segment{shell: b.Len(), file: start, n: end - start})
		b.WriteString(m.src[start:end])
		b.WriteByte('\n')
	}
	return b.String(), om
}

// record interprets a command: users and groups created, paths created or changed, setcap.
func (r *Run) record(c *Command) {
	st := r.Stage
	lit := func(a Arg) string { return a.Value }
	pathOf := func(a Arg) string { return joinPath(r.Workdir, a.Value) }
	switch c.Name {
	case "useradd", "adduser":
		r.recordUser(c)
	case "groupadd", "addgroup":
		r.recordGroup(c)
	case "umask":
		// The shell's umask holds for the rest of this RUN (each RUN starts a new shell).
		if _, pos := parseOpts(c.Args, ""); len(pos) == 1 && pos[0].OK {
			if n, err := strconv.ParseUint(pos[0].Value, 8, 32); err == nil && n <= 0o777 {
				r.umask = int32(n)
				r.umaskSet = true
			}
		}
	case "mkdir":
		opts, pos := parseOpts(c.Args, "m", "mode", "context")
		mode := opts.get("m")
		if mode == "" {
			mode = opts.get("mode")
		}
		for _, a := range pos {
			if !a.OK {
				continue
			}
			p := PathPerm{Path: pathOf(a), Op: "mkdir", Range: c.ArgRange(a), Instr: r.Instr, bits: r.dirBits()}
			if mode != "" {
				p.Mode = mode
				p.bits = applySymbolic(0o755, mode)
				p.Mode = ""
			}
			st.addPerm(p, r.Instr.user)
		}
	case "chown", "chgrp":
		opts, pos := parseOpts(c.Args, "", "reference", "from")
		if len(pos) < 2 || !pos[0].OK {
			return
		}
		owner, group := "", ""
		if c.Name == "chgrp" {
			group = lit(pos[0])
		} else {
			spec := lit(pos[0])
			sep := strings.IndexAny(spec, ":.")
			if sep >= 0 && strings.Count(spec, ".") > 0 && !strings.Contains(spec, ":") && !isDigits(spec[sep+1:]) && strings.Contains(spec[sep+1:], ".") {
				sep = -1 // a dotted user name, not user.group
			}
			if sep >= 0 {
				owner, group = spec[:sep], spec[sep+1:]
			} else {
				owner = spec
			}
		}
		rec := opts.get("R") != "" || opts.get("recursive") != ""
		for _, a := range pos[1:] {
			if !a.OK {
				continue
			}
			st.addPerm(PathPerm{Path: pathOf(a), Owner: owner, Group: group, Op: c.Name, Recursive: rec, Range: c.ArgRange(a), Instr: r.Instr, bits: -1}, r.Instr.user)
		}
	case "chmod":
		opts, pos := parseOpts(c.Args, "", "reference")
		if len(pos) < 2 || !pos[0].OK {
			// "chmod -w file": a mode that looks like an option
			return
		}
		mode := lit(pos[0])
		rec := opts.get("R") != "" || opts.get("recursive") != ""
		for _, a := range pos[1:] {
			if !a.OK {
				continue
			}
			p := PathPerm{Path: pathOf(a), Mode: mode, Op: "chmod", Recursive: rec, Range: c.ArgRange(a), Instr: r.Instr, bits: -1}
			if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
				p.bits = int(n)
			}
			st.addPerm(p, r.Instr.user)
		}
	case "install":
		opts, pos := parseOpts(c.Args, "ogmtS", "owner", "group", "mode", "target-directory", "suffix")
		if opts.get("d") == "" && opts.get("directory") == "" {
			return
		}
		owner, group, mode := first(opts.get("o"), opts.get("owner")), first(opts.get("g"), opts.get("group")), first(opts.get("m"), opts.get("mode"))
		for _, a := range pos {
			if !a.OK {
				continue
			}
			p := PathPerm{Path: pathOf(a), Owner: owner, Group: group, Op: "install", Range: c.ArgRange(a), Instr: r.Instr, bits: 0o755}
			if mode != "" {
				p.bits = applySymbolic(0o755, mode)
			}
			st.addPerm(p, r.Instr.user)
		}
	case "setcap":
		_, pos := parseOpts(c.Args, "", "")
		if len(pos) >= 2 {
			for _, a := range pos[1:] {
				st.Setcaps = append(st.Setcaps, Setcap{Caps: pos[0].Value, Path: pathOf(a), Range: c.Range()})
			}
		}
	}
}

func first(a ...string) string {
	for _, s := range a {
		if s != "" && s != "true" {
			return s
		}
	}
	return ""
}

// parseOpts splits arguments into options and operands. Short options listed in withArg and
// long options named in long take a value ("-u 1000", "--uid=1000", "--uid 1000"). A flag
// without a value is recorded as "true". Combined short flags ("-Rf", "-DS") are split.
func parseOpts(args []Arg, withArg string, long ...string) (options, []Arg) {
	var opts options
	pos := make([]Arg, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i].Value
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			return opts, pos
		case strings.HasPrefix(a, "--"):
			k, v, hasV := strings.Cut(a[2:], "=")
			if !hasV {
				if slices.Contains(long, k) && i+1 < len(args) {
					v = args[i+1].Value
					i++
				} else {
					v = "true"
				}
			}
			opts = append(opts, option{k, v})
		case strings.HasPrefix(a, "-") && len(a) > 1 && !isModeLike(a):
			for j := 1; j < len(a); j++ {
				k := a[j : j+1]
				if strings.IndexByte(withArg, a[j]) >= 0 {
					if j+1 < len(a) {
						opts = append(opts, option{k, a[j+1:]})
					} else if i+1 < len(args) {
						opts = append(opts, option{k, args[i+1].Value})
						i++
					}
					break
				}
				opts = append(opts, option{k, "true"})
			}
		default:
			pos = append(pos, args[i])
		}
	}
	return opts, pos
}

// options are the options parseOpts read, in order.
type options []option

type option struct{ name, value string }

// get returns the value of the option named name (the last one given), or "".
func (o options) get(name string) string {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].name == name {
			return o[i].value
		}
	}
	return ""
}

// isModeLike reports whether an argument starting with '-' is a chmod mode ("-w", "-x").
func isModeLike(a string) bool {
	if len(a) < 2 {
		return false
	}
	for i := 1; i < len(a); i++ {
		if strings.IndexByte("rwxXst", a[i]) < 0 {
			return false
		}
	}
	return strings.ContainsAny(a[1:], "w") && len(a) <= 3 && a != "-R"
}

func atoiPtr(s string) *int {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return &n
	}
	return nil
}

// recordUser interprets useradd (shadow-utils: Debian, RHEL) and adduser (Debian's Perl
// adduser with long options, or busybox/Alpine with short ones).
func (r *Run) recordUser(c *Command) {
	st := r.Stage
	var opts options
	var pos []Arg
	cu := CreatedUser{Tool: c.Name, Range: c.Range(), NameAt: -1}
	debianAdduser := false
	if c.Name == "useradd" {
		opts, pos = parseOpts(c.Args, "ugGdscekKfpbRPZ", "uid", "gid", "groups", "home-dir", "shell", "comment", "skel", "key", "expiredate", "inactive", "password", "base-dir", "root", "prefix", "selinux-user", "home")
		cu.UID = atoiPtr(first(opts.get("u"), opts.get("uid")))
		cu.Group = first(opts.get("g"), opts.get("gid"))
		cu.System = opts.get("r") != "" || opts.get("system") != ""
	} else {
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "--") {
				debianAdduser = true
			}
		}
		if debianAdduser {
			opts, pos = parseOpts(c.Args, "", "uid", "gid", "home", "shell", "ingroup", "gecos", "firstuid", "lastuid", "add_extra_groups", "conf", "comment", "firstgid", "lastgid")
			cu.UID = atoiPtr(opts.get("uid"))
			cu.Group = first(opts.get("ingroup"), opts.get("gid"))
			cu.System = opts.get("system") != ""
		} else {
			opts, pos = parseOpts(c.Args, "hgsGuk")
			cu.UID = atoiPtr(opts.get("u"))
			cu.Group = opts.get("G")
			cu.System = opts.get("S") != ""
		}
	}
	if len(pos) == 0 || !pos[0].OK {
		return
	}
	if c.Name == "adduser" && len(pos) >= 2 {
		// "adduser USER GROUP" adds an existing user to a group.
		if st.findUser(pos[0].Value, nil) != nil {
			return
		}
	}
	cu.Name = pos[0].Value
	cu.NameAt = pos[0].Start
	cu.LongOpts = debianAdduser
	if cu.Group != "" {
		if isDigits(cu.Group) {
			cu.GID = atoiPtr(cu.Group)
		} else if g := st.findGroup(cu.Group); g != nil {
			cu.GID = g.GID
		}
	} else if c.Name == "useradd" && opts.get("U") == "" && opts.get("user-group") == "" && opts.get("N") == "" {
		// useradd creates a group of the same name by default (USERGROUPS_ENAB yes) with a gid chosen then.
		cu.Group = cu.Name
	}
	st.Created = append(st.Created, cu)
}

func (r *Run) recordGroup(c *Command) {
	st := r.Stage
	var opts options
	var pos []Arg
	debian := false
	for _, a := range c.Args {
		if strings.HasPrefix(a.Value, "--") {
			debian = true
		}
	}
	if c.Name == "groupadd" || debian {
		opts, pos = parseOpts(c.Args, "gKpRP", "gid", "key", "password", "root", "prefix", "users")
	} else {
		opts, pos = parseOpts(c.Args, "g")
	}
	if len(pos) == 0 || !pos[0].OK {
		return
	}
	if c.Name == "addgroup" && len(pos) >= 2 {
		return // "addgroup USER GROUP" adds a user to a group
	}
	g := CreatedGroup{Name: pos[0].Value, GID: atoiPtr(first(opts.get("g"), opts.get("gid"))), Range: c.Range()}
	st.Groups = append(st.Groups, g)
	// Users created earlier with this group as primary group learn its gid.
	for i := range st.Created {
		if st.Created[i].Group == g.Name && st.Created[i].GID == nil {
			st.Created[i].GID = g.GID
		}
	}
}

// Opaque reports whether the command runs a script or program the model cannot see into
// (a *.sh file, or a program outside the system bin directories), which may change
// ownership and modes in ways the model does not know.
func (c *Command) Opaque() bool {
	if strings.HasSuffix(c.Name, ".sh") || strings.Contains(c.Name, "fix-perm") {
		return true
	}
	if isShell(c.Name) {
		for _, a := range c.Args {
			if a.Value == "-c" {
				return false
			}
		}
		return len(c.Args) > 0
	}
	if !strings.Contains(c.Word, "/") {
		return false
	}
	switch path.Dir(c.Word) {
	case "/bin", "/usr/bin", "/sbin", "/usr/sbin":
		return false
	}
	return true
}

// ScanScript parses a shell script (an entrypoint) and returns its commands, with ranges in
// the script's own text.
func ScanScript(src string) ([]*Command, string) {
	sc := &shellScanner{lines: text.NewLines(src)}
	sc.scan(src, 0)
	sc.finish(nil)
	return sc.cmds, sc.err
}
