package dockerfile

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Parse builds the model of a Dockerfile. It never panics on bad input: what it cannot
// read becomes a Problem.
func Parse(path, src string) *Model { return parse(path, src, text.NewLines(src), nil) }

// parse builds the model of src (whose line index is lines), reusing what it can of prev,
// the model of the previous version of the same document (nil: none).
func parse(path, src string, lines *text.Lines, prev *Model) (m *Model) {
	return parseWith(path, src, lines, prev, nil)
}

func parseWith(path, src string, lines *text.Lines, prev *Model, bases BaseLookup) (m *Model) {
	m = &Model{Path: path, src: src, lines: lines, Escape: '\\', bases: bases}
	if lines.Count() != strings.Count(src, "\n")+1 {
		// A lone '\r' ends a line for the editor, not for BuildKit: number BuildKit's lines apart.
		m.nlStart = make([]int, 1, strings.Count(src, "\n")+1)
		for i := 0; i < len(src); i++ {
			if src[i] == '\n' {
				m.nlStart = append(m.nlStart, i+1)
			}
		}
	}
	defer func() {
		m.sh, m.fromExp, m.prev, m.bases = nil, nil, nil, nil
		if v := recover(); v != nil {
			m.panicked = fmt.Sprintf("%v\n%s", v, debug.Stack())
			m.Stages = nil
			m.Fatal = true
			m.Problems = append(m.Problems, diagnostics.Problem{Message: fmt.Sprintf("internal error while reading the Dockerfile: %v (please report this with the file)", v)})
		}
	}()
	if strings.TrimSpace(src) == "" {
		return m
	}
	if prev != nil && !prev.Fatal {
		m.prev = prev
		m.oldLines = append(m.oldLines, prev.lines)
		m.oldLines = append(m.oldLines, prev.oldLines[:min(len(prev.oldLines), maxOldLines-1)]...)
	}
	if pf, ok := parseChunked(src, m.prev); ok {
		m.chunks, m.chunkTexts = pf.chunks, pf.texts
		m.build(pf)
		return m
	}
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		line := 0
		var le *parser.LocationError
		if asLocation(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
			line = le.Locations[0][0].Start.Line - 1
		}
		msg := err.Error()
		if strings.Contains(msg, "file with no instructions") {
			return m // only comments or blanks: nothing to judge
		}
		if strings.Contains(msg, "max allowed size") {
			msg += ": BuildKit refuses lines this long, the build fails"
		}
		m.Fatal = true
		m.problem(max(line, 0), "the Dockerfile does not parse: %s", msg)
		if res == nil {
			return m
		}
	}
	if res == nil || res.AST == nil {
		return m
	}
	m.Escape = res.EscapeToken
	part := filePart{nodes: res.AST.Children, parsed: make([]parsedNode, len(res.AST.Children))}
	for i, n := range res.AST.Children {
		p, perr := parseInstruction(n)
		part.parsed[i] = parsedNode{node: n, parsed: p, err: perr}
	}
	m.build(parsedFile{parts: []filePart{part}, n: len(part.nodes)})
	return m
}

