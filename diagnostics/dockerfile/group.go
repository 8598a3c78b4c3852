package dockerfile

import (
	"context"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Rules are the Dockerfile rules, NR101–NR112.
var Rules = []*diagnostics.Rule{
	NR101,
	NR102,
	NR103,
	NR104,
	NR105,
	NR106,
	NR107,
	NR108,
	NR109,
	NR110,
	NR111,
	NR112,
}

// Group is the Dockerfile image model: parse problems, hovers on USER/FROM/VOLUME/EXPOSE,
// and `inspect`.
var Group = &diagnostics.Group{
	Name: "dockerfile",
	Parse: map[diagnostics.FileKind]diagnostics.ParseFunc{
		diagnostics.KindDockerfile: func(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
			m := Of(f)
			if m.panicked != "" {
				m.logged.Do(func() { s.Engine().Logf("panic while reading the Dockerfile %s: %s", f.Path, m.panicked) })
			}
			return m.Problems
		},
	},
	Hover: map[diagnostics.FileKind]diagnostics.HoverFunc{diagnostics.KindDockerfile: hover},
	Inspect: map[diagnostics.FileKind]diagnostics.InspectFunc{
		diagnostics.KindDockerfile: func(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File) any {
			return InspectOf(s, f, TargetFor(s, f.Path))
		},
	},
}

// ModelFor returns the model of the finding's Dockerfile as it is in s, or nil when the file
// is not a Dockerfile or does not parse (a fix then plans nothing).
func ModelFor(s *diagnostics.Snapshot, path string) *Model {
	file, err := s.File(path)
	if err != nil || file.Kind != diagnostics.KindDockerfile {
		return nil
	}
	if m := Of(file); !m.Fatal {
		return m
	}
	return nil
}

// InsertBefore is an edit that inserts line before the instruction (and the comment block
// directly above it), with its indentation.
func (in *Instruction) InsertBefore(line string) text.Edit {
	return codeactions.InsertBefore(in.Stage.model.lines, in.Line(), line)
}

// InsertAfter is an edit that inserts line after the instruction's last line.
func (in *Instruction) InsertAfter(line string) text.Edit {
	return codeactions.InsertAfter(in.Stage.model.lines, in.Node.EndLine-1, line)
}

// Delete is an edit that deletes the instruction's lines.
func (in *Instruction) Delete() text.Edit {
	return codeactions.DeleteLines(in.Stage.model.lines, in.Line(), in.Node.EndLine-1)
}

// SetFlag is an edit that sets the instruction's flag (--chown, --chmod) to value: it replaces
// the flag's value when the instruction has it, else inserts the flag before the arguments.
func (in *Instruction) SetFlag(flag, value string) text.Edit {
	m := in.Stage.model
	flags := m.src[in.FlagsAt:in.ArgsAt]
	if i := strings.Index(flags, flag+"="); i >= 0 {
		start := in.FlagsAt + i
		end := start
		for end < in.ArgsAt && !isBlank(m.src[end]) {
			end++
		}
		return text.Edit{Range: m.lines.RangeOf(start, end), NewText: flag + "=" + value}
	}
	p := m.lines.PosAt(in.FlagsAt)
	return text.Edit{Range: text.Range{Start: p, End: p}, NewText: flag + "=" + value + " "}
}

// hasCommentLines reports whether the instruction's continuation lines hold comments.
func (in *Instruction) hasCommentLines() bool {
	return codeactions.HasCommentLines(in.Stage.model.lines, in.Line(), in.Node.EndLine-1)
}
