package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/kube" // NR2xx: a real rule group on a manifest
)

// TestManifestSession: a Kubernetes manifest through the server — diagnostics with UTF-16
// ranges, hover on a securityContext key, a quick-fix applied as the client would apply a
// workspace edit, and the diagnostics re-published without the fixed finding.
func TestManifestSession(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	src := "# Déploiement 😀\napiVersion: v1\nkind: Pod\nmetadata: {name: \"é😀\"}\nspec:\n  securityContext:\n    seccompProfile: {type: RuntimeDefault}\n    runAsUser: 0\n  containers:\n  - name: app # 😀\n    image: app:1\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
	u := h.uri("pod.yaml")
	if err := h.c.Open(h.ctx, u, "yaml", 1, src); err != nil {
		t.Fatal(err)
	}
	ds := h.diags(u, 1)
	got := strings.Join(codes(ds), ",")
	if got != "NR202,NR201" && got != "NR201,NR202" {
		t.Fatalf("codes %v", got)
	}
	var nr201, nr202 protocol.Diagnostic
	for _, d := range ds {
		switch codes([]protocol.Diagnostic{d})[0] {
		case "NR201":
			nr201 = d
		case "NR202":
			nr202 = d
		}
	}
	if nr202.Range != rng(7, 15, 7, 16) {
		t.Errorf("NR202 range %+v, want the 0 of runAsUser", nr202.Range)
	}
	if nr201.Range != rng(11, 4, 11, 19) {
		t.Errorf("NR201 range %+v, want the container's securityContext key", nr201.Range)
	}
	hv := hoverAt(h, u, 7, 15)
	if hv == nil {
		t.Fatal("no hover on runAsUser")
	}
	if mc := hv.Contents.(*protocol.MarkupContent); !strings.Contains(mc.Value, "NR202") || !strings.Contains(mc.Value, "securityContext.runAsUser") || !strings.Contains(mc.Value, "from the pod level") {
		t.Errorf("hover:\n%s", mc.Value)
	}
	as := codeActions(h, u, nr201.Range)
	if len(as) == 0 || as[0].Title != "Add runAsNonRoot: true to the pod securityContext" {
		t.Fatalf("actions %v", titles(as))
	}
	edits := as[0].Edit.Changes[u]
	if len(edits) != 1 {
		t.Fatalf("edits %+v", as[0].Edit)
	}
	if err := h.c.Change(h.ctx, u, 2, edits[0].Range, edits[0].NewText); err != nil {
		t.Fatal(err)
	}
	after := codes(h.diags(u, 2))
	if strings.Join(after, ",") != "NR202" {
		t.Errorf("after the fix: %v", after)
	}
}
