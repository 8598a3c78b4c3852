package kube

import (
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// testEngine is an engine with the Kubernetes rules and group only.
func testEngine(t testing.TB) *diagnostics.Engine {
	t.Helper()
	e, err := diagnostics.New(Rules, diagnostics.Options{Groups: []*diagnostics.Group{Group}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
