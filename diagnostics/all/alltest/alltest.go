// Package alltest builds the product's engine for tests: every rule and group, with charts
// rendered by Helm's engine and kustomizations built by kustomize's in-process (the server and
// the CLI do both in the helper process).
package alltest

import (
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kbuild"
)

// Engine returns a new engine with every rule, rendering charts and building kustomizations in-process.
func Engine() *diagnostics.Engine {
	return all.New(all.Options{HelmRender: helmrender.Render, KustomizeBuild: kbuild.Build})
}

// Snapshot returns a snapshot of the roots by a new engine, with default settings.
func Snapshot(roots ...string) *diagnostics.Snapshot {
	return Engine().NewSnapshot(roots, diagnostics.Config{})
}
