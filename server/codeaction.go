package server

import (
	"context"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// FixAllTitle is the title of the source.fixAll.nonroot-ls action.
const FixAllTitle = "Fix all nonroot-ls problems"

// codeAction returns the quick-fixes of the findings in the range (codeactions.InRange) and,
// when asked for (context.only names source, source.fixAll or source.fixAll.nonroot-ls, or
// names nothing, the range has fixes and the request was invoked rather than automatic),
// the fix-all action as one minimal edit.
func codeAction(ctx context.Context, s *Server, st *state, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.CodeActionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	out := []protocol.CommandOrCodeAction{}
	path := uriPath(p.TextDocument.URI)
	lines := st.linesFor(path)
	if lines == nil {
		return out, nil
	}
	only := p.Context.Only
	rng := s.client.enc.toRange(lines, p.Range)
	quick := 0
	if kindWanted(only, codeactions.KindQuickFix) {
		for _, a := range codeactions.Sorted(codeactions.InRange(ctx, st.snap, path, rng)) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !kindWanted(only, a.Kind) {
				continue
			}
			out = append(out, s.toCodeAction(st, a))
			quick++
		}
	}
	// Without a filter, fix-all joins the quick-fixes only when the user asked (not for the
	// automatic lightbulb requests editors send on every cursor move: it re-checks the file
	// once per fix).
	asked := p.Context.TriggerKind != protocol.CodeActionTriggerKindAutomatic
	if (len(only) > 0 && kindWanted(only, codeactions.KindFixAll)) || (len(only) == 0 && quick > 0 && asked) {
		if a := s.fixAll(ctx, st, path); a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// kindWanted reports whether an action of kind k passes the client's only filter
// (a kind matches itself and its parents: "source" admits "source.fixAll.nonroot-ls").
func kindWanted(only []protocol.CodeActionKind, k string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if k == string(o) || strings.HasPrefix(k, string(o)+".") {
			return true
		}
	}
	return false
}

// fixAll plans source.fixAll.nonroot-ls: every preferred single-file fix, as one minimal
// edit (text.Diff of the document before and after). Nil when nothing is fixable.
func (s *Server) fixAll(ctx context.Context, st *state, path string) *protocol.CodeAction {
	f, err := st.snap.File(path)
	if err != nil {
		return nil
	}
	rep, err := codeactions.FixAll(ctx, st.snap, path)
	if err != nil {
		s.logf(protocol.MessageTypeWarning, "fix all %s: %v", path, err)
		return nil
	}
	for _, n := range rep.Notes(func(p string) string { return p }) {
		s.logf(protocol.MessageTypeWarning, "fix all: %s", n)
	}
	edits := text.Diff(f.Text, rep.Text)
	if len(rep.Fixed) == 0 || len(edits) == 0 {
		return nil
	}
	kind := protocol.CodeActionKind(codeactions.KindFixAll)
	return &protocol.CodeAction{
		Title: FixAllTitle,
		Kind:  &kind,
		Edit:  s.workspaceEdit(st, []codeactions.FileEdit{{Path: path, Edits: edits}}),
	}
}

// toCodeAction converts a planned fix, with the diagnostic it resolves attached.
func (s *Server) toCodeAction(st *state, a codeactions.Action) *protocol.CodeAction {
	kind := protocol.CodeActionKind(a.Kind)
	ca := &protocol.CodeAction{Title: a.Title, Kind: &kind, Edit: s.workspaceEdit(st, a.Edits)}
	if a.Preferred {
		yes := true
		ca.IsPreferred = &yes
	}
	if a.Finding.RuleID != "" {
		ca.Diagnostics = []protocol.Diagnostic{s.toDiagnostic(st, a.Finding)}
	}
	return ca
}

// workspaceEdit converts file edits. With a client that supports documentChanges every file
// gets a versioned TextDocumentEdit (version null for a file that is not open), so a fix in
// another file is applied only to the text it was computed from; otherwise plain changes.
func (s *Server) workspaceEdit(st *state, fes []codeactions.FileEdit) *protocol.WorkspaceEdit {
	we := &protocol.WorkspaceEdit{}
	for _, fe := range fes {
		lines := st.linesFor(fe.Path)
		u := st.uriFor(fe.Path)
		if s.client.documentChanges {
			tde := &protocol.TextDocumentEdit{TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}}}
			if d := st.doc(fe.Path); d != nil {
				v := d.version
				tde.TextDocument.Version = &v
			}
			for _, e := range fe.Edits {
				tde.Edits = append(tde.Edits, &protocol.TextEdit{Range: s.client.enc.fromRange(lines, e.Range), NewText: e.NewText})
			}
			we.DocumentChanges = append(we.DocumentChanges, tde)
			continue
		}
		if we.Changes == nil {
			we.Changes = map[uri.URI][]protocol.TextEdit{}
		}
		for _, e := range fe.Edits {
			we.Changes[u] = append(we.Changes[u], protocol.TextEdit{Range: s.client.enc.fromRange(lines, e.Range), NewText: e.NewText})
		}
	}
	return we
}
