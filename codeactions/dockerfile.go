package codeactions

import (
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Line edits of Dockerfiles (and other line-oriented files): an instruction is the lines
// first…last (0-based, last included) of a file; new instructions get the indentation of the
// one they are inserted before and the file's line ending.

// InsertBefore inserts newLine before the instruction starting on line first, above the
// comment block directly over it (a parser directive such as `# syntax=` stays first).
func InsertBefore(lines *text.Lines, first int, newLine string) text.Edit {
	p := Before(lines, first)
	return text.Edit{Range: text.Range{Start: p, End: p}, NewText: indentOf(lines.Line(first)) + newLine + lines.EOL()}
}

// InsertAfter inserts newLine after the instruction ending on line last.
func InsertAfter(lines *text.Lines, last int, newLine string) text.Edit {
	if last+1 < lines.Count() {
		p := text.Pos{Line: last + 1}
		return text.Edit{Range: text.Range{Start: p, End: p}, NewText: newLine + lines.EOL()}
	}
	end := text.Pos{Line: last, Col: len(lines.Line(last))}
	return text.Edit{Range: text.Range{Start: end, End: end}, NewText: lines.EOL() + newLine}
}

// DeleteLines deletes the lines first…last with their line terminators.
func DeleteLines(lines *text.Lines, first, last int) text.Edit {
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

// HasCommentLines reports whether the continuation lines first+1…last hold comments.
func HasCommentLines(lines *text.Lines, first, last int) bool {
	for l := first + 1; l <= last; l++ {
		if strings.HasPrefix(strings.TrimSpace(lines.Line(l)), "#") {
			return true
		}
	}
	return false
}

// Identity writes uid:gid.
func Identity(uid, gid int) string { return strconv.Itoa(uid) + ":" + strconv.Itoa(gid) }

// Before is where text inserted before the instruction starting on line first goes: the
// start of the comment block directly above it (a parser directive stays first).
func Before(lines *text.Lines, first int) text.Pos {
	return text.Pos{Line: commentBlockStart(lines, first)}
}

// commentBlockStart returns the first line of the comment block directly above line l (l
// itself when there is none).
func commentBlockStart(lines *text.Lines, l int) int {
	for l > 0 {
		prev := strings.TrimSpace(lines.Line(l - 1))
		if !strings.HasPrefix(prev, "#") || isDirective(lines, l-1) {
			break
		}
		l--
	}
	return l
}

// isDirective reports whether line n is a parser directive (# syntax=, # escape=, # check=) at
// the top of the file, which must stay first.
func isDirective(lines *text.Lines, n int) bool {
	for i := 0; i <= n; i++ {
		t := strings.TrimSpace(lines.Line(i))
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
