package server

import (
	"testing"

	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func TestPositionConversion(t *testing.T) {
	l := text.NewLines("a é😀 b\r\nx\n")
	for _, tc := range []struct {
		enc  encoding
		pos  text.Pos
		char uint32
	}{
		{utf16, text.Pos{Line: 0, Col: 0}, 0},
		{utf16, text.Pos{Line: 0, Col: 2}, 2},  // before é
		{utf16, text.Pos{Line: 0, Col: 4}, 3},  // after é (2 bytes, 1 unit)
		{utf16, text.Pos{Line: 0, Col: 8}, 5},  // after 😀 (4 bytes, 2 units)
		{utf16, text.Pos{Line: 0, Col: 10}, 7}, // end of line (before CRLF)
		{utf8enc, text.Pos{Line: 0, Col: 8}, 8},
		{utf16, text.Pos{Line: 1, Col: 1}, 1},
	} {
		got := tc.enc.fromPos(l, tc.pos)
		if got.Character != tc.char || got.Line != uint32(tc.pos.Line) {
			t.Errorf("%v fromPos(%v) = %+v, want char %d", tc.enc.kind(), tc.pos, got, tc.char)
		}
		if back := tc.enc.toPos(l, got); back != tc.pos {
			t.Errorf("%v toPos(%+v) = %v, want %v", tc.enc.kind(), got, back, tc.pos)
		}
	}
	// Clamping: past the line's end, past the last line.
	if p := utf16.toPos(l, protocol.Position{Line: 0, Character: 99}); p != (text.Pos{Line: 0, Col: 10}) {
		t.Errorf("past the end of line: %v", p)
	}
	if p := utf8enc.toPos(l, protocol.Position{Line: 9, Character: 0}); p != (text.Pos{Line: 2, Col: 0}) {
		t.Errorf("past the last line: %v", p)
	}
	if p := utf8enc.toPos(l, protocol.Position{Line: 0, Character: 6}); p != (text.Pos{Line: 0, Col: 4}) {
		t.Errorf("inside a UTF-8 sequence: %v, want rounded down to 4", p)
	}
}

func TestNegotiate(t *testing.T) {
	if negotiate(nil) != utf16 || negotiate([]protocol.PositionEncodingKind{"utf-32"}) != utf16 || negotiate([]protocol.PositionEncodingKind{"utf-16", "utf-8"}) != utf8enc {
		t.Fatal("negotiate: utf-8 when offered, else utf-16")
	}
}
