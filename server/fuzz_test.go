package server

import (
	"testing"
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// FuzzApplyChanges: an edit between two byte offsets, sent in the client's encoding (UTF-16
// or UTF-8), applies to exactly those bytes; nothing panics on any input.
func FuzzApplyChanges(f *testing.F) {
	f.Add("FROM alpine\r\nUSER root\r\n", uint16(13), uint16(22), "USER 10001", false)
	f.Add("# é😀 x\nRUN a\n", uint16(2), uint16(9), "ü", true)
	f.Add("a\rb\r\nc\n", uint16(1), uint16(4), "\r\n", false)
	f.Add("", uint16(0), uint16(0), "FROM x", false)
	f.Fuzz(func(t *testing.T, src string, a, b uint16, ins string, useUTF8 bool) {
		enc := utf16
		if useUTF8 {
			enc = utf8enc
		}
		lines := text.NewLines(src)
		start, end := int(a)%(len(src)+1), int(b)%(len(src)+1)
		if end < start {
			start, end = end, start
		}
		r := enc.fromRange(lines, lines.RangeOf(start, end))
		got, err := applyChanges(enc, src, lines, []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: r, Text: ins}})
		if err != nil {
			t.Fatalf("range %+v: %v", r, err)
		}
		if !utf8.ValidString(src) || splitsCRLF(src, start) || splitsCRLF(src, end) || !utf8.RuneStart(at(src, start)) || !utf8.RuneStart(at(src, end)) {
			return // positions a client cannot express
		}
		if want := src[:start] + ins + src[end:]; got != want {
			t.Fatalf("edit [%d,%d) as %+v in %q:\ngot  %q\nwant %q", start, end, r, src, got, want)
		}
		// Sequential application: a second change computed on the first's result.
		l2 := text.NewLines(got)
		r2 := enc.fromRange(l2, text.Range{Start: text.Pos{}, End: text.Pos{}})
		got2, err := applyChanges(enc, src, lines, []protocol.TextDocumentContentChangeEvent{
			&protocol.TextDocumentContentChangePartial{Range: r, Text: ins},
			&protocol.TextDocumentContentChangePartial{Range: r2, Text: "X"},
		})
		if err != nil || got2 != "X"+got {
			t.Fatalf("second change: %q, %v", got2, err)
		}
	})
}

func splitsCRLF(s string, i int) bool { return i > 0 && i < len(s) && s[i-1] == '\r' && s[i] == '\n' }

func at(s string, i int) byte {
	if i >= len(s) {
		return 'x'
	}
	return s[i]
}
