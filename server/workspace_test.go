package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

const (
	wsDockerfile = "FROM alpine:3.21\nRUN adduser -D -u 10001 -G root app\nUSER app\nENTRYPOINT [\"/app\"]\n"
	wsManifest   = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  securityContext:\n    runAsNonRoot: true\n    runAsGroup: 0\n    seccompProfile: {type: RuntimeDefault}\n  containers:\n    - name: app\n      image: ghcr.io/acme/app:1.0\n      securityContext:\n        allowPrivilegeEscalation: false\n        capabilities: {drop: [ALL]}\n"
)

// wsFiles returns a workspace holding the Dockerfile and the manifest that runs its image
// (written before the server starts: the server learns of later files from its watcher).
func wsFiles(t *testing.T) string {
	return tree(t, map[string]string{"app/Dockerfile": wsDockerfile, "deploy/pod.yaml": wsManifest})
}

// waitPublished waits until the newest publication for u satisfies ok.
func waitPublished(h *harness, u uri.URI, what string, ok func([]protocol.Diagnostic) bool) []protocol.Diagnostic {
	h.t.Helper()
	var ds []protocol.Diagnostic
	h.waitFor(fmt.Sprintf("%s: %s", u, what), func() bool {
		p, _ := h.c.Latest(u)
		if p != nil && ok(p.Diagnostics) {
			ds = p.Diagnostics
			return true
		}
		return false
	})
	return ds
}

func hasCode(code string) func([]protocol.Diagnostic) bool {
	return func(ds []protocol.Diagnostic) bool { return slices.Contains(codes(ds), code) }
}

func lacksCode(code string) func([]protocol.Diagnostic) bool {
	return func(ds []protocol.Diagnostic) bool { return !slices.Contains(codes(ds), code) }
}

// TestLinkedManifestFollowsItsDockerfile: a manifest and the Dockerfile that builds its image
// are open; changing `USER app` to `USER 10001` in the Dockerfile re-publishes the manifest
// without NR301, though the client sent nothing about the manifest.
func TestLinkedManifestFollowsItsDockerfile(t *testing.T) {
	h := start(t, wsFiles(t), docChangesCaps, "")
	mu := h.uri("deploy/pod.yaml")
	if err := h.c.Open(h.ctx, mu, "yaml", 1, wsManifest); err != nil {
		t.Fatal(err)
	}
	ds := waitPublished(h, mu, "NR301", hasCode("NR301"))
	var nr301 protocol.Diagnostic
	for _, d := range ds {
		if c, _ := d.Code.(protocol.String); c == "NR301" {
			nr301 = d
		}
	}
	if len(nr301.RelatedInformation) == 0 || nr301.RelatedInformation[0].Location.URI != h.uri("app/Dockerfile") ||
		nr301.RelatedInformation[0].Location.Range != rng(2, 5, 2, 8) {
		t.Errorf("NR301 related information %+v, want the USER argument of app/Dockerfile", nr301.RelatedInformation)
	}
	du := h.open("app/Dockerfile", wsDockerfile)
	h.diags(du, 1)

	// Definition on the image jumps to the built stage's FROM; references on USER come back.
	var defs []protocol.Location
	if err := h.c.Call(h.ctx, protocol.MethodTextDocumentDefinition, &protocol.DefinitionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: mu}, Position: protocol.Position{Line: 11, Character: 15}}}, &defs); err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || defs[0].URI != du || defs[0].Range.Start.Line != 0 {
		t.Fatalf("definition = %+v", defs)
	}
	var refs []protocol.Location
	if err := h.c.Call(h.ctx, protocol.MethodTextDocumentReferences, &protocol.ReferenceParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: du}, Position: protocol.Position{Line: 2, Character: 6}}}, &refs); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].URI != mu || refs[0].Range != rng(11, 13, 11, 33) {
		t.Fatalf("references = %+v", refs)
	}

	// The cross-file fix: its second action edits the Dockerfile, with the open version.
	as := codeActions(h, mu, nr301.Range, protocol.CodeActionKindQuickFix)
	var cross *protocol.CodeAction
	for _, a := range as {
		if strings.HasPrefix(a.Title, "Make USER numeric") {
			cross = a
		}
	}
	if cross == nil || len(cross.Edit.DocumentChanges) != 1 {
		t.Fatalf("actions %v", titles(as))
	}
	tde := cross.Edit.DocumentChanges[0].(*protocol.TextDocumentEdit)
	if tde.TextDocument.URI != du || tde.TextDocument.Version == nil || *tde.TextDocument.Version != 1 {
		t.Fatalf("cross-file edit %+v", tde.TextDocument)
	}
	e := tde.Edits[0].(*protocol.TextEdit)
	if e.NewText != "10001" || e.Range != rng(2, 5, 2, 8) {
		t.Fatalf("cross-file edit %+v", e)
	}
	// Apply it as the client would: a change to the Dockerfile only.
	_, before := h.c.Latest(mu)
	if err := h.c.Change(h.ctx, du, 2, e.Range, e.NewText); err != nil {
		t.Fatal(err)
	}
	h.diags(du, 2)
	waitPublished(h, mu, "the manifest without NR301", lacksCode("NR301"))
	if p, after := h.c.Latest(mu); after <= before {
		t.Errorf("manifest not re-published (%d → %d publications)", before, after)
	} else if v, _ := p.Version.Get(); v != 1 {
		t.Errorf("manifest re-published with version %d, want its open version 1", v)
	}
	// And back: the named user returns, so does NR301.
	h.c.Change(h.ctx, du, 3, rng(2, 5, 2, 10), "app")
	waitPublished(h, mu, "NR301 again", hasCode("NR301"))
}

// TestClosedLinkedManifestIsPublished: the manifest is not open; editing its Dockerfile
// publishes the manifest's diagnostics (and clears them when fixed), also in scope openFiles,
// where the workspace's other files are not published.
func TestClosedLinkedManifestIsPublished(t *testing.T) {
	h := start(t, wsFiles(t), ptrCaps(), `{"diagnostics": {"scope": "openFiles"}}`)
	mu := h.uri("deploy/pod.yaml")
	du := h.open("app/Dockerfile", wsDockerfile)
	h.diags(du, 1)
	waitPublished(h, mu, "NR301 of the closed manifest", hasCode("NR301"))
	h.c.Change(h.ctx, du, 2, rng(2, 5, 2, 8), "10001")
	h.diags(du, 2)
	waitPublished(h, mu, "the closed manifest without NR301", lacksCode("NR301"))
}

// TestWatchedDockerfileChange: the Dockerfile changes on disk (not open); the client reports it
// with workspace/didChangeWatchedFiles and the open manifest is re-published.
func TestWatchedDockerfileChange(t *testing.T) {
	dir := wsFiles(t)
	h := start(t, dir, ptrCaps(), "")
	mu := h.uri("deploy/pod.yaml")
	if err := h.c.Open(h.ctx, mu, "yaml", 1, wsManifest); err != nil {
		t.Fatal(err)
	}
	waitPublished(h, mu, "NR301", hasCode("NR301"))
	h.write("app/Dockerfile", strings.Replace(wsDockerfile, "USER app", "USER 10001", 1)) // and tells the server
	waitPublished(h, mu, "the manifest without NR301", lacksCode("NR301"))
}