func asLocation(err error, target **parser.LocationError) bool {
	for e := err; e != nil; {
		if le, ok := e.(*parser.LocationError); ok {
			*target = le
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// lineStart returns the byte offset of BuildKit line n (1-based).
func (m *Model) lineStart(n int) int {
	if n < 1 {
		return 0
	}
	if m.nlStart == nil {
		if n > m.lines.Count() {
			return len(m.src)
		}
		return m.lines.Start(n - 1)
	}
	if n > len(m.nlStart) {
		return len(m.src)
	}
	return m.nlStart[n-1]
}

// lineCount is the number of BuildKit lines.
func (m *Model) lineCount() int {
	if m.nlStart == nil {
		return m.lines.Count()
	}
	return len(m.nlStart)
}

// lineEnd returns the byte offset of the end of BuildKit line n's text (before \r\n or \n).
func (m *Model) lineEnd(n int) int {
	if n < 1 {
		return 0
	}
	var end int
	if n >= m.lineCount() {
		end = len(m.src)
	} else {
		end = m.lineStart(n+1) - 1 // the '\n'
	}
	start := m.lineStart(n)
	if end > start && m.src[end-1] == '\r' && end <= len(m.src) && (end == len(m.src) || m.src[end] == '\n') {
		end--
	}
	return max(end, start)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' }

// locate fills the byte offsets of an instruction from BuildKit's line numbers.
func (m *Model) locate(in *Instruction) {
	n := in.Node
	ls := m.lineStart(n.StartLine)
	le := m.lineEnd(n.StartLine)
	p := ls
	if n.StartLine == 1 && strings.HasPrefix(m.src[p:], "\xef\xbb\xbf") {
		p += 3
	}
	for p < le && isBlank(m.src[p]) {
		p++
	}
	m.keyword(in, p, le)
	p = in.ArgsAt
	in.End = max(m.lineEnd(n.EndLine), in.Start)
	// The first line's end, without a trailing comment (BuildKit keeps "# …" in the args) and blanks.
	fe := le
	if m.src[max(fe-1, p):fe] == string(m.Escape) && n.EndLine > n.StartLine {
		fe--
	}
	line := m.src[p:fe]
	if i := commentStart(line); i >= 0 {
		fe = p + i
	}
	for fe > p && isBlank(m.src[fe-1]) {
		fe--
	}
	in.FirstEnd = fe
}

// keyword sets where the instruction's keyword (at p), flags and arguments start, not past le.
func (m *Model) keyword(in *Instruction, p, le int) {
	in.Start = p
	p = min(p+len(in.Node.Value), le)
	for p < le && isBlank(m.src[p]) {
		p++
	}
	in.FlagsAt = p
	for range in.Node.Flags {
		p = skipWord(m.src, p, le)
		for p < le && isBlank(m.src[p]) {
			p++
		}
	}
	in.ArgsAt = p
}

// commentStart returns the index of a "#" that starts a trailing comment (after a blank,
// outside quotes), or -1.
func commentStart(s string) int {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#' && i > 0 && isBlank(s[i-1]):
			return i
		}
	}
	return -1
}

// skipWord skips one blank-separated word (with quotes) from p, not past end.
func skipWord(s string, p, end int) int {
	var q byte
	for p < end {
		c := s[p]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case isBlank(c):
			return p
		}
		p++
	}
	return p
}

// build walks BuildKit's AST into stages.
func (m *Model) build(pf parsedFile) {
	lex := shell.NewLex(m.Escape)
	// One allocation for all instructions, one for the stages' lists of them.
	slab := make([]Instruction, pf.n)
	i := 0
	for _, part := range pf.parts {
		for k, node := range part.nodes {
			in := &slab[i]
			in.Cmd, in.Node, in.Parsed = lowerCmd(node.Value), node, part.parsed[k].parsed
			if err := part.parsed[k].err; err != nil {
				msg := err.Error()
				if _, ok := err.(*instructions.UnknownInstructionError); ok || strings.Contains(msg, "unknown instruction") {
					msg = fmt.Sprintf("unknown instruction %s: the build fails", node.Value)
				}
				m.problem(node.StartLine-1, "%s", msg)
			}
			i++
		}
	}
	lists := make([]*Instruction, pf.n)
	var meta []Var
	var cur *Stage
	var early []*parser.Node
	for i := range slab {
		in := &slab[i]
		node, cmd, parsed := in.Node, in.Cmd, in.Parsed
		if cmd == "from" {
			n := 1 // the stage's instructions: up to the next FROM
			for i+n < len(slab) && slab[i+n].Cmd != "from" {
				n++
			}
			cur = m.newStage(in, parsed, meta, lex, lists[i:i:i+n])
			continue
		}
		if cur == nil {
			if cmd == "arg" {
				if a, ok := parsed.(*instructions.ArgCommand); ok {
					for _, kv := range a.Args {
						v := Var{Name: kv.Key, Arg: true}
						if kv.Value != nil {
							val, _ := expand(lex, *kv.Value, envView{meta})
							v.Value, v.Set = val, true
						}
						meta = append(meta, v)
					}
				}
				m.MetaArgs = meta
				continue
			}
			if parsed != nil {
				early = append(early, node)
			}
			continue
		}
		in.Stage = cur
		in.Index = len(cur.Instructions)
		cur.Instructions = append(cur.Instructions, in)
	}
	m.MetaArgs = meta
	// Instructions before the first FROM fail the build; a file with no FROM at all is a
	// fragment (a template, a snippet) with nothing to judge, so it gets no finding.
	if len(m.Stages) > 0 {
		for _, node := range early {
			m.problem(node.StartLine-1, "%s before the first FROM: the build fails (only ARG may come before FROM)", strings.ToUpper(node.Value))
		}
	}
	m.stages(meta, lex)
}

// stages analyses the stages, or copies their analysis from the previous model.
func (m *Model) stages(meta []Var, lex *shell.Lex) {
	if p := m.prev; p != nil && (p.Escape != m.Escape || p.nlStart != nil || m.nlStart != nil) {
		m.prev = nil // lines numbered apart: positions do not move together (see reuse.go)
	}
	sameMeta := m.prev != nil && slices.Equal(m.prev.MetaArgs, m.MetaArgs)
	for _, st := range m.Stages {
		m.place(st)
		if o := m.reusable(st, sameMeta); o != nil {
			m.reuse(st, o)
		} else {
			for _, in := range st.Instructions[1:] {
				m.locate(in)
			}
			m.analyse(st, meta, lex)
		}
		m.onbuild(st)
	}
	for _, st := range m.Stages {
		st.reused, st.old, st.oldRuns = nil, nil, nil
	}
}

// lowerCmd returns the lower-case instruction keyword without allocating for the usual ones.
func lowerCmd(v string) string {
	if k, ok := keywords[v]; ok {
		return k
	}
	for _, k := range keywords {
		if strings.EqualFold(v, k) {
			return k
		}
	}
	return strings.ToLower(v)
}

// keywords maps the instruction keywords, in lower and upper case, to their lower case.
var keywords = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"run", "copy", "from", "env", "arg", "workdir", "user", "add", "label", "expose", "volume", "entrypoint", "cmd", "shell", "healthcheck", "onbuild", "stopsignal", "maintainer"} {
		m[k], m[strings.ToUpper(k)] = k, k
	}
	return m
}()

