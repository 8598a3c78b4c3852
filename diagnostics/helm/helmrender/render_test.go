package helmrender_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
)

// TestServe sends requests the way nonroot-ls does and reads the answers: a marked render,
// a chart whose Chart.yaml is invalid, and a template that fails (Helm's error).
func TestServe(t *testing.T) {
	chart := map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
		"values.yaml":         "podSecurityContext:\n  runAsUser: 1000\n",
		"templates/pod.yaml":  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  securityContext: {{- toYaml .Values.podSecurityContext | nindent 4 }}\n",
		"templates/fail.yaml": "{{ if .Values.boom }}{{ fail \"boom\" }}{{ end }}\n",
	}
	bad := map[string]string{"Chart.yaml": "apiVersion: v2\nname: demo\nversion: not-a-version\n", "templates/x.yaml": "a: b\n"}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	enc.Encode(&helm.RenderRequest{Files: chart, Marks: map[string]int{"": 0}})
	enc.Encode(&helm.RenderRequest{Files: bad})
	enc.Encode(&helm.RenderRequest{Files: chart, Values: []helm.ValuesFile{{Name: "boom.yaml", Text: "boom: true\n", Source: 1}}})
	var out bytes.Buffer
	if err := helmrender.Serve(&in, &out); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&out)
	var got []helm.RenderResponse
	for dec.More() {
		var r helm.RenderResponse
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 3 {
		t.Fatalf("%d answers, want 3", len(got))
	}
	pod := got[0].Manifests["demo/templates/pod.yaml"]
	if got[0].Err != nil || !strings.Contains(pod, "name: release-name") || !strings.Contains(pod, helm.MarkerKey+": 0#podSecurityContext") {
		t.Errorf("marked render: %+v", got[0])
	}
	if got[1].Err == nil || !strings.Contains(got[1].Err.Message, "not-a-version") {
		t.Errorf("invalid Chart.yaml: %+v", got[1])
	}
	if got[2].Err == nil || got[2].Err.File != "" || !strings.Contains(got[2].Err.Message, "boom") {
		t.Errorf("fail in a template: %+v", got[2])
	}
}

func TestServeBadRequest(t *testing.T) {
	if err := helmrender.Serve(strings.NewReader(`{"files": `), &bytes.Buffer{}); err == nil {
		t.Fatal("a truncated request was accepted")
	}
}
