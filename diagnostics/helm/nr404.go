package helm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"go.yaml.in/yaml/v3"
)

// NR404 carries the workload findings of the rendered chart to the values key or template line.
var NR404 = &diagnostics.Rule{
	ID:       "NR404",
	Title:    "Rendered chart fails a workload rule",
	Severity: diagnostics.SeverityWarning,
	Kinds:    []diagnostics.FileKind{diagnostics.KindHelmValues, diagnostics.KindHelmTemplate},
	FixTitle: "Apply the underlying rule's fix to values.yaml",
	Fix:      planNR404,
	Doc: diagnostics.Doc{
		Why: "What runs is the chart rendered with its values, not the template text. nonroot-ls renders the chart with Helm's " +
			"engine (default values plus `helm.valuesFiles`), checks the manifests with the Kubernetes rules (NR2xx, NR3xx), and reports " +
			"each finding at the values key that controls the field, or else at the template line that writes it.",
		Runtime: "As the underlying rule says: the kubelet refuses or starts the container as root, Pod Security admission rejects the pod, " +
			"or the container cannot write its volumes. The message names the rule and the rendered object.",
		Fix: "Change the values key (the quick-fix applies the underlying rule's fix to values.yaml) or the template line named.",
		Source: "Pod Security Standards restricted (runAsNonRoot, allowPrivilegeEscalation: false, capabilities drop ALL, " +
			"seccomp RuntimeDefault); kubelet: `container has runAsNonRoot and image will run as root`.",
		Bad: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"

podSecurityContext:
  runAsNonRoot: true
  runAsUser: 10001
  seccompProfile:
    type: RuntimeDefault

securityContext: {}
` + exampleTemplate,
		Good: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"

podSecurityContext:
  runAsNonRoot: true
  runAsUser: 10001
  seccompProfile:
    type: RuntimeDefault

securityContext:
  allowPrivilegeEscalation: false
  capabilities:
    drop:
      - ALL
` + exampleTemplate,
	},
	Run: runNR404,
}

// nr404Data is the payload of an NR404 finding for its quick-fix.
type nr404Data struct {
	Rule  string   // the underlying rule (NR201…)
	Field string   // the securityContext field it is about
	Path  []string // the values key reported at (nil when traced to a template line)
	// SCPath is the security-context mapping's key path when Path is a field inside it.
	SCPath []string
	Pod    bool // the key is a pod-level security context
	// UID is the uid the underlying finding's fix writes (the image's, for NR3xx), 0 for the
	// configured default.
	UID int
}

func runNR404(pass *diagnostics.Pass) {
	a := Analyze(pass.Context(), pass.Snapshot, pass.File.Path)
	if a == nil {
		return
	}
	type group struct {
		rng   text.Range
		first ChartFinding
		where []string
	}
	groups := map[string]*group{}
	var order []string
	for _, cf := range a.Findings {
		if cf.Origin.File(a.Chart) != pass.File.Path {
			continue
		}
		rng := cf.Origin.Range(a.Chart, pass.Snapshot)
		key := cf.Underlying.RuleID + "@" + rng.String()
		g := groups[key]
		if g == nil {
			g = &group{rng: rng, first: cf}
			groups[key] = g
			order = append(order, key)
		}
		w := cf.Where
		if w == "" {
			w = cf.Template
		}
		if !contains(g.where, w) {
			g.where = append(g.where, w)
		}
	}
	sort.Strings(order)
	for _, key := range order {
		g := groups[key]
		cf := g.first
		where := strings.Join(g.where, ", ")
		msg := fmt.Sprintf("%s in the rendered chart (%s, %s): %s", cf.Underlying.RuleID, where, cf.Template, cf.Underlying.Message)
		if cf.Origin.Key == nil {
			msg = fmt.Sprintf("%s in the rendered chart (%s): %s — written by this template line, not taken from values", cf.Underlying.RuleID, where, cf.Underlying.Message)
		}
		data := &nr404Data{Rule: cf.Underlying.RuleID, Field: ruleField(pass.Snapshot, cf.Underlying.RuleID)}
		if u, ok := cf.Underlying.Data.(interface{ FixUID() int }); ok {
			data.UID = u.FixUID()
		}
		if k := cf.Origin.Key; k != nil {
			data.Path = k.Path
			sc := k.Path
			for len(sc) > 0 && !IsSecurityContextKey(sc[len(sc)-1]) {
				sc = sc[:len(sc)-1]
			}
			if len(sc) > 0 {
				data.SCPath = sc
				data.Pod = isPodContext(sc[len(sc)-1])
			}
		}
		var related []diagnostics.Related
		if tr := a.templateRange(cf); a.Chart.Abs(cf.Template) != pass.File.Path || tr != g.rng {
			related = []diagnostics.Related{{File: a.Chart.Abs(cf.Template), Range: tr, Message: "rendered by this template"}}
		}
		pass.Report(diagnostics.Finding{Range: g.rng, Severity: cf.Underlying.Severity, Message: msg, Data: data, Related: related})
	}
}

