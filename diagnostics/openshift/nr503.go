package openshift

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	yaml "go.yaml.in/yaml/v3"
)

// NR503 — hard-coded runAsUser/runAsGroup/fsGroup/supplementalGroups.
var NR503 = &diagnostics.Rule{
	ID:       "NR503",
	Title:    "Hard-coded runAsUser, runAsGroup, fsGroup or supplementalGroups",
	Severity: diagnostics.SeverityWarning,
	Profiles: openshiftOnly,
	Kinds:    manifestKinds(),
	FixTitle: "Remove the field (keep runAsNonRoot: true)",
	Fix:      fixManifest(planNR503),
	Doc: diagnostics.Doc{
		Why:     "restricted-v2 assigns the uid and fsGroup from the namespace's range (`openshift.io/sa.scc.uid-range`, `openshift.io/sa.scc.supplemental-groups`), and every project has its own range. A fixed `runAsUser`/`fsGroup` is only admitted in the one namespace whose range happens to contain it; a fixed `runAsGroup` replaces group 0, the group the image's permissions are prepared for.",
		Runtime: "Outside the range the API server rejects the pod: `unable to validate against any security context constraint: [... spec.containers[0].securityContext.runAsUser: Invalid value: 1000: must be in the ranges: [1000940000, 1000949999]]`, and the Deployment never gets a pod. With `runAsGroup: 1000` the process loses group 0 and gets `Permission denied` on the paths the image made group-0 writable.",
		Fix:     "Remove `runAsUser`, `runAsGroup`, `fsGroup` and `supplementalGroups` and keep `runAsNonRoot: true`: OpenShift fills in a uid and fsGroup from the namespace's range. Charts that need them elsewhere make them conditional (Bitnami: `global.compatibility.openshift.adaptSecurityContext`).",
		Source:  sourceFact + "; \"Openshift restricts with Security Context Constraints the range of allowed user IDs. And this range can be different for every environment. Hence, we have to assume the user ID is random.\" (Friends don't let friends run containers as root)",
		Bad:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n    fsGroup: 1000\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n",
		Good:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n",
	},
	Run: func(pass *diagnostics.Pass) {
		m := kube.ForFile(pass.File)
		if len(m.Workloads) == 0 {
			return
		}
		hint := chartHint(pass.Snapshot, pass.File.Path)
		for _, w := range m.Workloads {
			ns := NamespaceFor(pass.Snapshot, w.Object)
			check503(pass, m, w, nil, w.Pod, ns, hint)
			for _, c := range w.Containers {
				check503(pass, m, w, c, c.Own, ns, hint)
			}
		}
	},
}

// chartHint is what NR503 adds for a manifest rendered from a Helm chart: Bitnami-style
// charts drop the fixed ids themselves when told they run on OpenShift.
func chartHint(s *diagnostics.Snapshot, path string) string {
	if !strings.Contains(filepath.ToSlash(path), "/"+helm.RenderedDir+"/") {
		return ""
	}
	c := helm.Root(s, path)
	if c == nil {
		return ""
	}
	for _, v := range c.AllValues() {
		if v.File != nil && strings.Contains(v.File.Text, "adaptSecurityContext") {
			return "; this chart adapts to OpenShift: set global.compatibility.openshift.adaptSecurityContext to auto (the default, on a cluster with security.openshift.io/v1) or force and it leaves runAsUser, runAsGroup and fsGroup out"
		}
	}
	return "; make the field conditional in the chart (left out on OpenShift) rather than a fixed value"
}

