// Package dockerfile is the image model of nonroot-ls (SPEC §2) and its rules NR101–NR111.
//
// A Dockerfile is parsed with BuildKit's parser and instruction parser; ARG and ENV values
// are expanded with BuildKit's shell lexer; RUN commands and entrypoint scripts are parsed
// with mvdan.cc/sh. The model records, per stage, the effective user and where it comes from,
// the users and groups the build creates, the ownership and modes of the paths it creates or
// changes, VOLUMEs, EXPOSEd ports, ENTRYPOINT/CMD and the privilege drops of the entrypoint.
//
// Positions are byte offsets and [text.Range]s of the Dockerfile (BuildKit gives lines only).
package dockerfile

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"mvdan.cc/sh/v3/syntax"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Model is the parsed image model of one Dockerfile.
type Model struct {
	Path     string
	Stages   []*Stage
	MetaArgs []Var // global ARGs (before the first FROM), with their defaults
	Escape   rune
	// Problems are the reasons the file cannot be (fully) analysed (NR001).
	Problems []diagnostics.Problem
	// Fatal is set when BuildKit could not parse the file at all.
	Fatal bool

	src     string
	lines   *text.Lines
	byName  map[string]*Stage
	nlStart []int // byte offset of each '\n'-separated line (BuildKit's numbering); nil when lines has the same
	// chunks and chunkTexts are the parses of the chunks the file was cut into (parsecache.go),
	// for the next version of the document; nil when it was parsed whole.
	chunks     []*chunkResult
	chunkTexts []string
	// oldLines are the line indexes of previous versions that commands this model shares
	// with them read their positions through (at most maxOldLines, see reuse.go).
	oldLines []*text.Lines

	// While the model is built only:
	sh      *syntax.Parser       // reused for every RUN
	fromExp map[string]expansion // FROM arguments expanded with the global ARGs
	prev    *Model               // the model of the document's previous version (reuse.go)
	bases   BaseLookup           // the base-image lookup (nil: LookupBaseImage; see ParseWith)
}

type expansion struct{ val, unresolved string }

// Var is an ARG or ENV variable.
type Var struct {
	Name  string
	Value string
	Set   bool // has a value (an ARG without default has none)
	Arg   bool
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	Cmd    string // lower case: from, run, user…
	Node   *parser.Node
	Parsed any // BuildKit's typed instruction (nil when it did not parse)
	Stage  *Stage
	Index  int // index in the stage

	Start    int // byte offset of the keyword
	End      int // byte offset of the end of the instruction's last line (before its terminator)
	FlagsAt  int // byte offset after the keyword and its blanks
	ArgsAt   int // byte offset of the first argument after the flags
	FirstEnd int // end of the instruction's first line (before a trailing comment's blanks)

	envLen int   // number of stage env entries in scope
	user   *User // shared by the instructions between two USERs
	after  *User // the user a USER instruction sets (computed once)
}

// Line returns the 0-based line of the instruction's keyword.
func (in *Instruction) Line() int { return in.Node.StartLine - 1 }

// Range is the instruction's text.
func (in *Instruction) Range() text.Range { return in.Stage.model.lines.RangeOf(in.Start, in.End) }

// KeywordRange is the range of the instruction's keyword.
func (in *Instruction) KeywordRange() text.Range {
	return in.Stage.model.lines.RangeOf(in.Start, in.Start+len(in.Node.Value))
}

// ArgsRange is the range of the arguments on the first line (after flags, before a trailing comment).
func (in *Instruction) ArgsRange() text.Range {
	return in.Stage.model.lines.RangeOf(in.ArgsAt, max(in.ArgsAt, in.FirstEnd))
}

// User is the user in force at this instruction (before it, for a USER instruction after it).
func (in *Instruction) User() User {
	if in.user == nil {
		return User{}
	}
	return *in.user
}

