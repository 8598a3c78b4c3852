package dockerfile

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// An entrypoint that steps down to another user (gosu, su-exec, setpriv…) needs to start as
// root, unless the step-down only runs when it does: the docker-library entrypoints do
//
//	if [ "$(id -u)" = '0' ]; then … exec gosu postgres "$BASH_SOURCE" "$@"; fi
//
// and run on as whatever uid they were started with. This file tells the two apart on the
// script's shell syntax tree.

// ScriptDrop is a privilege drop (a user switch, not a chown) in a shell script.
type ScriptDrop struct {
	Tool string // gosu, su-exec, setpriv, runuser, su, sudo, chroot, s6-setuidgid, setuidgid, chpst
	// User is the user switched to as written ("postgres", "999", "redis:redis"), "" when it
	// is not literal or not given.
	User string
	// Conditional is set when the drop only runs when the script was started as root: it is
	// inside an `if` (or `&&`, `||`) whose condition tests `id -u` (or $EUID, $UID, a variable
	// set from `id -u`, `id -un`/`whoami` against root) for 0, or after an early exit or exec
	// taken when not root. When false, the drop runs whoever starts the script.
	Conditional bool
	Line        int    // 0-based line in the script
	Text        string // the command, shortened
	Command     *Command
}

// ScriptDrops parses an entrypoint script and returns its privilege drops in order.
func ScriptDrops(src string) []ScriptDrop {
	cmds, _ := ScanScript(src)
	var out []ScriptDrop
	var guards []byteSpan
	parsed := false
	for _, c := range cmds {
		t := dropTool(c)
		if t == "" || t == "chown" || t == "chgrp" {
			continue
		}
		if !parsed {
			guards, parsed = rootGuards(src), true
		}
		d := ScriptDrop{Tool: t, User: dropUser(c, t), Line: c.Line, Text: shorten(c.String()), Command: c}
		for _, g := range guards {
			if g.start <= c.NameStart && c.NameStart < g.end {
				d.Conditional = true
				break
			}
		}
		out = append(out, d)
	}
	return out
}

// EntrypointScripts returns the build-context paths (relative to the Dockerfile's folder,
// slash-separated) of the scripts the built stage's ENTRYPOINT and CMD run that a COPY/ADD
// of the stage installs, in order, each once.
func (m *Model) EntrypointScripts(st *Stage) []string {
	if st == nil {
		return nil
	}
	var out []string
	dir := filepath.Dir(m.Path)
	for _, in := range []*Instruction{entrypointOf(st), cmdOf(st)} {
		words, _ := commandWords(in)
		for _, w := range words {
			src := m.scriptSource(st, w)
			if src == "" {
				continue
			}
			rel, err := filepath.Rel(dir, src)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			rel = filepath.ToSlash(rel)
			dup := false
			for _, o := range out {
				dup = dup || o == rel
			}
			if !dup {
				out = append(out, rel)
			}
		}
	}
	return out
}

// InstructionDrops returns the privilege drops written in the built stage's ENTRYPOINT and
// CMD themselves (`ENTRYPOINT ["gosu", "app", …]`): they always run.
func (m *Model) InstructionDrops(st *Stage) []ScriptDrop {
	var out []ScriptDrop
	for _, d := range m.PrivilegeDrops(nil, st) {
		if d.File != m.Path {
			continue
		}
		sd := ScriptDrop{Tool: d.Tool, Line: d.Line, Text: d.Text}
		for _, c := range instrCommands(m, d.Instr) {
			if dropTool(c) == d.Tool {
				sd.User, sd.Command = dropUser(c, d.Tool), c
				break
			}
		}
		out = append(out, sd)
	}
	return out
}