// templateRange is the template line that rendered a finding, for related information.
func (a *Analysis) templateRange(cf ChartFinding) text.Range {
	f := a.Chart.Files[cf.Template]
	if f == nil {
		return text.Range{}
	}
	loc := locate(a.docs[cf.Template], cf.Underlying.Range.Start)
	field := loc.Field
	if field == "" {
		field = ruleField(a.Derived, cf.Underlying.RuleID)
	}
	return trimmedLine(f.Lines(), a.templateLine(cf.Template, loc, field))
}

func planNR404(ctx context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr404Data)
	if !ok || d.SCPath == nil {
		return nil
	}
	if d.Rule == "NR503" {
		return planNR404RemoveField(s, f, d)
	}
	c := For(s, f.File)
	if c == nil {
		return nil
	}
	v := c.ValuesFor(f.File)
	k := v.Lookup(strings.Join(d.SCPath, "."))
	if k == nil {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	uid, gid := cfg.User()
	if d.UID > 0 {
		uid = d.UID
	}
	r := s.Engine().RuleByID(d.Rule)
	if r == nil || r.Settings == nil {
		return nil
	}
	entries := r.Settings(uid, gid)
	if len(entries) == 0 {
		return nil
	}
	if d.Pod {
		for _, e := range entries {
			if !kube.IsPodField(e.Key) {
				return nil // a container-only field cannot go into the pod's context
			}
		}
	}
	var edits []text.Edit
	if codeactions.IsEmptyMapping(k.Value) {
		block := restrictedBlock(d.Pod, hasPodSibling(v, k), uid)
		for _, e := range entries {
			if !hasEntry(block, e.Key) {
				block = append(block, e)
			}
		}
		edits = codeactions.EnsureSettings(v.File.Lines(), k.entry(), block)
	} else {
		edits = codeactions.EnsureSettings(v.File.Lines(), k.entry(), entries)
	}
	if len(edits) == 0 {
		return nil
	}
	title := fmt.Sprintf("Set %s in %s (the fix of %s)", entries[0].Key, k.Dotted(), d.Rule)
	return []diagnostics.Action{{Title: title, Preferred: true, Edits: []diagnostics.FileEdit{{Path: f.File, Edits: edits}}}}
}

func hasEntry(es []diagnostics.Setting, key string) bool {
	for _, e := range es {
		if e.Key == key {
			return true
		}
	}
	return false
}

// planNR404RemoveField is NR503's fix through a chart: remove the hard-coded id from the
// values security context (OpenShift assigns it from the namespace's range), keeping the
// rest of the context.
func planNR404RemoveField(s *diagnostics.Snapshot, f diagnostics.Finding, d *nr404Data) []diagnostics.Action {
	if len(d.Path) != len(d.SCPath)+1 {
		return nil
	}
	c := For(s, f.File)
	if c == nil {
		return nil
	}
	v := c.ValuesFor(f.File)
	if v == nil {
		return nil
	}
	sc := v.Lookup(strings.Join(d.SCPath, "."))
	if sc == nil || sc.Value == nil || sc.Value.Kind != yaml.MappingNode {
		return nil
	}
	field := d.Path[len(d.Path)-1]
	e := &codeactions.YAMLEditor{Lines: v.File.Lines(), Style: codeactions.DetectYAMLStyle(v.File.Text, nil)}
	ed, err := e.Remove(sc.Value, field)
	if err != nil {
		return nil
	}
	title := fmt.Sprintf("Remove %s from %s (OpenShift assigns it from the namespace's range)", field, sc.Dotted())
	return []diagnostics.Action{{Title: title, Preferred: true, Edits: []diagnostics.FileEdit{{Path: f.File, Edits: []text.Edit{ed}}}}}
}

// Underlying returns the workload rule an NR404 finding carries ("" for any other finding).
func Underlying(f diagnostics.Finding) string {
	if d, ok := f.Data.(*nr404Data); ok && f.RuleID == NR404.ID {
		return d.Rule
	}
	return ""
}