// Stage is one build stage (FROM … to the next FROM).
type Stage struct {
	Index          int
	Name           string // the AS name, "" when none
	From           *Instruction
	BaseName       string     // the FROM argument, expanded with the global ARGs
	BaseRaw        string     // as written
	BaseRange      text.Range // the FROM image argument
	Parent         *Stage     // the earlier stage this one is FROM, if any
	Scratch        bool       // FROM scratch (directly or through its parents)
	Windows        bool       // a Windows image (not judged by Linux rules)
	Base           *BaseImage // known base image (nil when unknown, scratch, or a stage)
	BaseUnresolved bool       // the FROM argument has an ARG without default

	Instructions []*Instruction
	Initial      User           // the user at the start of the stage
	Users        []*Instruction // USER instructions of this stage
	Created      []CreatedUser
	Groups       []CreatedGroup
	Paths        []PathPerm
	Volumes      []Port // VOLUME paths (Value) with ranges
	Ports        []Port
	Runs         []*Run
	Copies       []*Copy
	Setcaps      []Setcap
	Entrypoint   *Instruction
	Cmd          *Instruction
	DependsOn    []*Stage // COPY --from stages

	model   *Model
	env     []Var
	workdir string

	// text is the stage's source, from its FROM line to the end of its last instruction; at is
	// its byte offset and line its line. The analysis of a stage depends on text, the global
	// ARGs and its parent stage only (reuse.go).
	text     string
	at, line int
	// While the model is built only: reused is the previous model's stage whose analysis this
	// one copies; old is the previous model's stage with the same index, whose RUNs an
	// analysis of this one may reuse, oldRuns those RUNs by their text.
	reused, old *Stage
	oldRuns     map[string]*Run

	permOnce sync.Once  // builds perms (perm.go)
	perms    *permIndex // the ancestry's path changes by path, for PermOf
}

// Model returns the stage's model.
func (s *Stage) Model() *Model { return s.model }

// Label is the stage's name, or its index when unnamed.
func (s *Stage) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return strconv.Itoa(s.Index)
}

// User is the effective user at the end of the stage: the user the image runs as.
func (s *Stage) User() User {
	if n := len(s.Users); n > 0 {
		return s.Users[n-1].userAfter()
	}
	return s.Initial
}

// Ancestry returns the stage and its FROM parents, the stage first.
func (s *Stage) Ancestry() []*Stage {
	var out []*Stage
	seen := map[*Stage]bool{}
	for st := s; st != nil && !seen[st]; st = st.Parent {
		seen[st] = true
		out = append(out, st)
	}
	return out
}

// UserKind classifies an effective user.
type UserKind string

const (
	KindRoot    UserKind = "root"
	KindNumeric UserKind = "numeric"
	KindNamed   UserKind = "named"
	KindUnknown UserKind = "unknown"
)

// Source says where an effective user comes from.
type Source string

const (
	SourceUSER    Source = "USER"
	SourceStage   Source = "stage"
	SourceBase    Source = "base-image"
	SourceDefault Source = "default"
)

// User is an effective user.
type User struct {
	Kind  UserKind
	UID   *int
	GID   *int
	Name  string // the user name (named users; also known names of numeric users)
	Group string // the group as written after ':' ("" when none)
	Value string // the user string after expansion ("" when unknown)
	Raw   string // as written in the USER instruction

	Source Source
	Instr  *Instruction // the USER instruction that set it (also when inherited through stages)
	Image  string       // the base image it is inherited from (SourceBase)
	// Unresolved names a variable without a value that the USER argument uses.
	Unresolved string
	Windows    bool
}

// NonRoot reports whether the user is known not to be root.
func (u User) NonRoot() bool { return u.Kind == KindNumeric || u.Kind == KindNamed }

// Range is the USER argument's range (zero when the user does not come from a USER line).
func (u User) Range() text.Range {
	if u.Instr == nil {
		return text.Range{}
	}
	return u.Instr.ArgsRange()
}

// UserPartRange is the range of the user part of the USER argument (before ':').
func (u User) UserPartRange() text.Range {
	if u.Instr == nil {
		return text.Range{}
	}
	in := u.Instr
	arg := in.Stage.model.src[in.ArgsAt:max(in.ArgsAt, in.FirstEnd)]
	if i := strings.IndexByte(arg, ':'); i >= 0 {
		arg = arg[:i]
	}
	return in.Stage.model.lines.RangeOf(in.ArgsAt, in.ArgsAt+len(arg))
}

// Describe is a short human description: "root (uid 0)", "uid 1001", "app (uid 1000)".
func (u User) Describe() string {
	switch u.Kind {
	case KindRoot:
		return "root (uid 0)"
	case KindNumeric:
		s := "uid " + strconv.Itoa(*u.UID)
		if u.GID != nil {
			s += ", gid " + strconv.Itoa(*u.GID)
		}
		return s
	case KindNamed:
		if u.UID != nil {
			return fmt.Sprintf("%s (uid %d)", u.Name, *u.UID)
		}
		return u.Name
	}
	if u.Unresolved != "" {
		return "unknown (${" + u.Unresolved + "} has no default)"
	}
	return "unknown"
}

