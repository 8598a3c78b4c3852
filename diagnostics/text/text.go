// Package text holds the engine's notion of a position in a document and of an edit to it.
//
// Positions are a 0-based line and a 0-based byte offset into that line (UTF-8). The server
// converts them to the client's encoding (UTF-16 by default) with [Lines.ToUTF16] and
// [Lines.FromUTF16]; nothing in the engine counts UTF-16 units.
//
// Lines end at "\n", "\r\n" or a lone "\r", as the Language Server Protocol defines them.
package text

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Pos is a position: a 0-based line and a 0-based byte column within that line.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Less reports whether p comes before q.
func (p Pos) Less(q Pos) bool {
	return p.Line < q.Line || (p.Line == q.Line && p.Col < q.Col)
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line+1, p.Col+1) }

// Range is a half-open range [Start, End).
type Range struct {
	Start Pos `json:"start"`
	End   Pos `json:"end"`
}

// Contains reports whether p is inside r (End included, so a cursor just after a word hovers it).
func (r Range) Contains(p Pos) bool {
	return !p.Less(r.Start) && !r.End.Less(p)
}

// IsZero reports whether r is the zero range.
func (r Range) IsZero() bool { return r == Range{} }

func (r Range) String() string { return r.Start.String() + "-" + r.End.String() }

// LineRange is the range of the whole of line n's text (without its terminator).
func (l *Lines) LineRange(n int) Range {
	return Range{Start: Pos{Line: n}, End: Pos{Line: n, Col: len(l.Line(n))}}
}

// Edit replaces Range with NewText.
type Edit struct {
	Range   Range  `json:"range"`
	NewText string `json:"newText"`
}

// Lines indexes the line starts of a text.
type Lines struct {
	src    string
	starts []int // byte offset at which each line starts
	ends   []int // byte offset at which each line's text ends (before its terminator)
}

// NewLines indexes src.
func NewLines(src string) *Lines {
	if strings.IndexByte(src, '\r') < 0 {
		// Only '\n' ends lines: find them with IndexByte, and size the index exactly.
		n := strings.Count(src, "\n") + 1
		idx := make([]int, 2*n) // starts and ends in one allocation
		l := &Lines{src: src, starts: idx[:1:n], ends: idx[n : n : 2*n]}
		for i := 0; ; {
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				break
			}
			l.ends = append(l.ends, i+j)
			l.starts = append(l.starts, i+j+1)
			i += j + 1
		}
		l.ends = append(l.ends, len(src))
		return l
	}
	n := strings.Count(src, "\n") + strings.Count(src, "\r") + 1 // an upper bound on the lines
	l := &Lines{src: src, starts: make([]int, 1, n), ends: make([]int, 0, n)}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			l.ends = append(l.ends, i)
			l.starts = append(l.starts, i+1)
		case '\r':
			l.ends = append(l.ends, i)
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			l.starts = append(l.starts, i+1)
		}
	}
	l.ends = append(l.ends, len(src))
	return l
}

// Source returns the indexed text.
func (l *Lines) Source() string { return l.src }

// Count returns the number of lines (a text ending in a newline has an empty last line).
func (l *Lines) Count() int { return len(l.starts) }

// Start returns the byte offset at which line n starts (clamped to the lines).
func (l *Lines) Start(n int) int {
	return l.starts[min(max(n, 0), len(l.starts)-1)]
}

// Line returns line n's text without its terminator ("" when n is out of range).
func (l *Lines) Line(n int) string {
	if n < 0 || n >= len(l.starts) {
		return ""
	}
	return l.src[l.starts[n]:l.ends[n]]
}

// Terminator returns the line ending of line n ("" for the last line).
func (l *Lines) Terminator(n int) string {
	if n < 0 || n >= len(l.starts)-1 {
		return ""
	}
	return l.src[l.ends[n]:l.starts[n+1]]
}

// EOL returns the text's line ending: that of its first line, or "\n" for a single-line text.
func (l *Lines) EOL() string {
	if t := l.Terminator(0); t != "" {
		return t
	}
	return "\n"
}

// Offset returns the byte offset of p, clamping the line to the text and the column to the line.
func (l *Lines) Offset(p Pos) int {
	if p.Line < 0 {
		return 0
	}
	if p.Line >= len(l.starts) {
		return len(l.src)
	}
	col := min(max(p.Col, 0), l.ends[p.Line]-l.starts[p.Line])
	return l.starts[p.Line] + col
}

