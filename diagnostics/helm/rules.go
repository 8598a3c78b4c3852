package helm

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

var helmKinds = []diagnostics.FileKind{diagnostics.KindHelmValues}

// NR401Data is the payload of an NR401 finding for its quick-fix.
type NR401Data struct {
	Path []string // the security-context key's path in the values file
	Pod  bool     // a pod-level context (podSecurityContext) rather than a container's
}

// NR404Data is the payload of an NR404 finding for its quick-fix.
type NR404Data struct {
	Rule  string   // the underlying rule (NR201…)
	Field string   // the securityContext field it is about
	Path  []string // the values key reported at (nil when traced to a template line)
	// SCPath is the security-context mapping's key path when Path is a field inside it.
	SCPath []string
	Pod    bool // the key is a pod-level security context
}

// NR401 flags values security contexts that leave runAsNonRoot unset.
var NR401 = &diagnostics.Rule{
	ID:       "NR401",
	Title:    "Chart values leave the security context empty",
	Severity: diagnostics.SeverityWarning,
	Kinds:    helmKinds,
	FixTitle: "Fill in the restricted securityContext",
	Doc: diagnostics.Doc{
		Why: "`helm create` writes `podSecurityContext: {}` and `securityContext: {}` with the secure settings only as comments. " +
			"Commented keys are not set: every install of the chart runs its containers as whatever user the image names, root for most images.",
		Runtime: "Without `runAsNonRoot: true` the kubelet starts the container as the image's user, including uid 0; a namespace enforcing the " +
			"restricted Pod Security Standard rejects the pod (`violates PodSecurity \"restricted:latest\": runAsNonRoot != true`).",
		Fix: "Set the restricted block in values.yaml: `runAsNonRoot: true` and a non-root `runAsUser` (pod or container level), " +
			"`allowPrivilegeEscalation: false`, `capabilities: {drop: [ALL]}` and `seccompProfile: {type: RuntimeDefault}` for containers. " +
			"Users can still override it with their own values.",
		Source: "Seed 004: make `podSecurityContext`/`securityContext` configurable in values.yaml and non-empty by default. " +
			"Pod Security Standards, restricted: `runAsNonRoot` must be true at pod or container level.",
		Bad: "podSecurityContext: {}\n  # fsGroup: 2000\n\nsecurityContext: {}\n  # runAsNonRoot: true\n",
		Good: "podSecurityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n  fsGroup: 0\n  seccompProfile:\n    type: RuntimeDefault\n\n" +
			"securityContext:\n  allowPrivilegeEscalation: false\n  capabilities:\n    drop:\n      - ALL\n  runAsNonRoot: true\n",
	},
	Run: runNR401,
}

// NR402 flags templates that write securityContext fields literally.
var NR402 = &diagnostics.Rule{
	ID:       "NR402",
	Title:    "Template hard-codes a securityContext",
	Severity: diagnostics.SeverityWarning,
	Kinds:    []diagnostics.FileKind{diagnostics.KindHelmTemplate},
	Doc: diagnostics.Doc{
		Why: "A securityContext written literally in a template cannot be changed by the chart's users: to run on OpenShift (which assigns " +
			"the uid itself) or under a different uid they must fork the chart.",
		Runtime: "Every install gets exactly the template's settings. A hard-coded `runAsUser` is rejected by OpenShift's restricted-v2 SCC " +
			"(`must be in the ranges: [...]`); a hard-coded root context cannot be hardened by values.",
		Fix: "Move the block to values.yaml (`podSecurityContext`/`securityContext`) and render it with " +
			"`{{- with .Values.securityContext }}securityContext: {{- toYaml . | nindent 12 }}{{- end }}`.",
		Source: "Seed 004: charts should make `podSecurityContext` and `securityContext` configurable through values.",
		Bad:    "      containers:\n        - name: app\n          securityContext:\n            runAsUser: 1000\n",
		Good:   "      containers:\n        - name: app\n          {{- with .Values.securityContext }}\n          securityContext:\n            {{- toYaml . | nindent 12 }}\n          {{- end }}\n",
	},
	Run: runNR402,
}