func parseInstruction(node *parser.Node) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%s: cannot parse instruction", node.Value)
		}
	}()
	// The comments above an instruction only configure BuildKit's linter, which is not run
	// (and with none, a "# check=" comment there makes BuildKit panic): leave them out, so an
	// instruction reads the same wherever it is.
	n := *node
	n.PrevComment = nil
	v, err = instructions.ParseInstruction(&n)
	if err != nil {
		return nil, err // BuildKit may return a typed nil command with its error
	}
	if rc, ok := v.(*instructions.RunCommand); ok {
		// The model reads a RUN's command line and form only: BuildKit's flag parser and
		// the --mount/--network/--security/--device states it keeps are a third of what
		// the model of a large Dockerfile would hold.
		return &instructions.RunCommand{ShellDependantCmdLine: rc.ShellDependantCmdLine, FlagsUsed: rc.FlagsUsed}, nil
	}
	return v, nil
}

// expand expands word with env; unresolved names the first variable that has no value.
func expand(lex *shell.Lex, word string, env shell.EnvGetter) (val, unresolved string) {
	if !strings.ContainsAny(word, "$\\\"'`") {
		return word, "" // nothing to expand or unquote
	}
	res, err := lex.ProcessWordWithMatches(word, env)
	if err != nil {
		return word, "?"
	}
	for k := range res.Unmatched {
		if usedWithoutDefault(word, k) && (unresolved == "" || k < unresolved) {
			unresolved = k
		}
	}
	return res.Result, unresolved
}

// usedWithoutDefault reports whether word uses variable k as $k or ${k} (not ${k:-default}).
func usedWithoutDefault(word, k string) bool {
	for i := 0; i < len(word); i++ {
		if word[i] != '$' {
			continue
		}
		rest := word[i+1:]
		if strings.HasPrefix(rest, k) {
			after := rest[len(k):]
			if after == "" || !isNameChar(after[0]) {
				return true
			}
		}
		if strings.HasPrefix(rest, "{"+k) {
			after := rest[len(k)+1:]
			if strings.HasPrefix(after, "}") || !strings.HasPrefix(after, ":-") && !strings.HasPrefix(after, "-") && !strings.HasPrefix(after, ":+") && !strings.HasPrefix(after, "+") {
				return true
			}
		}
	}
	return false
}

func isNameChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (m *Model) newStage(in *Instruction, parsed any, meta []Var, lex *shell.Lex, list []*Instruction) *Stage {
	st := &Stage{Index: len(m.Stages), From: in, model: m}
	in.Stage = st
	m.locate(in)
	st.Instructions = append(list, in)
	m.Stages = append(m.Stages, st)
	args := in.Node.Next
	if args != nil {
		st.BaseRaw = args.Value
		if args.Next != nil && strings.EqualFold(args.Next.Value, "as") && args.Next.Next != nil {
			st.Name = strings.ToLower(args.Next.Next.Value)
		}
	}
	if fs, ok := parsed.(*instructions.Stage); ok {
		st.Name = strings.ToLower(fs.Name)
		st.BaseRaw = fs.BaseName
	}
	// Every FROM expands against the same global ARGs: expand each distinct argument once.
	e, ok := m.fromExp[st.BaseRaw]
	if !ok {
		e.val, e.unresolved = expand(lex, st.BaseRaw, envView{meta})
		if m.fromExp == nil {
			m.fromExp = map[string]expansion{}
		}
		m.fromExp[st.BaseRaw] = e
	}
	base, unresolved := e.val, e.unresolved
	st.BaseName = base
	st.BaseUnresolved = unresolved != "" || base == ""
	// Range of the base argument on the FROM line.
	line := m.src[in.ArgsAt:max(in.ArgsAt, in.FirstEnd)]
	st.BaseRange = m.lines.RangeOf(in.ArgsAt, in.ArgsAt+skipWord(line, 0, len(line)))
	lower := strings.ToLower(base)
	if prev := m.byName[lower]; prev != nil && prev != st {
		st.Parent = prev
	}
	if st.Name != "" {
		if m.byName == nil {
			m.byName = map[string]*Stage{}
		}
		if m.byName[st.Name] == nil {
			m.byName[st.Name] = st
		}
	}
	switch {
	case st.Parent != nil:
		st.Scratch = st.Parent.Scratch
		st.Windows = st.Parent.Windows
	case lower == "scratch":
		st.Scratch = true
	case !st.BaseUnresolved:
		st.Base = m.baseImage(base)
		st.Windows = IsWindowsImage(base)
	}
	return st
}