// From says where the user comes from, in words.
func (u User) From() string {
	switch u.Source {
	case SourceUSER:
		return fmt.Sprintf("USER on line %d", u.Instr.Line()+1)
	case SourceStage:
		if u.Instr != nil {
			return fmt.Sprintf("stage %s (USER on line %d)", u.Instr.Stage.Label(), u.Instr.Line()+1)
		}
		return "an earlier stage"
	case SourceBase:
		if u.Kind == KindUnknown {
			return fmt.Sprintf("base image %s, whose user is not known", u.Image)
		}
		return "base image " + u.Image
	}
	return "Docker's default (no USER anywhere)"
}

// CreatedUser is a user the build creates (useradd, adduser).
type CreatedUser struct {
	Name   string
	UID    *int
	GID    *int
	Group  string // primary group as given (name or number)
	System bool
	Tool   string     // useradd, adduser
	Range  text.Range // the command
	NameAt int        // byte offset of the name word (where "-u <uid> " can be inserted); -1 when unknown
	// LongOpts is set for Debian's adduser, which takes --uid rather than -u.
	LongOpts bool
}

// CreatedGroup is a group the build creates (groupadd, addgroup).
type CreatedGroup struct {
	Name  string
	GID   *int
	Range text.Range
}

// PathPerm is a change to a path's owner, group or mode made by the build.
type PathPerm struct {
	Path      string
	UID       *int
	GID       *int
	Owner     string // owner as written ("" when unchanged)
	Group     string // group as written ("" when unchanged)
	Mode      string // mode as written or computed ("" when unchanged)
	Recursive bool
	Op        string // WORKDIR, COPY, ADD, mkdir, chown, chgrp, chmod, install
	Range     text.Range
	Instr     *Instruction

	bits  int   // computed mode bits (-1 unknown)
	owner *User // the owner when set (resolved); immutable, may be shared
}

// Port is an EXPOSEd port or a VOLUME path with its range.
type Port struct {
	Value    string // as written (expanded): "80/tcp", "/data"
	Number   int    // port number (0 when not a number)
	Protocol string
	Range    text.Range
	Instr    *Instruction
}

// Setcap is a `setcap` in a RUN.
type Setcap struct {
	Caps  string
	Path  string
	Range text.Range
}

// Copy is a COPY or ADD instruction.
type Copy struct {
	Instr   *Instruction
	Dest    string // absolute (resolved against WORKDIR)
	Sources []string
	From    string // --from value
	Chown   string
	Chmod   string
}

// Var lookup over a stage's env.
type envView struct {
	vars []Var
}

func (e envView) Get(k string) (string, bool) {
	for i := len(e.vars) - 1; i >= 0; i-- {
		if e.vars[i].Name == k {
			return e.vars[i].Value, e.vars[i].Set
		}
	}
	return "", false
}

func (e envView) Keys() []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range e.vars {
		if !seen[v.Name] && v.Set {
			seen[v.Name] = true
			out = append(out, v.Name)
		}
	}
	return out
}

type modelKey struct{}

// For returns the model of the Dockerfile at path in snapshot s, memoised on the file.
func For(s *diagnostics.Snapshot, path string) (*Model, error) {
	f, err := s.File(path)
	if err != nil {
		return nil, err
	}
	return Of(f), nil
}

// Of returns the model of file f, memoised on it. The model of an open document reuses the
// analysis of the stages its previous version had (reuse.go).
func Of(f *diagnostics.File) *Model {
	return f.Memo(modelKey{}, func() any {
		if !f.Open {
			return parse(f.Path, f.Text, f.Lines(), nil)
		}
		m := parse(f.Path, f.Text, f.Lines(), previous(f.Path))
		remember(m)
		return m
	}).(*Model)
}

// Built returns the stage that is built for target ("" or unknown: the last stage).
func (m *Model) Built(target string) *Stage {
	if len(m.Stages) == 0 {
		return nil
	}
	if target != "" {
		if st := m.Stage(target); st != nil {
			return st
		}
	}
	return m.Stages[len(m.Stages)-1]
}