// instrCommands returns the commands of an ENTRYPOINT or CMD (as PrivilegeDrops reads them).
func instrCommands(m *Model, in *Instruction) []*Command {
	words, shellForm := commandWords(in)
	if in == nil || len(words) == 0 {
		return nil
	}
	if shellForm {
		sc := in.scanShellForm()
		return sc.cmds
	}
	args := make([]Arg, len(words))
	for i, w := range words {
		args[i] = Arg{Value: w, OK: true}
	}
	return []*Command{{Name: filepath.Base(words[0]), Word: words[0], Args: args[1:], lines: m.lines}}
}

// dropUser returns the user a drop command switches to, as written ("" when not literal).
func dropUser(c *Command, tool string) string {
	lit := func(a Arg) string {
		if !a.OK {
			return ""
		}
		return a.Value
	}
	args := c.Args
	for _, a := range args {
		if !a.OK && strings.HasPrefix(a.Value, "-") {
			return "" // an option whose value is an expansion: the user is not literal
		}
	}
	switch tool {
	case "gosu", "su-exec", "s6-setuidgid", "setuidgid":
		for _, a := range args {
			if !strings.HasPrefix(a.Value, "-") {
				return lit(a)
			}
		}
	case "chpst", "sudo":
		opts, _ := parseOpts(args, "u")
		return opts.get("u")
	case "runuser":
		opts, pos := parseOpts(args, "ugGcsw", "user", "group", "command", "shell", "session-command", "whitelist-environment")
		if u := first(opts.get("u"), opts.get("user")); u != "" {
			return u
		}
		if len(pos) > 0 {
			return lit(pos[0])
		}
	case "su":
		_, pos := parseOpts(args, "csCgG", "command", "shell", "session-command", "group", "supp-group", "whitelist-environment")
		for _, a := range pos {
			if a.Value != "-" {
				return lit(a)
			}
		}
	case "setpriv":
		opts, _ := parseOpts(args, "", "reuid", "regid", "groups", "ruid", "euid", "rgid", "egid")
		return opts.get("reuid")
	case "chroot":
		opts, _ := parseOpts(args, "", "userspec", "groups")
		return opts.get("userspec")
	}
	return ""
}

type byteSpan struct{ start, end int }

// rootGuards returns the byte ranges of src that only run when the script runs as root.
func rootGuards(src string) []byteSpan {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if f == nil || err != nil && len(f.Stmts) == 0 {
		return nil
	}
	g := &guardFinder{}
	// Variables set from `id -u`: user="$(id -u)", local uid; uid=$(id -u).
	syntax.Walk(f, func(n syntax.Node) bool {
		if a, ok := n.(*syntax.Assign); ok && a.Name != nil && a.Value != nil {
			if k := g.idExpr(a.Value); k != idNone {
				g.varKind = append(g.varKind, varKind{a.Name.Value, k})
			}
		}
		return true
	})
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.IfClause:
			g.ifClause(x)
		case *syntax.BinaryCmd:
			t := g.test(x.X)
			if x.Op == syntax.AndStmt && t > 0 || x.Op == syntax.OrStmt && t < 0 {
				g.add(x.Y.Pos(), x.Y.End())
			}
		}
		for _, list := range stmtLists(n) {
			g.earlyExits(list)
		}
		return true
	})
	return g.spans
}

type idKind int

const (
	idNone idKind = iota
	idUID         // id -u, $EUID, $UID: compared with 0
	idName        // id -un, whoami: compared with root
)

type varKind struct {
	name string
	kind idKind
}

type guardFinder struct {
	varKind []varKind
	spans   []byteSpan
}

func (g *guardFinder) add(a, b syntax.Pos) {
	if a.IsValid() && b.IsValid() && a.Offset() < b.Offset() {
		g.spans = append(g.spans, byteSpan{int(a.Offset()), int(b.Offset())})
	}
}

// ifClause guards the then-branch of a root test, and the else-branch of a not-root test.
func (g *guardFinder) ifClause(x *syntax.IfClause) {
	if len(x.Cond) == 0 {
		return
	}
	t := g.test(x.Cond[len(x.Cond)-1])
	if t > 0 && len(x.Then) > 0 {
		g.add(x.Then[0].Pos(), x.Then[len(x.Then)-1].End())
	}
	if t < 0 && x.Else != nil {
		g.add(x.Else.Pos(), x.Else.End())
	}
}