// NR403 flags values security contexts no template reads.
var NR403 = &diagnostics.Rule{
	ID:       "NR403",
	Title:    "Values security context is not used by any template",
	Severity: diagnostics.SeverityWarning,
	Kinds:    helmKinds,
	Doc: diagnostics.Doc{
		Why: "A security context in values.yaml that no template reads looks like protection but changes nothing: users harden the " +
			"values and the pods still run with the template's (or the image's) settings.",
		Runtime: "The rendered pods carry none of these fields; the container runs as the image's user.",
		Fix: "Render the key in the workload template (`{{- with .Values.podSecurityContext }}securityContext: {{- toYaml . | nindent 8 }}{{- end }}`), " +
			"or delete it from values.yaml.",
		Source: "Seed 004: the values must reach the pod spec; `helm template` shows what is rendered.",
		Bad:    "# values.yaml\npodSecurityContext:\n  runAsNonRoot: true\n# templates/deployment.yaml never mentions .Values.podSecurityContext\n",
		Good:   "# templates/deployment.yaml\n      {{- with .Values.podSecurityContext }}\n      securityContext:\n        {{- toYaml . | nindent 8 }}\n      {{- end }}\n",
	},
	Run: runNR403,
}

// NR404 carries the workload findings of the rendered chart to the values key or template line.
var NR404 = &diagnostics.Rule{
	ID:       "NR404",
	Title:    "Rendered chart fails a workload rule",
	Severity: diagnostics.SeverityWarning,
	Kinds:    []diagnostics.FileKind{diagnostics.KindHelmValues, diagnostics.KindHelmTemplate},
	FixTitle: "Apply the underlying rule's fix to values.yaml",
	Doc: diagnostics.Doc{
		Why: "What runs is the chart rendered with its values, not the template text. nonroot-ls renders the chart with Helm's " +
			"engine (default values plus `helm.valuesFiles`), checks the manifests with the Kubernetes rules (NR2xx, NR3xx), and reports " +
			"each finding at the values key that controls the field, or else at the template line that writes it.",
		Runtime: "As the underlying rule says: the kubelet refuses or starts the container as root, Pod Security admission rejects the pod, " +
			"or the container cannot write its volumes. The message names the rule and the rendered object.",
		Fix: "Change the values key (the quick-fix applies the underlying rule's fix to values.yaml) or the template line named.",
		Source: "SPEC §3 NR404; Pod Security Standards restricted (runAsNonRoot, allowPrivilegeEscalation: false, capabilities drop ALL, " +
			"seccomp RuntimeDefault); kubelet: `container has runAsNonRoot and image will run as root`.",
		Bad:  "# values.yaml\nsecurityContext: {}\n",
		Good: "# values.yaml\nsecurityContext:\n  runAsNonRoot: true\n  allowPrivilegeEscalation: false\n  capabilities:\n    drop:\n      - ALL\n",
	},
	Run: runNR404,
}

func init() {
	diagnostics.Register(NR401, NR402, NR403, NR404)
	diagnostics.RegisterParseCheck(diagnostics.KindHelmChart, parseCheck)
	diagnostics.RegisterParseCheck(diagnostics.KindHelmValues, parseCheck)
	diagnostics.RegisterParseCheck(diagnostics.KindHelmTemplate, parseCheck)
}

// parseCheck reports (as NR001) why a chart file cannot be analysed: invalid Chart.yaml or
// values, and a render error at the template line Helm names.
func parseCheck(s *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
	c := For(s, f.Path)
	if c == nil {
		return nil
	}
	out := append([]diagnostics.Problem(nil), c.Problems[f.Path]...)
	if len(out) > 0 {
		return out
	}
	a := Analyze(s, f.Path)
	if a == nil || a.Real.Err == nil {
		return out
	}
	e := a.Real.Err
	rel := a.Chart.Rel(f.Path)
	switch {
	case e.File == rel && e.Line > 0:
		line := e.Line - 1
		rng := trimmedLine(f.Lines(), line)
		if e.Col > 0 {
			rng.Start = f.Lines().FromRunes(line, e.Col-1)
			if rng.End.Less(rng.Start) {
				rng.End = rng.Start
			}
		}
		out = append(out, diagnostics.Problem{Range: rng, Message: "the chart does not render: " + e.Message})
	case e.File == rel || (e.File == "" && f.Kind == diagnostics.KindHelmChart && a.Chart.ChartFile == f):
		out = append(out, diagnostics.Problem{Range: chartNameLine(f), Message: "the chart does not render: " + e.Message})
	}
	return out
}

func chartNameLine(f *diagnostics.File) text.Range {
	lines := f.Lines()
	for n := 0; n < lines.Count(); n++ {
		if strings.HasPrefix(lines.Line(n), "name:") {
			return trimmedLine(lines, n)
		}
	}
	return trimmedLine(lines, 0)
}