// Stage returns the stage named name (case-insensitive) or with that index.
func (m *Model) Stage(name string) *Stage {
	if st := m.byName[strings.ToLower(name)]; st != nil {
		return st
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(m.Stages) {
		return m.Stages[i]
	}
	return nil
}

// Lines returns the line index of the Dockerfile.
func (m *Model) Lines() *text.Lines { return m.lines }

// Source returns the Dockerfile's text.
func (m *Model) Source() string { return m.src }

// InstructionAt returns the instruction whose lines hold line (0-based), or nil.
func (m *Model) InstructionAt(line int) *Instruction {
	for _, st := range m.Stages {
		for _, in := range st.Instructions {
			if in.Node.StartLine-1 <= line && line <= in.Node.EndLine-1 {
				return in
			}
		}
	}
	return nil
}

func (m *Model) problem(line int, format string, args ...any) {
	m.Problems = append(m.Problems, diagnostics.Problem{Range: m.lines.LineRange(line), Message: fmt.Sprintf(format, args...)})
}

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
	in.Start = p
	p = min(p+len(n.Value), le)
	for p < le && isBlank(m.src[p]) {
		p++
	}
	in.FlagsAt = p
	for range n.Flags {
		p = skipWord(m.src, p, le)
		for p < le && isBlank(m.src[p]) {
			p++
		}
	}
	in.ArgsAt = p
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
			continue
		}
		for _, in := range st.Instructions[1:] {
			m.locate(in)
		}
		m.analyse(st, meta, lex)
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

// Initial user of a stage.
func (m *Model) initialUser(st *Stage) User {
	switch {
	case st.Parent != nil:
		u := st.Parent.User()
		if u.Source == SourceUSER {
			u.Source = SourceStage
		}
		return u
	case st.Scratch:
		z := 0
		return User{Kind: KindRoot, UID: &z, Name: "root", Source: SourceDefault, Image: "scratch"}
	case st.Base != nil:
		u := parseUserString(st.Base.User)
		if u.Kind == KindNamed || u.Kind == KindNumeric {
			if st.Base.Name != "" && u.Name == "" {
				u.Name = st.Base.Name
			}
			if u.UID == nil {
				u.UID = st.Base.UID
			}
			if u.GID == nil {
				u.GID = st.Base.GID
			}
		}
		u.Source = SourceBase
		u.Image = st.BaseName
		u.Value = st.Base.User
		return u
	}
	img := st.BaseName
	if st.BaseUnresolved {
		img = st.BaseRaw
	}
	return User{Kind: KindUnknown, Source: SourceBase, Image: img, Windows: st.Windows}
}

// parseUserString classifies "uid[:gid]" or "name[:group]".
func parseUserString(v string) User {
	u := User{Value: v}
	user, group, hasGroup := strings.Cut(v, ":")
	if hasGroup {
		u.Group = group
		if g, err := strconv.Atoi(group); err == nil && g >= 0 {
			u.GID = &g
		} else if group == "root" {
			z := 0
			u.GID = &z
		}
	}
	switch {
	case user == "":
		u.Kind = KindRoot // an empty user is root for the runtime
		if v == "" {
			z := 0
			u.UID = &z
			u.Name = "root"
			return u
		}
		u.Kind = KindUnknown
	case isDigits(user):
		n, err := strconv.Atoi(user)
		if err != nil {
			u.Kind = KindUnknown
			return u
		}
		u.UID = &n
		u.Kind = KindNumeric
		if n == 0 {
			u.Kind = KindRoot
			u.Name = "root"
		}
	case user == "root":
		z := 0
		u.UID = &z
		u.Kind = KindRoot
		u.Name = "root"
	default:
		u.Kind = KindNamed
		u.Name = user
		if uid, ok := wellKnownUsers[user]; ok {
			n := uid
			u.UID = &n
		}
	}
	return u
}

// wellKnownUsers are names whose uid is the same on the common distributions.
var wellKnownUsers = map[string]int{"nobody": 65534, "nonroot": 65532}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// userAfter is the user in force after a USER instruction.
func (in *Instruction) userAfter() User {
	if in.Cmd != "user" {
		return in.User()
	}
	if in.after == nil {
		u := in.Stage.userOf(in)
		in.after = &u
	}
	return *in.after
}

