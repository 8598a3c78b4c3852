package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
)

// fakeHelperEnv makes the test binary act as nonroot-ls-helm: "echo" answers every request
// with its file names as manifests, "hang" never answers, "crash" exits with status 3.
const fakeHelperEnv = "NONROOT_LS_FAKE_HELPER"

func fakeHelper(mode string) {
	switch mode {
	case "hang":
		time.Sleep(time.Hour)
	case "crash":
		os.Exit(3)
	}
	dec, enc := json.NewDecoder(os.Stdin), json.NewEncoder(os.Stdout)
	for {
		var req helm.RenderRequest
		if dec.Decode(&req) != nil {
			os.Exit(0)
		}
		m := map[string]string{}
		for name := range req.Files {
			m[name] = "kind: Pod\n"
		}
		enc.Encode(helm.NewRenderResponse(m, nil))
	}
}

// fakeHelperAt returns a helper that runs this test binary in mode.
func fakeHelperAt(t *testing.T, mode string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeHelperEnv, mode)
	h := &helper{path: exe}
	t.Cleanup(func() {
		h.mu.Lock()
		h.stop()
		h.mu.Unlock()
	})
	return h
}

func TestHelperRoundTrip(t *testing.T) {
	h := fakeHelperAt(t, "echo")
	req := &helm.RenderRequest{Files: map[string]string{"Chart.yaml": "name: x\n", "templates/a.yaml": "kind: Pod\n"}}
	for range 3 {
		m, err := h.Render(context.Background(), req)
		if err != nil || len(m) != 2 {
			t.Fatalf("render: %v %v", m, err)
		}
	}
	if h.cmd == nil {
		t.Fatal("the helper was not kept for the next render")
	}
}

func TestHelperHangIsKilled(t *testing.T) {
	h := fakeHelperAt(t, "hang")
	start := time.Now()
	_, err := h.Render(context.Background(), &helm.RenderRequest{Timeout: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "took longer than") {
		t.Fatalf("hanging helper: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second { // the fake hangs for an hour: a guard, not a budget
		t.Fatalf("hanging helper stopped after %s", d)
	}
	if h.cmd != nil {
		t.Fatal("the hanging helper was not killed")
	}
	// The next render starts a new helper.
	t.Setenv(fakeHelperEnv, "echo")
	if m, err := h.Render(context.Background(), &helm.RenderRequest{Files: map[string]string{"Chart.yaml": ""}}); err != nil || len(m) != 1 {
		t.Fatalf("render after a kill: %v %v", m, err)
	}
}

func TestHelperCrash(t *testing.T) {
	h := fakeHelperAt(t, "crash")
	_, err := h.Render(context.Background(), &helm.RenderRequest{})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("crashing helper: %v", err)
	}
}

func TestHelperCancel(t *testing.T) {
	h := fakeHelperAt(t, "hang")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := h.Render(ctx, &helm.RenderRequest{}); err == nil {
		t.Fatal("cancelled render returned no error")
	}
}

// TestChartThroughHelperBinary runs the real binaries: nonroot-ls renders a chart through
// nonroot-ls-helm, and a nonroot-ls installed without its helper says how to install it.
func TestChartThroughHelperBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	chart := filepath.Join("..", "..", "testdata", "rules", "NR401", "helm-create")
	out, err := exec.Command(bin, "check", "--format", "json", chart).Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("check: %v\n%s", err, out)
	}
	for _, id := range []string{`"NR401"`, `"NR404"`} {
		if !strings.Contains(string(out), id) {
			t.Errorf("check of %s through the helper: no %s in\n%s", chart, id, out)
		}
	}

	alone := filepath.Join(t.TempDir(), "nonroot-ls")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ = exec.Command(alone, "check", chart).Output()
	if !strings.Contains(string(out), "NR001") || !strings.Contains(string(out), "go install github.com/nonroot-ls/nonroot-ls/cmd/...@latest") {
		t.Errorf("without the helper: want NR001 saying how to install it, got\n%s", out)
	}
}

// TestKustomizeThroughHelperBinary runs the real binaries: nonroot-ls builds the overlays
// through nonroot-ls-helm, reports the dev patch's runAsUser: 0 on its line, and inspect of
// the dev kustomization says which file and line set each field.
func TestKustomizeThroughHelperBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "rules", "NR202", "kustomize-overlays"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "check", ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "overlays/dev/security.yaml:11:9: error NR202: in overlays/dev: runAsUser: 0") || strings.Count(string(out), " NR") != 1 {
		t.Errorf("check of the overlays through the helper:\n%s", out)
	}
	cmd = exec.Command(bin, "inspect", "--format", "json", "overlays/dev/kustomization.yaml")
	cmd.Dir = dir
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	for _, want := range []string{`"object": "Deployment \"dev-api\""`, `"from": "base/deployment.yaml"`, `"field": "runAsUser",`, `"from": "overlays/dev/security.yaml:11"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("inspect: no %s in\n%s", want, out)
		}
	}
}