// scKeys returns the security-context keys of a values file that are in force by default
// (not under a mapping with `enabled: false`).
func scKeys(v *Values) []*Key {
	var out []*Key
	for _, k := range v.Keys {
		if !IsSecurityContextKey(k.Path[len(k.Path)-1]) {
			continue
		}
		if k.Value.Kind != yaml.MappingNode && !(k.Value.Kind == yaml.ScalarNode && k.Value.Tag == "!!null") {
			continue
		}
		out = append(out, k)
	}
	return out
}

// disabled reports whether the key or a mapping above it says `enabled: false`.
func disabled(v *Values, k *Key) bool {
	if isFalse(mapGet(k.Value, "enabled")) {
		return true
	}
	for i := len(k.Path) - 1; i > 0; i-- {
		if p := v.Lookup(strings.Join(k.Path[:i], ".")); p != nil && isFalse(mapGet(p.Value, "enabled")) {
			return true
		}
	}
	return false
}

// isPodContext reports whether a security-context key is the pod-level one by its name.
func isPodContext(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "pod")
}

func runNR401(pass *diagnostics.Pass) {
	c := For(pass.Snapshot, pass.File.Path)
	if c == nil {
		return
	}
	v := c.ValuesFor(pass.File.Path)
	if v == nil || v.Root == nil || c.Library {
		return
	}
	for _, k := range scKeys(v) {
		if disabled(v, k) {
			continue
		}
		nonRoot := mapGet(k.Value, "runAsNonRoot")
		if isTrue(nonRoot) {
			continue
		}
		if nonRoot == nil && siblingNonRoot(v, k) {
			continue
		}
		name := k.Dotted()
		var msg string
		switch {
		case isFalse(nonRoot):
			msg = fmt.Sprintf("%s sets runAsNonRoot: false: the chart's containers may run as root (the image's user, uid 0 for most images)", name)
		case k.Value.Kind != yaml.MappingNode || len(k.Value.Content) == 0:
			msg = fmt.Sprintf("%s is empty (the `helm create` default): the rendered pods set no runAsNonRoot, so containers run as the image's user — root for most images", name)
		default:
			msg = fmt.Sprintf("%s lacks runAsNonRoot: true: nothing stops the containers from running as root (the restricted Pod Security Standard rejects such pods)", name)
		}
		rng := k.Range()
		if isFalse(nonRoot) {
			for _, kk := range v.Keys {
				if kk.Value == nonRoot {
					rng = kk.Range()
				}
			}
		}
		pass.Report(diagnostics.Finding{Range: rng, Message: msg, Data: &NR401Data{Path: k.Path, Pod: isPodContext(k.Path[len(k.Path)-1])}})
	}
}

// siblingNonRoot reports whether another security context in the same mapping (the pod's
// for a container's, or the reverse) sets runAsNonRoot: true.
func siblingNonRoot(v *Values, k *Key) bool {
	parent := v.Root
	if len(k.Path) > 1 {
		p := v.Lookup(strings.Join(k.Path[:len(k.Path)-1], "."))
		if p == nil {
			return false
		}
		parent = p.Value
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		kn, vn := parent.Content[i], parent.Content[i+1]
		if kn == k.Key || !IsSecurityContextKey(kn.Value) || isFalse(mapGet(vn, "enabled")) {
			continue
		}
		if isTrue(mapGet(vn, "runAsNonRoot")) {
			return true
		}
	}
	return false
}

var scLineRE = regexp.MustCompile(`^(\s*)(?:-\s+)?securityContext:\s*(.*)$`)
var fieldLineRE = regexp.MustCompile(`^(\s*)(-\s+)?([A-Za-z][A-Za-z0-9_]*):\s*(.*)$`)

func runNR402(pass *diagnostics.Pass) {
	c := For(pass.Snapshot, pass.File.Path)
	if c == nil || c.Library {
		return
	}
	lines := pass.File.Lines()
	for i := 0; i < lines.Count(); i++ {
		m := scLineRE.FindStringSubmatch(lines.Line(i))
		if m == nil {
			continue
		}
		base := len(m[1])
		rest := stripYAMLComment(m[2])
		var fields []string
		switch {
		case strings.HasPrefix(rest, "{{"):
			continue
		case rest != "":
			if strings.Contains(rest, "{{") || rest == "{}" {
				continue
			}
			fields = append(fields, rest)
		default:
			fields = hardCodedFields(lines, i, base)
		}
		if len(fields) == 0 {
			continue
		}
		line := lines.Line(i)
		col := strings.Index(line, "securityContext")
		rng := text.Range{Start: text.Pos{Line: i, Col: col}, End: text.Pos{Line: i, Col: col + len("securityContext")}}
		pass.Reportf(rng, "securityContext is hard-coded in the template (%s): chart users cannot change it through values, e.g. to let OpenShift assign the uid or to harden it", strings.Join(fields, ", "))
	}
}

