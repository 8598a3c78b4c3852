package kbuild_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kbuild"
)

// TestPluginsNeverRun: an exec KRM function and a plugin transformer make the build fail;
// nothing runs (the function would have created a file).
func TestPluginsNeverRun(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	for name, config := range map[string]string{
		"exec function": "apiVersion: example.com/v1\nkind: Touch\nmetadata:\n  name: t\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /usr/bin/touch\n        args: [\"" + marker + "\"]\n",
		"plugin":        "apiVersion: someteam.example.com/v1\nkind: ChartInflator\nmetadata:\n  name: x\n",
	} {
		req := &kustomize.BuildRequest{Dir: "app", Files: map[string]string{
			"app/kustomization.yaml": "resources:\n  - pod.yaml\ntransformers:\n  - t.yaml\n",
			"app/pod.yaml":           "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n",
			"app/t.yaml":             config,
		}}
		if out, err := kbuild.Build(context.Background(), req); err == nil {
			t.Errorf("%s: built\n%s", name, out)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the exec function ran")
	}
}

// TestBuild: a base and an overlay in memory, with origin annotations; paths outside the
// workspace are refused.
func TestBuild(t *testing.T) {
	req := &kustomize.BuildRequest{Dir: "dev", Files: map[string]string{
		"base/kustomization.yaml": "resources:\n  - pod.yaml\n",
		"base/pod.yaml":           "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n",
		"dev/kustomization.yaml":  "namePrefix: dev-\nresources:\n  - ../base\nbuildMetadata: [originAnnotations]\n",
	}}
	out, err := kbuild.Build(context.Background(), req)
	if err != nil || !strings.Contains(out, "name: dev-web") || !strings.Contains(out, "path: ../base/pod.yaml") {
		t.Errorf("build: %v\n%s", err, out)
	}
	req.Files["../escape.yaml"] = "x: 1\n"
	if _, err := kbuild.Build(context.Background(), req); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("a file outside the workspace: %v", err)
	}
}
