// Package all wires the nonroot-ls engine: the product's rule list, written out one rule a
// line, and the groups that read files for them. The language server, the CLI and the tests
// build their engine here.
package all

import (
	"slices"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/openshift"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/workspace"
)

// Rules is every rule of nonroot-ls: the engine's own NR001, then each group's written-out
// list (dockerfile.Rules, kube.Rules, …, one rule a line). Adding a rule is one line there.
var Rules = slices.Concat(
	[]*diagnostics.Rule{diagnostics.NR001},
	dockerfile.Rules,
	kube.Rules,
	workspace.Rules,
	helm.Rules,
	openshift.Rules,
)

// Options configure the engine New builds.
type Options struct {
	// HelmRender renders charts (the nonroot-ls-helm helper for the server and the CLI,
	// helmrender.Render in tests); nil leaves charts unrendered, reported on Chart.yaml.
	HelmRender helm.RenderFunc
	// KustomizeBuild builds kustomizations (the same helper, kbuild.Build in tests); nil
	// leaves them unbuilt, reported on each build root.
	KustomizeBuild kustomize.BuildFunc
	// ModelCacheBudget and Log are diagnostics.Options'.
	ModelCacheBudget int
	Log              func(string)
}

// Groups returns the groups of the product's engine, in the order their hovers are shown.
func Groups(opts Options) []*diagnostics.Group {
	return []*diagnostics.Group{
		dockerfile.Group,
		helm.NewGroup(opts.HelmRender),
		kube.Group,
		kustomize.NewGroup(opts.KustomizeBuild),
		openshift.Group,
		workspace.Group,
	}
}

// New builds the product's engine.
func New(opts Options) *diagnostics.Engine {
	e, err := diagnostics.New(Rules, diagnostics.Options{Groups: Groups(opts), ModelCacheBudget: opts.ModelCacheBudget, Log: opts.Log})
	if err != nil {
		panic(err) // the rule list is part of the program; TestRules covers it
	}
	return e
}
