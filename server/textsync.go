package server

import (
	"context"
	"fmt"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func didOpen(ctx context.Context, s *Server, params jsonrpc2.RawMessage) {
	var p protocol.DidOpenTextDocumentParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.logf(protocol.MessageTypeWarning, "didOpen: %v", err)
		return
	}
	td := p.TextDocument
	d := newDocument(td.URI, string(td.LanguageID), td.Version, td.Text)
	s.change([]string{d.path}, func(st *state) *state { return st.withDoc(d) })
}

func didChange(ctx context.Context, s *Server, params jsonrpc2.RawMessage) {
	var p protocol.DidChangeTextDocumentParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.logf(protocol.MessageTypeWarning, "didChange: %v", err)
		return
	}
	path := uriPath(p.TextDocument.URI)
	old := s.current().doc(path)
	if old == nil {
		s.logf(protocol.MessageTypeWarning, "didChange: %s is not open", p.TextDocument.URI)
		return
	}
	content, err := applyChanges(s.client.enc, old.text, s.current().linesFor(path), p.ContentChanges)
	if err != nil {
		s.logf(protocol.MessageTypeError, "didChange %s: %v", p.TextDocument.URI, err)
		return
	}
	d := &document{uri: old.uri, path: old.path, languageID: old.languageID, version: p.TextDocument.Version, text: content}
	s.change([]string{path}, func(st *state) *state { return st.withDoc(d) })
}

// applyChanges applies content changes in order, each to the result of the previous one.
func applyChanges(enc encoding, content string, lines *text.Lines, changes []protocol.TextDocumentContentChangeEvent) (string, error) {
	for i, ch := range changes {
		switch c := ch.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			content = c.Text
		case *protocol.TextDocumentContentChangePartial:
			if lines == nil {
				lines = text.NewLines(content)
			}
			r := enc.toRange(lines, c.Range)
			start, end := lines.Offset(r.Start), lines.Offset(r.End)
			if end < start {
				return "", fmt.Errorf("change %d: range end %d:%d is before its start %d:%d", i, c.Range.End.Line, c.Range.End.Character, c.Range.Start.Line, c.Range.Start.Character)
			}
			var b strings.Builder
			b.Grow(len(content) - (end - start) + len(c.Text))
			b.WriteString(content[:start])
			b.WriteString(c.Text)
			b.WriteString(content[end:])
			content = b.String()
		default:
			return "", fmt.Errorf("change %d: unknown change event %T", i, ch)
		}
		lines = nil
	}
	return content, nil
}

func didClose(ctx context.Context, s *Server, params jsonrpc2.RawMessage) {
	var p protocol.DidCloseTextDocumentParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.logf(protocol.MessageTypeWarning, "didClose: %v", err)
		return
	}
	path := uriPath(p.TextDocument.URI)
	old := s.current().doc(path)
	if old == nil {
		return
	}
	// The state changes first, so no later run publishes the closed document again after
	// the clearing publication.
	st := s.update(func(st *state) *state { return st.withoutDoc(path) })
	s.pub.closed(old.uri, path)
	s.pub.changed(st, nil)
}

// didSave re-reads the saved file from disk: other documents may depend on its disk content.
func didSave(ctx context.Context, s *Server, params jsonrpc2.RawMessage) {
	var p protocol.DidSaveTextDocumentParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.logf(protocol.MessageTypeWarning, "didSave: %v", err)
		return
	}
	path := uriPath(p.TextDocument.URI)
	s.change([]string{path}, func(st *state) *state {
		n := st.clone()
		n.snap = n.snap.WithDiskChanges(path)
		return n
	})
}
