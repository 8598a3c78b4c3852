package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

func hoverAt(h *harness, u uri.URI, line, char uint32) *protocol.Hover {
	h.t.Helper()
	var hv *protocol.Hover
	if err := h.c.Call(h.ctx, protocol.MethodTextDocumentHover, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: protocol.Position{Line: line, Character: char}}}, &hv); err != nil {
		h.t.Fatal(err)
	}
	return hv
}

func TestHover(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.open("Dockerfile", "# é😀 TODO\r\nUSER root\r\n")
	h.diags(u, 1)
	hv := hoverAt(h, u, 1, 7)
	if hv == nil {
		t.Fatal("no hover on USER root")
	}
	mc, ok := hv.Contents.(*protocol.MarkupContent)
	if !ok || mc.Kind != protocol.MarkupKindMarkdown {
		t.Fatalf("contents %#v, want Markdown", hv.Contents)
	}
	for _, want := range []string{"NR990", "the container runs as root", "test why", "test runtime", "test fix", testRule.DocURL()} {
		if !strings.Contains(mc.Value, want) {
			t.Errorf("hover lacks %q:\n%s", want, mc.Value)
		}
	}
	if hv.Range == nil || *hv.Range != rng(1, 5, 1, 9) {
		t.Errorf("hover range %+v", hv.Range)
	}
	// After the emoji: UTF-16 column 7 is inside TODO.
	if hv := hoverAt(h, u, 0, 7); hv == nil || *hv.Range != rng(0, 6, 0, 10) {
		t.Errorf("hover on TODO after multi-byte characters: %+v", hv)
	}
	if hv := hoverAt(h, u, 0, 0); hv != nil {
		t.Errorf("hover on a plain comment: %+v", hv)
	}
	if hv := hoverAt(h, h.uri("not-open/Dockerfile"), 0, 0); hv != nil {
		t.Errorf("hover on a missing file: %+v", hv)
	}
}

func TestHoverPlainTextClient(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{TextDocument: &protocol.TextDocumentClientCapabilities{Hover: &protocol.HoverClientCapabilities{ContentFormat: []protocol.MarkupKind{protocol.MarkupKindPlainText}}}}, "")
	u := h.open("Dockerfile", "USER root\n")
	h.diags(u, 1)
	hv := hoverAt(h, u, 0, 6)
	if mc, ok := hv.Contents.(*protocol.MarkupContent); !ok || mc.Kind != protocol.MarkupKindPlainText {
		t.Fatalf("contents %#v, want plaintext", hv.Contents)
	}
}
