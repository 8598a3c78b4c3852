package workspace

import (
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kbuild"
)

// testRules are the rules of testEngine: the Dockerfile, Kubernetes and workspace rules.
var testRules = append(append(append([]*diagnostics.Rule(nil), dockerfile.Rules...), kube.Rules...), Rules...)

// testEngine is an engine with the Dockerfile, Kubernetes, kustomize and workspace groups.
func testEngine(t testing.TB) *diagnostics.Engine {
	t.Helper()
	e, err := diagnostics.New(testRules, diagnostics.Options{Groups: []*diagnostics.Group{dockerfile.Group, kube.Group, kustomize.NewGroup(kbuild.Build), Group}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
