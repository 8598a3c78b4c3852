package server

import (
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/all"             // the Helm group renders through the Kubernetes rules
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender" // charts render with Helm's engine in-process
)

// TestHelmSession: a chart through the server — values.yaml shows NR401/NR404 at the keys that
// control the rendered securityContext, the NR404 fix applied to values.yaml clears it, and an
// edit to an open template re-publishes values.yaml's findings without touching it.
//
// The chart is on disk before the server starts: a file written after initialize would race
// the workspace scan unless the client reported it (see harness.write).
func TestHelmSession(t *testing.T) {
	tmpl := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Chart.Name }}
spec:
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
`
	values := "replicaCount: 1\n\npodSecurityContext: {}\n  # fsGroup: 2000\n\nsecurityContext: {}\n  # runAsNonRoot: true\n"
	dir := tree(t, map[string]string{
		"chart/Chart.yaml":                "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
		"chart/templates/deployment.yaml": tmpl,
		"chart/values.yaml":               values,
	})
	h := start(t, dir, protocol.ClientCapabilities{}, "")

	vu := h.uri("chart/values.yaml")
	if err := h.c.Open(h.ctx, vu, "yaml", 1, values); err != nil {
		t.Fatal(err)
	}
	ds := h.diags(vu, 1)
	byLine := map[string][]uint32{}
	for _, d := range ds {
		c := codes([]protocol.Diagnostic{d})[0]
		byLine[c] = append(byLine[c], d.Range.Start.Line)
	}
	if !slices.Contains(byLine["NR404"], 5) || !slices.Contains(byLine["NR401"], 2) || !slices.Contains(byLine["NR401"], 5) {
		t.Fatalf("values.yaml diagnostics by rule and line: %v", byLine)
	}

	// The NR404 fix on the securityContext key, applied as the client applies a workspace edit.
	var target protocol.Diagnostic
	for _, d := range ds {
		if codes([]protocol.Diagnostic{d})[0] == "NR404" && d.Range.Start.Line == 5 {
			target = d
			break
		}
	}
	as := codeActions(h, vu, target.Range)
	if len(as) == 0 || as[0].Edit == nil || len(as[0].Edit.Changes[vu]) == 0 {
		t.Fatalf("no fix for %s: %v", target.Message, titles(as))
	}
	version := int32(1)
	for _, e := range as[0].Edit.Changes[vu] {
		version++
		if err := h.c.Change(h.ctx, vu, version, e.Range, e.NewText); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range h.diags(vu, version) {
		if codes([]protocol.Diagnostic{d})[0] == "NR404" && d.Range.Start.Line == 5 && d.Message == target.Message {
			t.Errorf("NR404 still reported after its fix %q: %s", as[0].Title, d.Message)
		}
	}

	// Edit the template (open in the editor, unsaved): the container no longer takes its
	// securityContext from values, so values.yaml's securityContext is reported unused (NR403).
	tu := h.uri("chart/templates/deployment.yaml")
	if err := h.c.Open(h.ctx, tu, "helm", 1, tmpl); err != nil {
		t.Fatal(err)
	}
	h.diags(tu, 1)
	_, before := h.c.Latest(vu)
	cut := strings.Index(tmpl, "          securityContext:\n            {{- toYaml .Values.securityContext")
	if cut < 0 {
		t.Fatal("template shape changed")
	}
	start := protocol.Position{Line: 16}
	end := protocol.Position{Line: 18}
	if err := h.c.Change(h.ctx, tu, 2, protocol.Range{Start: start, End: end}, ""); err != nil {
		t.Fatal(err)
	}
	h.diags(tu, 2)
	h.waitFor("values.yaml re-published with NR403 after the template edit", func() bool {
		p, n := h.c.Latest(vu)
		return n > before && slices.Contains(codes(p.Diagnostics), "NR403")
	})
}
