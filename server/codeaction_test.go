package server

import (
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func codeActions(h *harness, u uri.URI, r protocol.Range, only ...protocol.CodeActionKind) []*protocol.CodeAction {
	h.t.Helper()
	var res []protocol.CommandOrCodeAction
	p := &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: r, Context: protocol.CodeActionContext{Diagnostics: []protocol.Diagnostic{}, Only: only}}
	if err := h.c.Call(h.ctx, protocol.MethodTextDocumentCodeAction, p, &res); err != nil {
		h.t.Fatal(err)
	}
	var out []*protocol.CodeAction
	for _, x := range res {
		ca, ok := x.(*protocol.CodeAction)
		if !ok {
			h.t.Fatalf("a %T in the result", x)
		}
		out = append(out, ca)
	}
	return out
}

var docChangesCaps = protocol.ClientCapabilities{Workspace: &protocol.WorkspaceClientCapabilities{WorkspaceEdit: &protocol.WorkspaceEditClientCapabilities{DocumentChanges: ptr(true)}}}

func ptr[T any](v T) *T { return &v }

func TestQuickFix(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.open("Dockerfile", "# é😀\r\nUSER root\r\n")
	h.diags(u, 1)
	as := codeActions(h, u, rng(1, 6, 1, 6))
	// Preferred first, then by title; the fix-all action follows the quick-fixes.
	if len(as) != 3 || as[0].Title != "Run as 10001" || as[1].Title != "Note it elsewhere" || as[2].Title != FixAllTitle {
		t.Fatalf("actions: %v", titles(as))
	}
	a := as[0]
	if a.Kind == nil || *a.Kind != protocol.CodeActionKindQuickFix || a.IsPreferred == nil || !*a.IsPreferred {
		t.Errorf("kind %v preferred %v", a.Kind, a.IsPreferred)
	}
	if len(a.Diagnostics) != 1 || codes(a.Diagnostics)[0] != "NR990" || a.Diagnostics[0].Range != rng(1, 5, 1, 9) {
		t.Errorf("attached diagnostics %+v", a.Diagnostics)
	}
	if as[1].IsPreferred != nil {
		t.Errorf("a non-preferred action is marked preferred")
	}
	edits := a.Edit.Changes[u]
	if len(edits) != 1 || edits[0].Range != rng(1, 5, 1, 9) || edits[0].NewText != "10001" {
		t.Errorf("edit %+v", a.Edit)
	}
	// The cross-file action without documentChanges support: plain changes for both files.
	if len(as[1].Edit.Changes) != 2 || len(as[1].Edit.Changes[h.uri("NOTES")]) != 1 {
		t.Errorf("cross-file changes %+v", as[1].Edit.Changes)
	}
	// Outside any finding: nothing.
	if as := codeActions(h, u, rng(0, 0, 0, 1)); len(as) != 0 {
		t.Errorf("actions on a comment: %v", titles(as))
	}
	// only: source.fixAll excludes quick-fixes.
	if as := codeActions(h, u, rng(1, 6, 1, 6), "source.fixAll"); len(as) != 1 || as[0].Title != FixAllTitle {
		t.Errorf("only source.fixAll: %v", titles(as))
	}
	if as := codeActions(h, u, rng(1, 6, 1, 6), "refactor"); len(as) != 0 {
		t.Errorf("only refactor: %v", titles(as))
	}
}

func titles(as []*protocol.CodeAction) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Title)
	}
	return out
}

func TestCrossFileActionUsesVersionedDocumentChanges(t *testing.T) {
	h := start(t, "", docChangesCaps, "")
	h.write("NOTES", "existing\n")
	u := h.open("Dockerfile", "USER root\n")
	h.c.Change(h.ctx, u, 7, rng(0, 0, 0, 0), "# v7\n")
	h.diags(u, 7)
	as := codeActions(h, u, rng(1, 5, 1, 9), protocol.CodeActionKindQuickFix)
	if len(as) != 2 {
		t.Fatalf("actions %v", titles(as))
	}
	dc := as[1].Edit.DocumentChanges
	if len(dc) != 2 || as[1].Edit.Changes != nil {
		t.Fatalf("documentChanges %+v", as[1].Edit)
	}
	self, other := dc[0].(*protocol.TextDocumentEdit), dc[1].(*protocol.TextDocumentEdit)
	if self.TextDocument.URI != u || self.TextDocument.Version == nil || *self.TextDocument.Version != 7 {
		t.Errorf("edit of the open document: %+v", self.TextDocument)
	}
	if other.TextDocument.URI != h.uri("NOTES") || other.TextDocument.Version != nil {
		t.Errorf("edit of the other file (not open: version null): %+v", other.TextDocument)
	}
	if e, ok := other.Edits[0].(*protocol.TextEdit); !ok || e.NewText != "root\n" || e.Range != rng(0, 0, 0, 0) {
		t.Errorf("other edit %+v", other.Edits)
	}
}

func TestFixAllIsOneMinimalEdit(t *testing.T) {
	h := start(t, "", docChangesCaps, "")
	src := "FROM alpine\r\n# é😀 TODO\r\nUSER root\r\nRUN true\r\n"
	u := h.open("Dockerfile", src)
	h.diags(u, 1)
	as := codeActions(h, u, rng(0, 0, 0, 0), "source.fixAll.nonroot-ls")
	if len(as) != 1 || as[0].Kind == nil || *as[0].Kind != "source.fixAll.nonroot-ls" {
		t.Fatalf("fix all: %v", titles(as))
	}
	dc := as[0].Edit.DocumentChanges
	if len(dc) != 1 {
		t.Fatalf("documentChanges %+v", dc)
	}
	tde := dc[0].(*protocol.TextDocumentEdit)
	if len(tde.Edits) != 1 || *tde.TextDocument.Version != 1 {
		t.Fatalf("fix all must be one edit on version 1: %+v", tde)
	}
	e := tde.Edits[0].(*protocol.TextEdit)
	// Apply the LSP edit like a client would and compare.
	l := text.NewLines(src)
	r := utf16.toRange(l, e.Range)
	got, _ := text.Apply(src, []text.Edit{{Range: r, NewText: e.NewText}})
	// The real NR102 fix (USER root → the default uid:gid) comes first, in rule order.
	if want := "FROM alpine\r\n# é😀 DONE\r\nUSER 10001:0\r\nRUN true\r\n"; got != want {
		t.Fatalf("after fix all:\n%q\nwant\n%q (edit %+v)", got, want, e)
	}
	// Minimal: it starts at the first change and ends at the last.
	if e.Range.Start != (protocol.Position{Line: 1, Character: 6}) || e.Range.End != (protocol.Position{Line: 2, Character: 9}) {
		t.Errorf("edit range %+v", e.Range)
	}
	// Nothing to fix: no action.
	clean := h.open("clean/Dockerfile", "FROM alpine\nUSER 10001:0\n")
	h.diags(clean, 1)
	if as := codeActions(h, clean, rng(0, 0, 0, 0), "source"); len(as) != 0 {
		t.Errorf("fix all on a clean file: %v", titles(as))
	}
}
