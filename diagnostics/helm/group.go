package helm

import (
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// Rules are the Helm chart rules, NR401–NR404.
var Rules = []*diagnostics.Rule{
	NR401,
	NR402,
	NR403,
	NR404,
}

const groupName = "helm"

// state is the helm group's state in one engine: the renderer it was built with and the
// renders it keeps.
type state struct {
	eng     *diagnostics.Engine // for logging
	render  RenderFunc
	renders *diagnostics.Cache
}

// NewGroup returns the Helm chart model: charts rendered with render (Helm's engine: in the
// nonroot-ls-helm helper process for the language server, in-process for tests; nil leaves
// charts unrendered, reported on Chart.yaml), their parse problems, hovers on values keys,
// `inspect` of Chart.yaml and the links the rendered charts use.
func NewGroup(render RenderFunc) *diagnostics.Group {
	return &diagnostics.Group{
		Name: groupName,
		Parse: map[diagnostics.FileKind]diagnostics.ParseFunc{
			diagnostics.KindHelmChart:    parseCheck,
			diagnostics.KindHelmValues:   parseCheck,
			diagnostics.KindHelmTemplate: parseCheck,
		},
		Hover:            map[diagnostics.FileKind]diagnostics.HoverFunc{diagnostics.KindHelmValues: hoverValues},
		Inspect:          map[diagnostics.FileKind]diagnostics.InspectFunc{diagnostics.KindHelmChart: inspectChart},
		InspectWorkspace: inspectLinks,
		NewState: func(e *diagnostics.Engine) any {
			return &state{eng: e, render: render, renders: diagnostics.NewCache(renderCacheSize)}
		},
	}
}
