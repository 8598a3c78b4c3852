package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// TestKustomizeSession: a base and two overlays through the server. The dev patch's
// runAsUser: 0 is NR202 on the patch line, and the allowPrivilegeEscalation no overlay sets
// for dev is NR203 on the base container line (the base is not open: it is published as a
// file the build reads). Editing the open patch to runAsUser: 10001 with
// allowPrivilegeEscalation: false clears the patch and re-publishes the base without its
// finding.
func TestKustomizeSession(t *testing.T) {
	// The files are on disk before the session starts (the server walks the folder once; a
	// client tells it of later files with didChangeWatchedFiles).
	h := &harness{t: t, dir: t.TempDir()}
	h.write("base/kustomization.yaml", "resources:\n  - deployment.yaml\n")
	h.write("base/deployment.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/example/api:1.0
`)
	patch := func(user, ape string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: ` + user + `
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: api
          securityContext:` + ape + `
            capabilities:
              drop: ["ALL"]
`
	}
	prod := patch("10001", "\n            allowPrivilegeEscalation: false")
	for _, o := range []string{"dev", "prod"} {
		h.write("overlays/"+o+"/kustomization.yaml", "resources:\n  - ../../base\npatches:\n  - path: security.yaml\n")
	}
	h.write("overlays/prod/security.yaml", prod)
	dev := patch("0", "")
	h.write("overlays/dev/security.yaml", dev)
	h = start(t, h.dir, protocol.ClientCapabilities{}, "")

	du := h.uri("overlays/dev/security.yaml")
	if err := h.c.Open(h.ctx, du, "yaml", 1, dev); err != nil {
		t.Fatal(err)
	}
	ds := h.diags(du, 1)
	if len(ds) != 1 || codes(ds)[0] != "NR202" || ds[0].Range.Start.Line != 9 || !strings.HasPrefix(fmt.Sprint(ds[0].Message), "in overlays/dev: runAsUser: 0") {
		t.Fatalf("dev patch: want NR202 on line 10, got %+v", ds)
	}
	bu := h.uri("base/deployment.yaml")
	waitFor(t, h, bu, func(ds []protocol.Diagnostic) bool {
		return len(ds) == 1 && codes(ds)[0] == "NR203" && ds[0].Range.Start.Line == 8 && strings.HasPrefix(fmt.Sprint(ds[0].Message), "in overlays/dev: ")
	})
	_, before := h.c.Latest(bu)

	// runAsUser: 0 → 10001, and allowPrivilegeEscalation: false added: the whole text.
	fixed := patch("10001", "\n            allowPrivilegeEscalation: false")
	if err := h.c.Change(h.ctx, du, 2, protocol.Range{End: protocol.Position{Line: uint32(strings.Count(dev, "\n"))}}, fixed); err != nil {
		t.Fatal(err)
	}
	if ds := h.diags(du, 2); len(ds) != 0 {
		t.Errorf("dev patch after the edit: %+v", ds)
	}
	waitFor(t, h, bu, func(ds []protocol.Diagnostic) bool {
		_, n := h.c.Latest(bu)
		return n > before && len(ds) == 0
	})
	if p, _ := h.c.Latest(h.uri("overlays/prod/security.yaml")); p != nil && slices.Contains(codes(p.Diagnostics), "NR202") {
		t.Errorf("prod patch: %v", codes(p.Diagnostics))
	}
}
