package openshift

import "github.com/nonroot-ls/nonroot-ls/diagnostics"

// Rules are the OpenShift rules, NR501–NR504 (profile openshift).
var Rules = []*diagnostics.Rule{
	NR501,
	NR502,
	NR503,
	NR504,
}

// Group adds the OpenShift view: hovers on USER and on manifests that say what OpenShift's
// restricted-v2 SCC does with them, and why the profile is on in `inspect`.
var Group = &diagnostics.Group{
	Name: "openshift",
	Hover: map[diagnostics.FileKind]diagnostics.HoverFunc{
		diagnostics.KindDockerfile: hoverDockerfile,
		diagnostics.KindManifest:   hoverManifest,
	},
	Annotate: annotate,
}
