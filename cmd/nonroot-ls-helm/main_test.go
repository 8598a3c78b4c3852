package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize"
)

// TestServe sends render requests the way nonroot-ls does and reads the answers: a marked
// render, a chart whose Chart.yaml is invalid, and a template that fails (Helm's error).
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
	if err := serve(&in, &out); err != nil {
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
	if err := serve(strings.NewReader(`{"files": `), &bytes.Buffer{}); err == nil {
		t.Fatal("a truncated request was accepted")
	}
}

// TestServeKustomize sends a build between two renders: each is answered in its kind, the
// build with kustomize's origin annotations and its errors without the in-memory root.
func TestServeKustomize(t *testing.T) {
	files := map[string]string{
		"base/kustomization.yaml": "resources:\n- pod.yaml\n",
		"base/pod.yaml":           "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n",
		"dev/kustomization.yaml":  "namePrefix: dev-\nresources:\n- ../base\nbuildMetadata: [originAnnotations]\n",
		"bad/kustomization.yaml":  "resources:\n- missing.yaml\n",
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	enc.Encode(map[string]any{"kustomize": &kustomize.BuildRequest{Files: files, Dir: "dev"}})
	enc.Encode(&helm.RenderRequest{Files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n"}})
	enc.Encode(map[string]any{"kustomize": &kustomize.BuildRequest{Files: files, Dir: "bad"}})
	var out bytes.Buffer
	if err := serve(&in, &out); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&out)
	var built, failed kustomize.BuildResponse
	var rendered helm.RenderResponse
	if dec.Decode(&built) != nil || dec.Decode(&rendered) != nil || dec.Decode(&failed) != nil {
		t.Fatalf("answers: %s", out.String())
	}
	if built.Err != "" || !strings.Contains(built.YAML, "name: dev-web") || !strings.Contains(built.YAML, "path: ../base/pod.yaml") {
		t.Errorf("build of dev: %+v", built)
	}
	if rendered.Err != nil {
		t.Errorf("render between builds: %+v", rendered)
	}
	if failed.Err == "" || !strings.Contains(failed.Err, "missing.yaml") || strings.Contains(failed.Err, "/workspace") {
		t.Errorf("build of bad: %+v", failed)
	}
}