// hardCodedFields lists the literal fields of the block under the securityContext key at line i.
func hardCodedFields(lines *text.Lines, i, base int) []string {
	type parent struct {
		indent int
		key    string
	}
	var fields []string
	var stack []parent
	path := func(indent int, key string) string {
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		var ks []string
		for _, p := range stack {
			ks = append(ks, p.key)
		}
		return strings.Join(append(ks, key), ".")
	}
	for j := i + 1; j < lines.Count(); j++ {
		l := lines.Line(j)
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") && strings.Count(t, "{{") == 1 {
			// A template action on its own line (toYaml, include, if/with/end): not literal.
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		if indent <= base {
			break
		}
		if fm := fieldLineRE.FindStringSubmatch(l); fm != nil {
			val := stripYAMLComment(fm[4])
			name := path(indent, fm[3])
			switch {
			case strings.Contains(val, "{{"):
			case val == "" || val == "|" || val == ">":
				stack = append(stack, parent{indent, fm[3]})
			default:
				fields = append(fields, name+": "+val)
			}
			continue
		}
		if strings.HasPrefix(t, "- ") && !strings.Contains(t, "{{") && len(stack) > 0 {
			var ks []string
			for _, p := range stack {
				ks = append(ks, p.key)
			}
			fields = append(fields, strings.Join(ks, ".")+": "+strings.TrimPrefix(t, "- "))
		}
	}
	return fields
}

func stripYAMLComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func runNR403(pass *diagnostics.Pass) {
	c := For(pass.Snapshot, pass.File.Path)
	if c == nil || c.Library || c.Subchart {
		return
	}
	v := c.ValuesFor(pass.File.Path)
	if v == nil || v.Root == nil || v.Prefix != "" {
		return
	}
	a := Analyze(pass.Snapshot, pass.File.Path)
	var tmpls []string
	for rel, f := range c.Files {
		if strings.Contains("/"+rel, "/templates/") {
			tmpls = append(tmpls, f.Text)
		}
	}
	if len(tmpls) == 0 {
		return
	}
	src := c.sourceIndex(v)
	for _, k := range scKeys(v) {
		if referenced(tmpls, k.Path) {
			continue
		}
		if a != nil && a.Real.Err == nil && a.MarkerUsed(src, k.Dotted()) {
			continue
		}
		pass.Reportf(k.KeyRange, "%s is not used by any template: the rendered pods get none of these settings", k.Dotted())
	}
}

// referenced reports whether a template mentions the key: its dotted path (.a.b), or its
// last element together with its parent's (a template that passes .Values.a on), or the
// key quoted (index .Values "a").
func referenced(tmpls []string, path []string) bool {
	last := path[len(path)-1]
	full := "." + strings.Join(path, ".")
	lastRE := regexp.MustCompile(`\.` + regexp.QuoteMeta(last) + `\b|"` + regexp.QuoteMeta(last) + `"`)
	var parentRE *regexp.Regexp
	if len(path) > 1 {
		p := path[len(path)-2]
		parentRE = regexp.MustCompile(`\.` + regexp.QuoteMeta(p) + `\b|"` + regexp.QuoteMeta(p) + `"`)
	}
	for _, t := range tmpls {
		if strings.Contains(t, full) {
			return true
		}
	}
	for _, t := range tmpls {
		if lastRE.MatchString(t) && (parentRE == nil || anyMatch(tmpls, parentRE)) {
			return true
		}
	}
	return false
}

func anyMatch(ts []string, re *regexp.Regexp) bool {
	for _, t := range ts {
		if re.MatchString(t) {
			return true
		}
	}
	return false
}

func runNR404(pass *diagnostics.Pass) {
	a := Analyze(pass.Snapshot, pass.File.Path)
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
		data := &NR404Data{Rule: cf.Underlying.RuleID, Field: RuleField(cf.Underlying.RuleID)}
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
		field = RuleField(cf.Underlying.RuleID)
	}
	return trimmedLine(f.Lines(), a.templateLine(cf.Template, loc, field))
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
