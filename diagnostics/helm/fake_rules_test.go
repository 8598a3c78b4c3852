package helm

import (
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Two stand-in workload rules, so the tracing of NR404 is tested without the Kubernetes
// rule group: NR298 wants runAsNonRoot: true (pod or container), NR299 wants
// allowPrivilegeEscalation: false on every container. They report where the real rules do:
// at the container's name (or the securityContext key when there is one).
// fakeRulesOn switches them on (only the tracing tests do, so the fixtures see the real catalog).
var fakeRulesOn bool

func init() {
	ruleFields["NR298"] = "runAsNonRoot"
	ruleFields["NR299"] = "allowPrivilegeEscalation"
	fake := func(id, field string, pod bool) *diagnostics.Rule {
		return &diagnostics.Rule{ID: id, Title: "test " + field, Severity: diagnostics.SeverityError,
			Kinds: []diagnostics.FileKind{diagnostics.KindManifest},
			Run: func(pass *diagnostics.Pass) {
				if !fakeRulesOn {
					return
				}
				for _, d := range parseDocs("", pass.File.Text) {
					for _, p := range d.PodSpecs() {
						for _, c := range p.Containers() {
							v := mapGet(c.SecurityContext(), field)
							if pod && v == nil {
								v = mapGet(p.SecurityContext(), field)
							}
							want := "false"
							if pod {
								want = "true"
							}
							if v != nil && v.Value == want {
								continue
							}
							n := mapGet(c.Node, "name")
							for i := 0; i+1 < len(c.Node.Content); i += 2 {
								if c.Node.Content[i].Value == "securityContext" {
									n = c.Node.Content[i]
								}
							}
							if v != nil {
								n = v
							}
							pos := pass.File.Lines().FromRunes(n.Line-1, n.Column-1)
							pass.Reportf(text.Range{Start: pos, End: text.Pos{Line: pos.Line, Col: pos.Col + len(n.Value)}}, "container %s: %s is not %s", c.Name, field, strings.ToLower(want))
						}
					}
				}
			}}
	}
	diagnostics.Register(fake("NR298", "runAsNonRoot", true), fake("NR299", "allowPrivilegeEscalation", false))
}