func (st *Stage) userOf(in *Instruction) User {
	m := st.model
	lex := shell.NewLex(m.Escape)
	raw := m.src[in.ArgsAt:max(in.ArgsAt, in.FirstEnd)]
	if in.Node.EndLine != in.Node.StartLine || raw == "" {
		if a, ok := in.Parsed.(*instructions.UserCommand); ok {
			raw = a.User
			if i := commentStart(raw); i >= 0 {
				raw = strings.TrimRight(raw[:i], " \t")
			}
		}
	}
	val, unresolved := expand(lex, raw, envView{st.env[:in.envLen]})
	u := parseUserString(val)
	if unresolved != "" {
		u = User{Kind: KindUnknown, Unresolved: unresolved, Value: val}
	}
	u.Raw = strings.Clone(raw) // not a slice of the source, which later versions' models do not keep
	u.Source = SourceUSER
	u.Instr = in
	u.Windows = st.Windows
	if strings.EqualFold(val, "ContainerUser") || strings.EqualFold(val, "ContainerAdministrator") {
		u.Windows = true
	}
	if u.Kind == KindNamed && u.UID == nil {
		if cu := st.findUser(u.Name, in); cu != nil {
			u.UID = cu.UID
			if u.GID == nil && u.Group == "" {
				u.GID = cu.GID
			}
		}
	}
	if u.GID == nil && u.Group != "" && !isDigits(u.Group) {
		if g := st.findGroup(u.Group); g != nil {
			u.GID = g.GID
		}
	}
	if u.Kind == KindNumeric && u.Name == "" {
		for _, a := range st.Ancestry() {
			for _, c := range a.Created {
				if c.UID != nil && *c.UID == *u.UID {
					u.Name = c.Name
					if u.Group == "" {
						u.GID = c.GID // no group given: the user's primary group from /etc/passwd
					}
				}
			}
		}
	}
	return u
}

// findUser finds a user created in the stage (before in, when given) or its ancestry.
func (st *Stage) findUser(name string, before *Instruction) *CreatedUser {
	for _, a := range st.Ancestry() {
		for i := len(a.Created) - 1; i >= 0; i-- {
			if a.Created[i].Name == name {
				return &a.Created[i]
			}
		}
	}
	return nil
}

// findGroup finds a group created in the stage or its ancestry.
func (st *Stage) findGroup(name string) *CreatedGroup {
	for _, a := range st.Ancestry() {
		for i := len(a.Groups) - 1; i >= 0; i-- {
			if a.Groups[i].Name == name {
				return &a.Groups[i]
			}
		}
	}
	return nil
}

// CreatedUsers returns the users created in the stage and its ancestry, oldest first.
func (st *Stage) CreatedUsers() []CreatedUser {
	var out []CreatedUser
	anc := st.Ancestry()
	for i := len(anc) - 1; i >= 0; i-- {
		out = append(out, anc[i].Created...)
	}
	return out
}

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

// joinPath resolves p against dir and cleans it ("/" based).
func joinPath(dir, p string) string {
	if p == "" {
		return dir
	}
	if !strings.HasPrefix(p, "/") {
		p = strings.TrimSuffix(dir, "/") + "/" + p
	}
	return cleanPath(p)
}

func joinPathKeepSlash(dir, p string) string {
	j := joinPath(dir, p)
	if strings.HasSuffix(p, "/") && j != "/" {
		j += "/"
	}
	return j
}

// cleanPath makes p absolute and lexically clean (no empty, "." or ".." element, no
// trailing slash).
func cleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p) // no allocation when p is already clean
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	return p == dir || dir == "" || strings.HasPrefix(p, dir+"/")
}

// WritablePaths returns, path by path, the owner, group and mode the build leaves on the
// paths it creates or changes in the stage and its ancestry (the last change wins).
func (st *Stage) WritablePaths() []PathPerm {
	var out []PathPerm
	idx := map[string]int{}
	anc := st.Ancestry()
	for i := len(anc) - 1; i >= 0; i-- {
		for _, p := range anc[i].Paths {
			if (p.Op == "COPY" || p.Op == "ADD") && p.Owner == "0" && p.Mode == "" {
				continue // plain copies: not a path prepared for writing
			}
			j, ok := idx[p.Path]
			if !ok {
				idx[p.Path] = len(out)
				out = append(out, p)
				continue
			}
			q := &out[j]
			if p.Owner != "" {
				q.Owner, q.UID, q.owner = p.Owner, p.UID, p.owner
			}
			if p.Group != "" || p.GID != nil {
				q.Group, q.GID = p.Group, p.GID
			}
			if p.Mode != "" {
				q.Mode, q.bits = p.Mode, p.bits
			}
			q.Range, q.Instr, q.Op = p.Range, p.Instr, p.Op
		}
	}
	return out
}