func check503(pass *diagnostics.Pass, m *kube.Manifest, w *kube.Workload, c *kube.Container, sc kube.SecurityContext, ns *Namespace, hint string) {
	if sc.Node == nil {
		return
	}
	report := func(f diagnostics.Finding) {
		f.Message += hint
		pass.Report(f)
	}
	data := func(key string, f *kube.Field) *manifestData {
		return &manifestData{Manifest: m, Workload: w, Container: c, Key: key, Holder: sc.Node, KeyNode: f.Key, Value: f.Node, RunAsNonRoot: holderNonRoot(sc)}
	}
	nsDesc := func() string {
		return fmt.Sprintf("namespace %s (%s: %s)", ns.Name, AnnotationUIDRange, ns.Raw)
	}
	if f := sc.RunAsUser; f != nil {
		if v, ok := f.Int(); ok {
			switch {
			case ns == nil:
				report(diagnostics.Finding{Range: f.Range, Data: data("runAsUser", f), Message: fmt.Sprintf(
					"runAsUser: %d is hard-coded: restricted-v2 admits it only in a namespace whose %s contains it (each project has its own, e.g. %s); elsewhere the pod is rejected with \"must be in the ranges: [...]\"", v, AnnotationUIDRange, ExampleRange)})
			case !inRanges(ns.UIDs, v):
				report(diagnostics.Finding{Range: f.Range, Data: data("runAsUser", f), Message: fmt.Sprintf(
					"runAsUser: %d is outside %s: restricted-v2 rejects the pod (\"%s: Invalid value: %d: must be in the ranges: %s\")", v, nsDesc(), fieldPath(c, "runAsUser"), v, FormatRanges(ns.UIDs))})
			}
		}
	}
	if f := sc.RunAsGroup; f != nil {
		if v, ok := f.Int(); ok && v != 0 {
			report(diagnostics.Finding{Range: f.Range, Data: data("runAsGroup", f), Message: fmt.Sprintf(
				"runAsGroup: %d replaces group 0: OpenShift's arbitrary uid then lacks the group the image's writable paths are prepared for (\"Permission denied\")", v)})
		}
	}
	if f := sc.FSGroup; f != nil {
		if v, ok := f.Int(); ok {
			switch {
			case ns == nil:
				report(diagnostics.Finding{Range: f.Range, Data: data("fsGroup", f), Message: fmt.Sprintf(
					"fsGroup: %d is hard-coded: restricted-v2 (fsGroup MustRunAs) admits only a group from the namespace's %s range, different in each project; elsewhere the pod is rejected (\"%d is not an allowed group\")", v, AnnotationSupplementalGroups, v)})
			case !inRanges(ns.Groups, v):
				report(diagnostics.Finding{Range: f.Range, Data: data("fsGroup", f), Message: fmt.Sprintf(
					"fsGroup: %d is outside the groups of namespace %s %s: restricted-v2 rejects the pod (\"spec.securityContext.fsGroup: Invalid value: []int64{%d}: %d is not an allowed group\")", v, ns.Name, FormatRanges(ns.Groups), v, v)})
			}
		}
	}
	if f := sc.SupplementalGroups; f != nil && ns != nil && f.Node != nil && f.Node.Kind == yaml.SequenceNode {
		for _, it := range f.Node.Content {
			v, err := strconv.ParseInt(it.Value, 10, 64)
			if it.Kind != yaml.ScalarNode || err != nil || inRanges(ns.Groups, v) {
				continue
			}
			d := data("supplementalGroups", f)
			report(diagnostics.Finding{Range: yamlnode.Range(m.Lines, it), Data: d, Message: fmt.Sprintf(
				"supplementalGroups: %d is outside the groups of namespace %s %s: restricted-v2 passes it through (RunAsAny), but an SCC whose supplementalGroups strategy is MustRunAs rejects the pod, and the gid means nothing to the image", v, ns.Name, FormatRanges(ns.Groups))})
		}
	}
}

// NR503: remove the field; when its securityContext does not say runAsNonRoot, the field
// becomes `runAsNonRoot: true` so the workload still declares it runs as non-root.
func planNR503(e *codeactions.YAMLEditor, d *manifestData) (manifestFix, error) {
	if d.Holder == nil || d.KeyNode == nil || d.Value == nil {
		return manifestFix{}, codeactions.ErrYAMLShape
	}
	title := fmt.Sprintf("Remove %s (OpenShift assigns it from the namespace's range)", d.Key)
	if hasKey(d.Holder, "runAsNonRoot") {
		ed, err := e.Remove(d.Holder, d.Key)
		if err != nil {
			return manifestFix{}, err
		}
		return manifestFix{title: title, edits: []text.Edit{ed}}, nil
	}
	vr := yamlnode.Range(e.Lines, d.Value)
	if d.Value.Kind != yaml.ScalarNode && !(d.Value.Style&yaml.FlowStyle != 0 && vr.Start.Line == vr.End.Line && d.Value.Line == d.KeyNode.Line) {
		return manifestFix{}, codeactions.ErrYAMLShape
	}
	if d.Value.Kind != yaml.ScalarNode {
		// A flow sequence: its range is its first line; it must close on it.
		line := e.Lines.Line(vr.Start.Line)
		end := strings.LastIndexByte(line, ']')
		if end < vr.Start.Col {
			return manifestFix{}, codeactions.ErrYAMLShape
		}
		vr.End = text.Pos{Line: vr.Start.Line, Col: end + 1}
	}
	repl := "runAsNonRoot: true"
	if e.Style.JSON {
		repl = `"runAsNonRoot": true`
	}
	kr := yamlnode.Range(e.Lines, d.KeyNode)
	return manifestFix{title: title + ", keep runAsNonRoot: true", edits: []text.Edit{{Range: text.Range{Start: kr.Start, End: vr.End}, NewText: repl}}}, nil
}