// earlyExits guards what follows, in a statement list, a statement that leaves the script
// when it is not root: `if [ "$(id -u)" != 0 ]; then exec "$@"; fi`, `[ "$(id -u)" = 0 ] || exit 1`.
func (g *guardFinder) earlyExits(list []*syntax.Stmt) {
	for i, s := range list[:max(len(list)-1, 0)] {
		leaves := false
		switch x := s.Cmd.(type) {
		case *syntax.IfClause:
			if x.Else == nil && len(x.Cond) > 0 && len(x.Then) > 0 && g.test(x.Cond[len(x.Cond)-1]) < 0 {
				leaves = exits(x.Then[len(x.Then)-1])
			}
		case *syntax.BinaryCmd:
			t := g.test(x.X)
			leaves = (x.Op == syntax.AndStmt && t < 0 || x.Op == syntax.OrStmt && t > 0) && exits(x.Y)
		}
		if leaves {
			g.add(list[i+1].Pos(), list[len(list)-1].End())
			return
		}
	}
}

// exits reports whether a statement leaves the script: exec of a command, or exit.
func exits(s *syntax.Stmt) bool {
	c, ok := s.Cmd.(*syntax.CallExpr)
	if !ok || len(c.Args) == 0 {
		return false
	}
	w := c.Args[0].Lit()
	return w == "exit" || w == "exec" && len(c.Args) > 1
}

// stmtLists returns the statement lists a node holds directly.
func stmtLists(n syntax.Node) [][]*syntax.Stmt {
	switch x := n.(type) {
	case *syntax.File:
		return [][]*syntax.Stmt{x.Stmts}
	case *syntax.Block:
		return [][]*syntax.Stmt{x.Stmts}
	case *syntax.Subshell:
		return [][]*syntax.Stmt{x.Stmts}
	case *syntax.IfClause:
		return [][]*syntax.Stmt{x.Then}
	case *syntax.WhileClause:
		return [][]*syntax.Stmt{x.Do}
	case *syntax.ForClause:
		return [][]*syntax.Stmt{x.Do}
	case *syntax.CaseItem:
		return [][]*syntax.Stmt{x.Stmts}
	}
	return nil
}

// test tells whether a condition holds exactly when running as root (+1), exactly when not
// (-1), or is not such a test (0).
func (g *guardFinder) test(s *syntax.Stmt) int {
	if s == nil {
		return 0
	}
	t := 0
	switch x := s.Cmd.(type) {
	case *syntax.CallExpr:
		t = g.bracketTest(x)
	case *syntax.TestClause:
		t = g.testExpr(x.X)
	case *syntax.BinaryCmd:
		a, b := g.test(x.X), g.test(x.Y)
		if x.Op == syntax.AndStmt && (a > 0 || b > 0) {
			t = 1 // root and something else: only runs as root
		}
		if x.Op == syntax.OrStmt && (a < 0 || b < 0) {
			t = -1 // not root or something else: its negation only holds as root
		}
	}
	if s.Negated {
		t = -t
	}
	return t
}

// bracketTest reads `[ A op B ]` and `test A op B`, possibly joined with -a.
func (g *guardFinder) bracketTest(x *syntax.CallExpr) int {
	if len(x.Args) == 0 {
		return 0
	}
	name := x.Args[0].Lit()
	args := x.Args[1:]
	if name == "[" {
		if len(args) == 0 || args[len(args)-1].Lit() != "]" {
			return 0
		}
		args = args[:len(args)-1]
	} else if name != "test" {
		return 0
	}
	and := false
	for _, a := range args {
		switch a.Lit() {
		case "-o":
			return 0
		case "-a":
			and = true
		}
	}
	res := 0
	for i := 0; i+2 < len(args); i++ {
		if r := g.compare(args[i], args[i+1].Lit(), args[i+2]); r != 0 {
			neg := i > 0 && args[i-1].Lit() == "!"
			if neg {
				r = -r
			}
			if r > 0 {
				return 1
			}
			res = r
		}
	}
	if res < 0 && and {
		return 0 // not root and something else: its negation is not "root"
	}
	return res
}