// Access is what the model knows about whether a user can write a path.
type Access int

const (
	AccessUnknown  Access = iota // nothing in this Dockerfile decides it
	AccessWritable               // owned by the user, or group/other writable for it
	AccessDenied                 // the build leaves it owned by someone else without write access for the user
)

// WriteAccess says whether user u can write path p when the stage is run (considering the
// changes the build makes to p and, for recursive changes, to its parents).
func (st *Stage) WriteAccess(u User, p string) (Access, *PathPerm) {
	if under(p, "/tmp") || under(p, "/var/tmp") || under(p, "/dev/shm") {
		return AccessWritable, nil
	}
	if u.Kind == KindRoot {
		return AccessWritable, nil
	}
	var owner *User
	var gid *int
	var group string
	bits := -1
	var last *PathPerm
	anc := st.Ancestry()
	for i := len(anc) - 1; i >= 0; i-- {
		for j := range anc[i].Paths {
			q := &anc[i].Paths[j]
			if q.Path != p && !(q.Recursive && under(p, q.Path)) {
				continue
			}
			last = q
			if q.Owner != "" {
				owner = q.owner
			}
			if q.Group != "" || q.GID != nil {
				gid, group = q.GID, q.Group
			}
			switch {
			case q.bits >= 0:
				bits = q.bits
			case q.Mode != "":
				base := bits
				if base < 0 {
					base = 0o755
				}
				bits = applySymbolic(base, q.Mode)
			}
		}
	}
	if last == nil {
		return AccessUnknown, nil
	}
	if bits < 0 {
		bits = 0o755
	}
	if bits&0o002 != 0 {
		return AccessWritable, last
	}
	if owner != nil && sameUser(*owner, u) && bits&0o200 != 0 {
		return AccessWritable, last
	}
	if bits&0o020 != 0 {
		ugid := u.GID
		if ugid == nil && u.Group == "" {
			if cu := st.findUser(u.Name, nil); cu != nil && u.Kind == KindNamed {
				ugid = cu.GID
			}
		}
		if gid != nil && ugid != nil && *gid == *ugid {
			return AccessWritable, last
		}
		if group != "" && (group == u.Group || group == u.Name) {
			return AccessWritable, last
		}
		if gid == nil && ugid == nil {
			return AccessUnknown, last
		}
	}
	if owner == nil {
		return AccessUnknown, last
	}
	return AccessDenied, last
}

func sameUser(a, b User) bool {
	if a.UID != nil && b.UID != nil {
		return *a.UID == *b.UID
	}
	return a.Name != "" && a.Name == b.Name || a.Value != "" && strings.SplitN(a.Value, ":", 2)[0] == strings.SplitN(b.Value, ":", 2)[0]
}

// applySymbolic applies a chmod mode (octal or symbolic, e.g. "g+rwX,o-w", "g=u") to bits.
func applySymbolic(bits int, mode string) int {
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		return int(n)
	}
	for _, clause := range strings.Split(mode, ",") {
		i := 0
		who := 0
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			switch clause[i] {
			case 'u':
				who |= 0o4700
			case 'g':
				who |= 0o2070
			case 'o':
				who |= 0o1007
			case 'a':
				who |= 0o7777
			}
			i++
		}
		if who == 0 {
			who = 0o7777 &^ 0o022 // umask 022
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return bits
			}
			i++
			perm := 0
			for i < len(clause) && strings.IndexByte("rwxXstugo", clause[i]) >= 0 {
				switch clause[i] {
				case 'r':
					perm |= 0o444
				case 'w':
					perm |= 0o222
				case 'x', 'X':
					perm |= 0o111
				case 's':
					perm |= 0o6000
				case 't':
					perm |= 0o1000
				case 'u':
					perm |= copyBits((bits >> 6) & 7)
				case 'g':
					perm |= copyBits((bits >> 3) & 7)
				case 'o':
					perm |= copyBits(bits & 7)
				}
				i++
			}
			switch op {
			case '+':
				bits |= perm & who
			case '-':
				bits &^= perm & who
			case '=':
				bits = bits&^(who&0o777) | perm&who
			}
		}
	}
	return bits
}

func copyBits(b int) int { return b<<6 | b<<3 | b }

// Windows reports whether the Dockerfile builds a Windows image (its built stage).
func (m *Model) Windows() bool {
	st := m.Built("")
	return st != nil && st.Windows
}
