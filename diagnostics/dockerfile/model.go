// Package dockerfile is the image model of nonroot-ls and its rules NR101–NR111.
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
	"strconv"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
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

	panicked string    // the panic and stack of a failed parse, logged once (group.go)
	logged   sync.Once // panicked was logged
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
	// Onbuild are the RUNs ONBUILD triggers: they run in the stages and images built FROM
	// this one, as its final user, and change nothing in it.
	Onbuild    []*Run
	Copies     []*Copy
	Setcaps    []Setcap
	Entrypoint *Instruction
	Cmd        *Instruction
	DependsOn  []*Stage // COPY --from stages

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

// has reports whether the variable k is declared (with or without a value).
func (e envView) has(k string) bool {
	for i := range e.vars {
		if e.vars[i].Name == k {
			return true
		}
	}
	return false
}

// runtimeEnv looks variables up as the container's shell sees them when the instruction's
// ENTRYPOINT or CMD runs: the stage's ENVs in scope, not its ARGs (build-time only).
func (in *Instruction) runtimeEnv() func(string) (string, bool) {
	vars := in.Stage.env[:in.envLen]
	return func(k string) (string, bool) {
		for i := len(vars) - 1; i >= 0; i-- {
			if vars[i].Name == k && !vars[i].Arg {
				return vars[i].Value, vars[i].Set
			}
		}
		return "", false
	}
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

// Of returns the model of file f, memoised on it. The model of a document whose previous
// version was analysed reuses the analysis of the stages that version had (reuse.go).
func Of(f *diagnostics.File) *Model {
	return f.Memo(modelKey{}, func() any {
		var prev *Model
		if p := f.Previous(); p != nil {
			if v, ok := p.Peek(modelKey{}); ok {
				prev = v.(*Model)
			}
		}
		m := parse(f.Path, f.Text, f.Lines(), prev)
		f.ReleasePrevious()
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

// Windows reports whether the Dockerfile builds a Windows image (its built stage).
func (m *Model) Windows() bool {
	st := m.Built("")
	return st != nil && st.Windows
}
