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
	// Env is set when the drop only runs when this environment variable is set and not
	// empty (`if [ -n "$MINIO_USERNAME" ]; then … chroot --userspec …`): an opt-in the
	// operator gives, unless the image's ENV sets it (the caller knows the image's ENV).
	Env     string
	Line    int    // 0-based line in the script
	Text    string // the command, shortened
	Command *Command
}

// ScriptDrops parses an entrypoint script and returns its privilege drops in order.
func ScriptDrops(src string) []ScriptDrop {
	cmds, _ := ScanScript(src)
	var out []ScriptDrop
	var guards []guard
	parsed := false
	for _, c := range cmds {
		t := dropTool(c)
		if t == "" || t == "chown" || t == "chgrp" {
			continue
		}
		if !parsed {
			guards, parsed = scriptGuards(src), true
		}
		d := ScriptDrop{Tool: t, User: dropUser(c, t), Line: c.Line, Text: shorten(c.String()), Command: c}
		d.Conditional, d.Env = guarded(guards, c)
		out = append(out, d)
	}
	return out
}

// guarded tells whether a command of a script only runs as root (asRoot), or only when an
// environment variable is set (env), by the guards around it.
func guarded(guards []guard, c *Command) (asRoot bool, env string) {
	for _, g := range guards {
		if g.start <= c.NameStart && c.NameStart < g.end {
			if g.env == "" {
				return true, ""
			}
			if env == "" {
				env = g.env
			}
		}
	}
	return false, env
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

// guard is a byte range of a script that only runs as root (env ""), or only when the
// environment variable env is set.
type guard struct {
	start, end int
	env        string
}

// scriptGuards returns the byte ranges of src that only run when the script runs as root, or
// only when an environment variable the script does not assign is set.
func scriptGuards(src string) []guard {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if f == nil || err != nil && len(f.Stmts) == 0 {
		return nil
	}
	g := &guardFinder{assigned: map[string]bool{}}
	// Variables set from `id -u`: user="$(id -u)", local uid; uid=$(id -u). Every variable
	// the script assigns is not an opt-in of the environment.
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.Assign:
			if x.Name == nil {
				break
			}
			g.assigned[x.Name.Value] = true
			if x.Value != nil {
				if k := g.idExpr(x.Value); k != idNone {
					g.varKind = append(g.varKind, varKind{x.Name.Value, k})
				}
			}
		case *syntax.ParamExp:
			if x.Param != nil && x.Exp != nil && (x.Exp.Op == syntax.AssignUnset || x.Exp.Op == syntax.AssignUnsetOrNull) {
				g.assigned[x.Param.Value] = true
			}
		case *syntax.CallExpr:
			// read VAR, getopts … VAR
			if len(x.Args) > 1 && (x.Args[0].Lit() == "read" || x.Args[0].Lit() == "getopts") {
				for _, a := range x.Args[1:] {
					g.assigned[a.Lit()] = true
				}
			}
		}
		return true
	})
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.IfClause:
			g.ifClause(x)
		case *syntax.BinaryCmd:
			t, env := g.cond(x.X)
			if x.Op == syntax.AndStmt && t > 0 || x.Op == syntax.OrStmt && t < 0 {
				g.add(x.Y.Pos(), x.Y.End(), env)
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
	varKind  []varKind
	assigned map[string]bool // variables the script assigns
	spans    []guard
}

func (g *guardFinder) add(a, b syntax.Pos, env string) {
	if a.IsValid() && b.IsValid() && a.Offset() < b.Offset() {
		g.spans = append(g.spans, guard{int(a.Offset()), int(b.Offset()), env})
	}
}

// cond reads a condition as a root test (env "": +1 holds exactly when root, -1 exactly when
// not) or else as a test that an environment variable is set (+1: only when env is set, -1:
// only when it is not); 0 when it is neither.
func (g *guardFinder) cond(s *syntax.Stmt) (int, string) {
	if t := g.test(s); t != 0 {
		return t, ""
	}
	return g.envTest(s)
}

// ifClause guards the then-branch of a root (or variable-set) test, and the else-branch of
// a not-root (or variable-unset) test.
func (g *guardFinder) ifClause(x *syntax.IfClause) {
	if len(x.Cond) == 0 {
		return
	}
	t, env := g.cond(x.Cond[len(x.Cond)-1])
	if t > 0 && len(x.Then) > 0 {
		g.add(x.Then[0].Pos(), x.Then[len(x.Then)-1].End(), env)
	}
	if t < 0 && x.Else != nil {
		g.add(x.Else.Pos(), x.Else.End(), env)
	}
}

