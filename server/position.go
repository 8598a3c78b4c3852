package server

import (
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// encoding is the negotiated position encoding: how a Position's character counts.
type encoding int

const (
	utf16 encoding = iota // the LSP default
	utf8enc
)

func (e encoding) kind() protocol.PositionEncodingKind {
	if e == utf8enc {
		return protocol.PositionEncodingKindUTF8
	}
	return protocol.PositionEncodingKindUTF16
}

// negotiate picks utf-8 when the client offers it, else utf-16.
func negotiate(offered []protocol.PositionEncodingKind) encoding {
	for _, k := range offered {
		if k == protocol.PositionEncodingKindUTF8 {
			return utf8enc
		}
	}
	return utf16
}

// toPos converts a client position to the engine's (byte column). Out-of-range lines and
// columns clamp to the text; a column inside a character rounds down to its start.
func (e encoding) toPos(l *text.Lines, p protocol.Position) text.Pos {
	line, char := int(p.Line), int(p.Character)
	if e == utf16 {
		return l.FromUTF16(line, char)
	}
	if line >= l.Count() {
		last := l.Count() - 1
		return text.Pos{Line: last, Col: len(l.Line(last))}
	}
	s := l.Line(line)
	col := min(char, len(s))
	for col > 0 && col < len(s) && !utf8.RuneStart(s[col]) {
		col--
	}
	return text.Pos{Line: line, Col: col}
}

// fromPos converts an engine position to the client's encoding.
func (e encoding) fromPos(l *text.Lines, p text.Pos) protocol.Position {
	if l == nil {
		return protocol.Position{Line: uint32(max(p.Line, 0)), Character: uint32(max(p.Col, 0))}
	}
	col := p.Col
	if e == utf16 {
		col = l.ToUTF16(p)
	} else {
		col = min(max(col, 0), len(l.Line(p.Line)))
	}
	return protocol.Position{Line: uint32(max(p.Line, 0)), Character: uint32(col)}
}

func (e encoding) toRange(l *text.Lines, r protocol.Range) text.Range {
	return text.Range{Start: e.toPos(l, r.Start), End: e.toPos(l, r.End)}
}

func (e encoding) fromRange(l *text.Lines, r text.Range) protocol.Range {
	return protocol.Range{Start: e.fromPos(l, r.Start), End: e.fromPos(l, r.End)}
}