func (g *guardFinder) testExpr(e syntax.TestExpr) int {
	switch x := e.(type) {
	case *syntax.ParenTest:
		return g.testExpr(x.X)
	case *syntax.UnaryTest:
		if x.Op == syntax.TsNot {
			return -g.testExpr(x.X)
		}
	case *syntax.BinaryTest:
		switch x.Op {
		case syntax.AndTest:
			if g.testExpr(x.X) > 0 || g.testExpr(x.Y) > 0 {
				return 1
			}
			return 0
		case syntax.OrTest:
			if g.testExpr(x.X) < 0 || g.testExpr(x.Y) < 0 {
				return -1
			}
			return 0
		}
		xw, ok1 := x.X.(*syntax.Word)
		yw, ok2 := x.Y.(*syntax.Word)
		if !ok1 || !ok2 {
			return 0
		}
		var op string
		switch x.Op {
		case syntax.TsMatchShort, syntax.TsMatch:
			op = "="
		case syntax.TsNoMatch:
			op = "!="
		case syntax.TsEql:
			op = "-eq"
		case syntax.TsNeq:
			op = "-ne"
		default:
			return 0
		}
		return g.compare(xw, op, yw)
	}
	return 0
}

// compare reads `A op B` where one side is the running uid (or user name) and the other 0
// (or root).
func (g *guardFinder) compare(a *syntax.Word, op string, b *syntax.Word) int {
	var sign int
	switch op {
	case "=", "==", "-eq":
		sign = 1
	case "!=", "-ne":
		sign = -1
	default:
		return 0
	}
	k, other := g.idExpr(a), b
	if k == idNone {
		k, other = g.idExpr(b), a
	}
	v, ok := literal(other)
	switch {
	case !ok || k == idNone:
		return 0
	case k == idUID && (v == "0" || v == "00"):
		return sign
	case k == idName && v == "root":
		return sign
	}
	return 0
}

// idExpr tells whether a word is the running uid ($(id -u), $EUID, $UID, a variable set
// from `id -u`) or user name ($(id -un), $(whoami)).
func (g *guardFinder) idExpr(w *syntax.Word) idKind {
	parts := w.Parts
	if len(parts) == 1 {
		if q, ok := parts[0].(*syntax.DblQuoted); ok {
			parts = q.Parts
		}
	}
	if len(parts) != 1 {
		return idNone
	}
	switch x := parts[0].(type) {
	case *syntax.CmdSubst:
		if len(x.Stmts) != 1 {
			return idNone
		}
		c, ok := x.Stmts[0].Cmd.(*syntax.CallExpr)
		if !ok || len(c.Args) == 0 {
			return idNone
		}
		var words []string
		for _, a := range c.Args {
			v, ok := literal(a)
			if !ok {
				return idNone
			}
			words = append(words, v)
		}
		switch strings.Join(words, " ") {
		case "id -u", "id -ru", "id -ur", "id -u -r", "command id -u", "/usr/bin/id -u", "/bin/id -u":
			return idUID
		case "id -un", "id -nu", "id -u -n", "id -n -u", "whoami", "/usr/bin/whoami":
			return idName
		}
	case *syntax.ParamExp:
		if x.Param == nil || x.Exp != nil || x.Excl || x.Length || x.Index != nil || x.Slice != nil || x.Repl != nil {
			return idNone
		}
		switch name := x.Param.Value; name {
		case "EUID", "UID":
			return idUID
		default:
			for i := len(g.varKind) - 1; i >= 0; i-- {
				if g.varKind[i].name == name {
					return g.varKind[i].kind
				}
			}
		}
	}
	return idNone
}

// literal returns a word's value when it has no expansion.
func literal(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(l.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}