// earlyExits guards what follows, in a statement list, a statement that leaves the script
// when it is not root: `if [ "$(id -u)" != 0 ]; then exec "$@"; fi`, `[ "$(id -u)" = 0 ] || exit 1`.
func (g *guardFinder) earlyExits(list []*syntax.Stmt) {
	for i, s := range list[:max(len(list)-1, 0)] {
		leaves, env := false, ""
		switch x := s.Cmd.(type) {
		case *syntax.IfClause:
			if x.Else == nil && len(x.Cond) > 0 && len(x.Then) > 0 {
				var t int
				t, env = g.cond(x.Cond[len(x.Cond)-1])
				leaves = t < 0 && exits(x.Then[len(x.Then)-1])
			}
		case *syntax.BinaryCmd:
			var t int
			t, env = g.cond(x.X)
			leaves = (x.Op == syntax.AndStmt && t < 0 || x.Op == syntax.OrStmt && t > 0) && exits(x.Y)
		}
		if leaves {
			g.add(list[i+1].Pos(), list[len(list)-1].End(), env)
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

// envTest tells whether a condition holds only when an environment variable is set and not
// empty (+1: `[ -n "$V" ]`, `[ "$V" ]`, `[[ $V ]]`, joined with && or -a to anything), only
// when it is not (-1: `[ -z "$V" ]`), or is no such test (0). V is a variable the script
// does not assign; the first one of the condition is returned.
func (g *guardFinder) envTest(s *syntax.Stmt) (int, string) {
	if s == nil {
		return 0, ""
	}
	t, v := 0, ""
	switch x := s.Cmd.(type) {
	case *syntax.CallExpr:
		t, v = g.envBracket(x)
	case *syntax.TestClause:
		t, v = g.envTestExpr(x.X)
	case *syntax.BinaryCmd:
		a, va := g.envTest(x.X)
		b, vb := g.envTest(x.Y)
		if va == "" {
			va = vb
		}
		if x.Op == syntax.AndStmt && (a > 0 || b > 0) || x.Op == syntax.OrStmt && (a < 0 || b < 0) {
			t, v = 1, va
			if x.Op == syntax.OrStmt {
				t = -1
			}
		}
	}
	if s.Negated {
		t = -t
	}
	return t, v
}

// envBracket reads `[ -n W ]`, `[ W ]`, `[ -z W ]` and `test …`, possibly joined with -a.
func (g *guardFinder) envBracket(x *syntax.CallExpr) (int, string) {
	if len(x.Args) == 0 {
		return 0, ""
	}
	args := x.Args[1:]
	switch x.Args[0].Lit() {
	case "[":
		if len(args) == 0 || args[len(args)-1].Lit() != "]" {
			return 0, ""
		}
		args = args[:len(args)-1]
	case "test":
	default:
		return 0, ""
	}
	var parts [][]*syntax.Word
	start := 0
	for i, a := range args {
		switch a.Lit() {
		case "-o":
			return 0, ""
		case "-a":
			parts, start = append(parts, args[start:i]), i+1
		}
	}
	parts = append(parts, args[start:])
	for _, p := range parts {
		switch {
		case len(p) == 1:
			if v := g.envVar(p[0]); v != "" {
				return 1, v
			}
		case len(p) == 2 && p[0].Lit() == "-n":
			if v := g.envVar(p[1]); v != "" {
				return 1, v
			}
		case len(p) == 2 && p[0].Lit() == "-z" && len(parts) == 1:
			if v := g.envVar(p[1]); v != "" {
				return -1, v
			}
		}
	}
	return 0, ""
}

func (g *guardFinder) envTestExpr(e syntax.TestExpr) (int, string) {
	switch x := e.(type) {
	case *syntax.ParenTest:
		return g.envTestExpr(x.X)
	case *syntax.Word:
		if v := g.envVar(x); v != "" {
			return 1, v
		}
	case *syntax.UnaryTest:
		switch x.Op {
		case syntax.TsNot:
			t, v := g.envTestExpr(x.X)
			return -t, v
		case syntax.TsNempStr, syntax.TsEmpStr:
			if w, ok := x.X.(*syntax.Word); ok {
				if v := g.envVar(w); v != "" {
					if x.Op == syntax.TsEmpStr {
						return -1, v
					}
					return 1, v
				}
			}
		}
	case *syntax.BinaryTest:
		a, va := g.envTestExpr(x.X)
		b, vb := g.envTestExpr(x.Y)
		if va == "" {
			va = vb
		}
		switch {
		case x.Op == syntax.AndTest && (a > 0 || b > 0):
			return 1, va
		case x.Op == syntax.OrTest && (a < 0 || b < 0):
			return -1, va
		}
	}
	return 0, ""
}

// envVar returns the name of the environment variable a word expands ("$V", "${V}",
// "${V:-}"), when the script does not assign it; "" otherwise.
func (g *guardFinder) envVar(w *syntax.Word) string {
	x, ok := solePart(w).(*syntax.ParamExp)
	if !ok || x.Param == nil || x.Excl || x.Length || x.Index != nil || x.Slice != nil || x.Repl != nil {
		return ""
	}
	if x.Exp != nil && !(x.Exp.Op == syntax.DefaultUnsetOrNull && (x.Exp.Word == nil || x.Exp.Word.Lit() == "")) {
		return ""
	}
	name := x.Param.Value
	if !validEnvName(name) || g.assigned[name] {
		return ""
	}
	switch name {
	case "UID", "EUID", "HOME", "PATH", "USER", "PWD", "HOSTNAME", "SHELL", "TERM", "IFS":
		return ""
	}
	return name
}

func validEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
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
	switch x := solePart(w).(type) {
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

// solePart returns the one part of a word (inside double quotes: "$(id -u)"), nil when it
// has several.
func solePart(w *syntax.Word) syntax.WordPart {
	parts := w.Parts
	if len(parts) == 1 {
		if q, ok := parts[0].(*syntax.DblQuoted); ok {
			parts = q.Parts
		}
	}
	if len(parts) != 1 {
		return nil
	}
	return parts[0]
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