// PosAt returns the position of byte offset off (clamped to the text).
func (l *Lines) PosAt(off int) Pos {
	off = min(max(off, 0), len(l.src))
	n := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
	col := min(off-l.starts[n], l.ends[n]-l.starts[n])
	return Pos{Line: n, Col: col}
}

// RangeOf returns the range of the byte offsets [start, end).
func (l *Lines) RangeOf(start, end int) Range {
	return Range{Start: l.PosAt(start), End: l.PosAt(end)}
}

// ToUTF16 returns p's column counted in UTF-16 code units (the LSP default encoding).
func (l *Lines) ToUTF16(p Pos) int {
	line := l.Line(p.Line)
	col := min(max(p.Col, 0), len(line))
	n := 0
	for _, r := range line[:col] {
		n += utf16.RuneLen(r) // an invalid byte decodes as RuneError: one unit
	}
	return n
}

// FromUTF16 converts a line and a UTF-16 column into a Pos. A column past the end of the
// line clamps to the end; a column inside a surrogate pair rounds to the character's start.
func (l *Lines) FromUTF16(line, char int) Pos {
	if line >= len(l.starts) {
		last := len(l.starts) - 1
		return Pos{Line: last, Col: len(l.Line(last))}
	}
	if line < 0 {
		return Pos{}
	}
	s := l.Line(line)
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if units+w > char {
			return Pos{Line: line, Col: i}
		}
		units += w
	}
	return Pos{Line: line, Col: len(s)}
}

// ToRunes returns p's column counted in code points.
func (l *Lines) ToRunes(p Pos) int {
	line := l.Line(p.Line)
	return utf8.RuneCountInString(line[:min(max(p.Col, 0), len(line))])
}

// FromRunes converts a line and a column counted in code points (as yaml.v3 reports them) into a Pos.
func (l *Lines) FromRunes(line, runes int) Pos {
	s := l.Line(line)
	n := 0
	for i := range s {
		if n == runes {
			return Pos{Line: line, Col: i}
		}
		n++
	}
	return Pos{Line: line, Col: len(s)}
}

// Apply applies edits to src. Edits are given in positions of src; they must not overlap.
// Edits at the same position are applied in the order given.
func Apply(src string, edits []Edit) (string, error) {
	if len(edits) == 0 {
		return src, nil
	}
	l := NewLines(src)
	type span struct {
		start, end int
		text       string
		order      int
	}
	spans := make([]span, len(edits))
	for i, e := range edits {
		s, t := l.Offset(e.Range.Start), l.Offset(e.Range.End)
		if t < s {
			return "", fmt.Errorf("edit %d: end %v before start %v", i, e.Range.End, e.Range.Start)
		}
		spans[i] = span{s, t, e.NewText, i}
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	b.Grow(len(src))
	last := 0
	for _, sp := range spans {
		if sp.start < last {
			return "", fmt.Errorf("overlapping edits at byte %d", sp.start)
		}
		b.WriteString(src[last:sp.start])
		b.WriteString(sp.text)
		last = sp.end
	}
	b.WriteString(src[last:])
	return b.String(), nil
}

// Diff returns a single edit that turns before into after: the changed middle between their
// common prefix and suffix, or nil when they are equal. The edit never splits a character or a CRLF.
func Diff(before, after string) []Edit {
	if before == after {
		return nil
	}
	p := 0
	for p < len(before) && p < len(after) && before[p] == after[p] {
		p++
	}
	for p > 0 && (splits(before, p) || splits(after, p)) {
		p--
	}
	s := 0
	for s < len(before)-p && s < len(after)-p && before[len(before)-1-s] == after[len(after)-1-s] {
		s++
	}
	for s > 0 && (splits(before, len(before)-s) || splits(after, len(after)-s)) {
		s--
	}
	l := NewLines(before)
	return []Edit{{Range: l.RangeOf(p, len(before)-s), NewText: after[p : len(after)-s]}}
}

// splits reports whether byte offset i is inside a UTF-8 sequence or between the CR and LF of a CRLF.
func splits(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return false
	}
	return !utf8.RuneStart(s[i]) || s[i-1] == '\r' && s[i] == '\n'
}
