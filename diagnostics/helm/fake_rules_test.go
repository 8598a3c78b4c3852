package helm

import (
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Two stand-in workload rules, so the tracing of NR404 is tested without the Kubernetes
// rules' own logic: NR298 wants runAsNonRoot: true (pod or container), NR299 wants
// allowPrivilegeEscalation: false on every container. They report where the real rules do:
// at the container's name (or the securityContext key when there is one).
var fakeRules = []*diagnostics.Rule{fake("NR298", "runAsNonRoot", true), fake("NR299", "allowPrivilegeEscalation", false)}

// testRender renders charts in this package's tests: Helm's engine, which TestMain (in
// helm_test) installs because this package cannot import helmrender.
var testRender RenderFunc

// SetTestRender installs the renderer of this package's internal tests.
func SetTestRender(r RenderFunc) { testRender = r }

// testEngine has the Helm and Kubernetes rules and the stand-in rules.
func testEngine(t testing.TB) *diagnostics.Engine {
	t.Helper()
	rules := append(append(append([]*diagnostics.Rule(nil), Rules...), kube.Rules...), fakeRules...)
	e, err := diagnostics.New(rules, diagnostics.Options{Groups: []*diagnostics.Group{NewGroup(testRender), kube.Group}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func fake(id, field string, pod bool) *diagnostics.Rule {
	return &diagnostics.Rule{ID: id, Title: "test " + field, Severity: diagnostics.SeverityError,
		Kinds: []diagnostics.FileKind{diagnostics.KindManifest}, Field: field,
		Run: func(pass *diagnostics.Pass) {
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
