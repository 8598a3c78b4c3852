package kustomize

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
)

func testEngine(t *testing.T, build BuildFunc) *diagnostics.Engine {
	t.Helper()
	e, err := diagnostics.New(kube.Rules, diagnostics.Options{Groups: []*diagnostics.Group{kube.Group, NewGroup(build)}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx\n"

// TestIndex: which kustomizations are build roots, what each reads, and which roots read a file.
func TestIndex(t *testing.T) {
	dir := tree(t, map[string]string{
		"base/kustomization.yaml":       "resources:\n  - pod.yaml\n",
		"base/pod.yaml":                 pod,
		"comp/kustomization.yaml":       "kind: Component\npatches:\n  - path: p.yaml\n",
		"comp/p.yaml":                   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n",
		"overlays/a/kustomization.yaml": "resources:\n  - ../../base\ncomponents:\n  - ../../comp\n",
		"overlays/b/kustomization.yaml": "resources:\n  - ../../base\n",
		"alone/kustomization.yaml":      "resources:\n  - pod.yaml\n",
		"alone/pod.yaml":                pod,
	})
	s := testEngine(t, nil).NewSnapshot([]string{dir}, diagnostics.Config{})
	x := For(s)
	rel := func(ps []string) string {
		var out []string
		for _, p := range ps {
			out = append(out, relPath(s, p))
		}
		return strings.Join(out, " ")
	}
	if got := rel(x.Roots); got != "alone/kustomization.yaml overlays/a/kustomization.yaml overlays/b/kustomization.yaml" {
		t.Errorf("roots: %s", got)
	}
	if got := rel(x.BuiltBy(filepath.Join(dir, "base/pod.yaml"))); got != "overlays/a/kustomization.yaml overlays/b/kustomization.yaml" {
		t.Errorf("BuiltBy(base/pod.yaml): %s", got)
	}
	if got := rel(x.Reads[filepath.Join(dir, "overlays/a/kustomization.yaml")]); got != "base/kustomization.yaml base/pod.yaml comp/kustomization.yaml comp/p.yaml overlays/a/kustomization.yaml" {
		t.Errorf("Reads(overlays/a): %s", got)
	}
	if got := rel(Dependents(s, filepath.Join(dir, "comp/p.yaml"))); got != "base/kustomization.yaml base/pod.yaml comp/kustomization.yaml comp/p.yaml overlays/a/kustomization.yaml" {
		t.Errorf("Dependents(comp/p.yaml): %s", got)
	}
	// An edit to a resource keeps the index; a new kustomization makes a new one.
	s2 := s.WithFile(filepath.Join(dir, "base/pod.yaml"), 1, "yaml", pod+"# edited\n")
	if For(s2) != x {
		t.Error("editing a resource rebuilt the index")
	}
	s3 := s2.WithFile(filepath.Join(dir, "top/kustomization.yaml"), 1, "yaml", "resources:\n  - ../overlays/b\n")
	if got := rel(For(s3).Roots); !strings.Contains(got, "top/kustomization.yaml") || strings.Contains(got, "overlays/b/") {
		t.Errorf("roots after adding top: %s", got)
	}
}

// TestRequestLeavesOutWhatIsNotLocal: remote bases, remote patches and Helm charts never
// reach kustomize (which would run git or helm, or fetch over HTTP), and the root asks for
// origin annotations.
func TestRequestLeavesOutWhatIsNotLocal(t *testing.T) {
	dir := tree(t, map[string]string{
		"kustomization.yaml": "resources:\n  - github.com/org/repo//base?ref=v1\n  - https://example.com/x.yaml\n  - gitlab.example.com/group/repo/base\n  - pod.yaml\n" +
			"patches:\n  - path: https://example.com/p.yaml\nhelmCharts:\n  - name: redis\n    repo: https://charts.example.com\n",
		"pod.yaml": pod,
	})
	var got *BuildRequest
	build := func(_ context.Context, req *BuildRequest) (string, error) { got = req; return pod, nil }
	s := testEngine(t, build).NewSnapshot([]string{dir}, diagnostics.Config{})
	root := filepath.Join(dir, "kustomization.yaml")
	if b := Analyze(context.Background(), s, root); b == nil || b.Result.Err != "" {
		t.Fatalf("build: %+v", b)
	}
	k := got.Files["kustomization.yaml"]
	for _, bad := range []string{"github.com", "https://", "gitlab", "helmCharts"} {
		if strings.Contains(k, bad) {
			t.Errorf("the request's kustomization holds %s:\n%s", bad, k)
		}
	}
	if !strings.Contains(k, "pod.yaml") || !strings.Contains(k, "originAnnotations") || got.Files["pod.yaml"] != pod {
		t.Errorf("request: %+v", got)
	}
	var left []string
	for _, p := range For(s).problems(root) {
		if p.Severity == diagnostics.SeverityInfo {
			left = append(left, p.Message)
		}
	}
	if len(left) != 5 {
		t.Errorf("left out: %q", left)
	}
}

// TestBuildIsBounded: a builder that does not return is stopped after BuildTimeout and the
// build root reports it; a cancelled diagnosis keeps nothing.
func TestBuildIsBounded(t *testing.T) {
	defer func(d time.Duration) { BuildTimeout = d }(BuildTimeout)
	BuildTimeout = 1
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func(context.Context, *BuildRequest) (string, error) { <-release; return "", nil }
	dir := tree(t, map[string]string{"kustomization.yaml": "resources:\n  - pod.yaml\n", "pod.yaml": pod})
	s := testEngine(t, hang).NewSnapshot([]string{dir}, diagnostics.Config{})
	root := filepath.Join(dir, "kustomization.yaml")
	fs := s.Diagnose(context.Background(), root)
	if len(fs) != 1 || fs[0].RuleID != "NR001" || !strings.Contains(fs[0].Message, "took longer than") {
		t.Errorf("a build that does not stop: %v", fs)
	}
	// The pod is read by the build: not judged alone.
	if fs := s.Diagnose(context.Background(), filepath.Join(dir, "pod.yaml")); len(fs) != 0 {
		t.Errorf("pod.yaml judged alone: %v", fs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2 := s.WithFile(filepath.Join(dir, "pod.yaml"), 1, "yaml", pod+"# x\n")
	if b := Analyze(ctx, s2, root); b != nil {
		t.Errorf("a cancelled build: %+v", b)
	}
}

// TestNoBuilder: without a builder the build roots say so, and their files are not judged alone.
func TestNoBuilder(t *testing.T) {
	dir := tree(t, map[string]string{"kustomization.yaml": "resources:\n  - pod.yaml\n", "pod.yaml": pod})
	s := testEngine(t, nil).NewSnapshot([]string{dir}, diagnostics.Config{})
	fs := s.Diagnose(context.Background(), filepath.Join(dir, "kustomization.yaml"))
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "no kustomize builder") {
		t.Errorf("%v", fs)
	}
	if !slices.Equal(s.BuiltBy(filepath.Join(dir, "pod.yaml")), []string{filepath.Join(dir, "kustomization.yaml")}) {
		t.Errorf("BuiltBy: %v", s.BuiltBy(filepath.Join(dir, "pod.yaml")))
	}
}
