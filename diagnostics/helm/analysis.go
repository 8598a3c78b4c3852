package helm

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// RenderedDir is the folder, inside the chart, of the virtual files that hold the rendered
// manifests in the derived snapshot (never written to disk).
const RenderedDir = ".rendered"

// Analysis is a chart rendered with its default values and traced back to its sources.
type Analysis struct {
	Chart *Chart
	Real  *Rendered // the render users get
	// Derived is the snapshot with the rendered manifests as virtual files under
	// <chart>/.rendered/ (nil when the chart did not render).
	Derived *diagnostics.Snapshot
	docs    map[string][]*Doc
	opt     RenderOptions

	markedMu sync.Mutex
	markedR  *Rendered
	marked   map[string][]*Doc
	// Findings are the NR2xx/NR3xx findings of the rendered manifests, traced back.
	Findings []ChartFinding
}

// Origin is where a rendered field comes from: a values key, or else a template line.
type Origin struct {
	Values   *Values // nil when traced to a template
	Key      *Key
	Template string // chart-relative template path
	Line     int    // 0-based template line (when Values is nil)
}

// File returns the path of the file the origin is in.
func (o Origin) File(c *Chart) string {
	if o.Values != nil {
		return o.Values.File.Path
	}
	return c.Abs(o.Template)
}

// Range returns the range to report at.
func (o Origin) Range(c *Chart, s *diagnostics.Snapshot) text.Range {
	if o.Key != nil {
		return o.Key.Range()
	}
	f, err := s.File(c.Abs(o.Template))
	if err != nil {
		return text.Range{}
	}
	return trimmedLine(f.Lines(), o.Line)
}

// String is the origin for people: values.yaml key podSecurityContext, or templates/x.yaml:12.
func (o Origin) String(c *Chart) string {
	if o.Key != nil {
		return fmt.Sprintf("%s key %s", c.Rel(o.Values.File.Path), valuesPath(o.Values, o.Key))
	}
	return fmt.Sprintf("%s:%d", o.Template, o.Line+1)
}

func valuesPath(v *Values, k *Key) string {
	if v.Prefix != "" {
		return v.Prefix + "." + k.Dotted()
	}
	return k.Dotted()
}

func trimmedLine(lines *text.Lines, n int) text.Range {
	l := lines.Line(n)
	start := len(l) - len(strings.TrimLeft(l, " \t"))
	end := len(strings.TrimRight(l, " \t"))
	if end < start {
		end = start
	}
	return text.Range{Start: text.Pos{Line: n, Col: start}, End: text.Pos{Line: n, Col: end}}
}

// ChartFinding is a finding of a rendered manifest with the source it is traced to.
type ChartFinding struct {
	Underlying diagnostics.Finding // on the virtual rendered file
	Template   string              // chart-relative template that rendered it
	Where      string              // Deployment/name container "app"
	Origin     Origin
}

type analysisKey struct{ dir string }

// Analyze renders the chart that holds path (the outermost one, for a vendored subchart) and
// traces the findings of its manifests back to values keys and template lines. Nil when
// path is in no chart or the chart is a library, or when ctx is cancelled first.
func Analyze(ctx context.Context, s *diagnostics.Snapshot, path string) *Analysis {
	c := Root(s, path)
	if c == nil || c.ChartFile == nil || c.Library {
		return nil
	}
	v, ok := s.MemoCtx(ctx, analysisKey{c.Dir}, func(ctx context.Context) (any, bool) {
		a := analyze(ctx, s, c)
		return a, a != nil
	})
	if !ok {
		return nil
	}
	return v.(*Analysis)
}

func analyze(ctx context.Context, s *diagnostics.Snapshot, c *Chart) *Analysis {
	opt := RenderOptions{OpenShift: s.ProfileFor(c.ChartFile.Path) == diagnostics.ProfileOpenShift}
	a := &Analysis{Chart: c, Real: c.Render(ctx, opt), docs: map[string][]*Doc{}, opt: opt}
	if a.Real == nil {
		return nil
	}
	if a.Real.Err != nil {
		return a
	}
	for _, t := range a.Real.Templates() {
		a.docs[t] = parseDocs(t, a.Real.Manifests[t])
	}
	d := s
	for _, t := range a.Real.Templates() {
		d = d.WithFile(a.RenderedPath(t), 0, "yaml", a.Real.Manifests[t])
	}
	a.Derived = d
	for _, t := range a.Real.Templates() {
		for _, fd := range d.Diagnose(ctx, a.RenderedPath(t)) {
			if !isWorkloadRule(fd.RuleID) {
				continue
			}
			a.Findings = append(a.Findings, a.trace(ctx, t, fd))
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return a
}

// Marked returns the render with values-key markers and its documents (rendered on first
// use: a chart whose manifests have no findings and whose values keys are all referenced never
// needs it); nil when ctx is cancelled first.
func (a *Analysis) Marked(ctx context.Context) (*Rendered, map[string][]*Doc) {
	opt := a.opt
	opt.Marked = true
	r := a.Chart.Render(ctx, opt)
	if r == nil {
		return nil, nil
	}
	a.markedMu.Lock()
	defer a.markedMu.Unlock()
	if a.markedR != r {
		a.markedR, a.marked = r, map[string][]*Doc{}
		if r.Err == nil {
			for _, t := range r.Templates() {
				a.marked[t] = parseDocs(t, r.Manifests[t])
			}
		}
	}
	return a.markedR, a.marked
}

// isWorkloadRule reports whether NR404 carries a rule's findings: NR2xx, NR3xx and the
// manifest rules of the openshift profile (NR503, NR504).
func isWorkloadRule(id string) bool {
	return len(id) == 5 && strings.HasPrefix(id, "NR") && (id[2] == '2' || id[2] == '3') || id == "NR503" || id == "NR504"
}

// RenderedPath is the virtual path of a rendered template in the derived snapshot.
func (a *Analysis) RenderedPath(tmpl string) string {
	return a.Chart.Abs(RenderedDir + "/" + tmpl)
}

// Docs returns the rendered documents of a template.
func (a *Analysis) Docs(tmpl string) []*Doc { return a.docs[tmpl] }

// ruleField returns the securityContext field a workload rule judges (its Rule.Field).
func ruleField(s *diagnostics.Snapshot, ruleID string) string {
	if r := s.Engine().RuleByID(ruleID); r != nil {
		return r.Field
	}
	return ""
}

// trace maps a finding of a rendered template to its origin.
func (a *Analysis) trace(ctx context.Context, tmpl string, fd diagnostics.Finding) ChartFinding {
	loc := locate(a.docs[tmpl], fd.Range.Start)
	cf := ChartFinding{Underlying: fd, Template: tmpl}
	switch {
	case loc.Container != nil:
		cf.Where = loc.Container.Where()
	case loc.Pod != nil:
		cf.Where = loc.Pod.Where()
	case loc.Doc != nil:
		cf.Where = loc.Doc.Kind + "/" + loc.Doc.Name
	}
	field := loc.Field
	if field == "" {
		field = ruleField(a.Derived, fd.RuleID)
	}
	// Only securityContext fields come from a values security context: a hostPath volume
	// (NR209) or an init container's command (NR208) is the template's doing.
	if field != "" || loc.InSC {
		if o, ok := a.traceValues(ctx, loc, field); ok {
			cf.Origin = o
			return cf
		}
	}
	// A workspace finding (NR3xx) comes from the image's link: the values key that names the
	// image, when no values security context is to blame.
	if fd.RuleID[2] == '3' && loc.Container != nil {
		if o, ok := a.imageOrigin(loc.Container); ok {
			cf.Origin = o
			return cf
		}
	}
	line := a.templateLine(tmpl, loc, field)
	if o, ok := a.scalarOrigin(tmpl, line, field); ok {
		cf.Origin = o
		return cf
	}
	cf.Origin = Origin{Template: tmpl, Line: line}
	return cf
}

// imageOrigin finds the values key that sets a rendered container's image: the longest string
// value of a key named repository or image (or of an image mapping's name) that the image
// reference holds before its tag.
func (a *Analysis) imageOrigin(c *Container) (Origin, bool) {
	img := mapGet(c.Node, "image")
	if img == nil || img.Kind != yaml.ScalarNode {
		return Origin{}, false
	}
	ref := img.Value
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	var best Origin
	for _, v := range a.Chart.AllValues() {
		for _, k := range v.Keys {
			name := k.Path[len(k.Path)-1]
			if name == "name" && len(k.Path) > 1 {
				name = k.Path[len(k.Path)-2]
			}
			if (name != "repository" && name != "image") || k.Value == nil || k.Value.Kind != yaml.ScalarNode || len(k.Value.Value) < 2 || !strings.Contains(ref, k.Value.Value) {
				continue
			}
			if best.Key == nil || len(k.Value.Value) > len(best.Key.Value.Value) {
				best = Origin{Values: v, Key: k}
			}
		}
	}
	return best, best.Key != nil
}

// scalarRefRE is a template line that writes one field from one values key:
// `runAsUser: {{ .Values.volumePermissions.containerSecurityContext.runAsUser }}`, with pipes
// (`| default 1001`, `| quote`) allowed.
var scalarRefRE = regexp.MustCompile(`^\s*(?:-\s+)?([A-Za-z][A-Za-z0-9_]*):\s*\{\{-?\s*\$?\.Values\.([A-Za-z0-9_.]+)\s*(?:\|[^{}]*)?-?\}\}\s*(?:#.*)?$`)

// scalarOrigin finds the values key a template line writes field from (see scalarRefRE): the
// key in the values that win (extra values files, then the chart's values.yaml, then a
// subchart's own defaults for its templates).
func (a *Analysis) scalarOrigin(tmpl string, line int, field string) (Origin, bool) {
	f := a.Chart.Files[tmpl]
	if f == nil || field == "" {
		return Origin{}, false
	}
	m := scalarRefRE.FindStringSubmatch(f.Lines().Line(line))
	if m == nil || m[1] != field {
		return Origin{}, false
	}
	dotted, prefix := m[2], ""
	if dir, _, ok := strings.Cut(tmpl, "/templates/"); ok && strings.HasPrefix(dir, "charts/") {
		if prefix, ok = subchartPrefix(a.Chart, dir); !ok {
			return Origin{}, false
		}
	}
	// Highest precedence first: the last extra values file … the chart's values.yaml, then
	// the subcharts' defaults.
	var order []*Values
	for i := len(a.Chart.Extra) - 1; i >= 0; i-- {
		order = append(order, a.Chart.Extra[i])
	}
	if a.Chart.Values != nil {
		order = append(order, a.Chart.Values)
	}
	for _, v := range append(order, a.Chart.SubValues...) {
		key := dotted
		switch {
		case v.Prefix != "" && v.Prefix != prefix:
			continue // another subchart's defaults
		case v.Prefix == "" && prefix != "":
			key = prefix + "." + dotted // the parent's values for the subchart
		}
		if k := v.Lookup(key); k != nil {
			return Origin{Values: v, Key: k}, true
		}
	}
	return Origin{}, false
}

// traceValues finds the values key whose marker came out in the securityContext that
// controls field at loc, in the marked render.
func (a *Analysis) traceValues(ctx context.Context, loc location, field string) (Origin, bool) {
	if loc.Pod == nil {
		return Origin{}, false
	}
	mpod, mc := a.markedTwin(ctx, loc)
	if mpod == nil {
		return Origin{}, false
	}
	var podM, ctrM string
	if sc := mpod.SecurityContext(); sc != nil {
		if m := mapGet(sc, MarkerKey); m != nil {
			podM = m.Value
		}
	}
	if mc != nil {
		if sc := mc.SecurityContext(); sc != nil {
			if m := mapGet(sc, MarkerKey); m != nil {
				ctrM = m.Value
			}
		}
	}
	var pick string
	switch {
	case loc.InSC && loc.Container != nil && inContainerSC(loc):
		pick = ctrM
	case loc.InSC:
		pick = podM
	case kube.IsPodField(field) && podM != "":
		// A container-level setting would also do; the pod's covers every container.
		if ctrM != "" && a.setIn(mc, field) {
			pick = ctrM
		} else {
			pick = podM
		}
	case loc.Container != nil:
		pick = ctrM
	default:
		pick = podM
	}
	if pick == "" {
		return Origin{}, false
	}
	m, ok := ParseMarker(pick)
	if !ok {
		return Origin{}, false
	}
	all := a.Chart.AllValues()
	if m.Source < 0 || m.Source >= len(all) {
		return Origin{}, false
	}
	v := all[m.Source]
	k := v.Lookup(m.Path)
	if k == nil {
		return Origin{}, false
	}
	if field != "" {
		if fk := v.Lookup(m.Path + "." + field); fk != nil {
			k = fk
		}
	}
	return Origin{Values: v, Key: k}, true
}

// setIn reports whether the marked container's securityContext sets field.
func (a *Analysis) setIn(c *Container, field string) bool {
	if c == nil {
		return false
	}
	return mapGet(c.SecurityContext(), field) != nil
}

// inContainerSC reports whether loc's securityContext is the container's (not the pod's).
func inContainerSC(loc location) bool {
	for i, k := range loc.Keys {
		if (k == "containers" || k == "initContainers" || k == "ephemeralContainers") && i+2 < len(loc.Keys) {
			for _, k2 := range loc.Keys[i+2:] {
				if k2 == "securityContext" {
					return true
				}
			}
		}
	}
	return false
}

// markedTwin finds loc's pod and container in the marked render: same template, same kind
// and name (else same position), same container name (else index).
func (a *Analysis) markedTwin(ctx context.Context, loc location) (*PodSpec, *Container) {
	_, marked := a.Marked(ctx)
	docs := marked[loc.Doc.Template]
	var twin *Doc
	for _, d := range docs {
		if d.Kind == loc.Doc.Kind && d.Name == loc.Doc.Name {
			twin = d
			break
		}
	}
	if twin == nil && loc.Doc.Index < len(docs) {
		twin = docs[loc.Doc.Index]
	}
	if twin == nil {
		return nil, nil
	}
	var pod *PodSpec
	for _, p := range twin.PodSpecs() {
		if strings.Join(p.Path, ".") == strings.Join(loc.Pod.Path, ".") {
			pod = p
		}
	}
	if pod == nil {
		return nil, nil
	}
	if loc.Container == nil {
		return pod, nil
	}
	var byIndex *Container
	for _, c := range pod.Containers() {
		if c.List == loc.Container.List && c.Name == loc.Container.Name {
			return pod, c
		}
		if c.List == loc.Container.List && c.Index == loc.Container.Index {
			byIndex = c
		}
	}
	return pod, byIndex
}

// templateLine finds the template line that writes what loc points at: the field's key,
// else the securityContext key, else the container list, else the keys on the way, else kind.
func (a *Analysis) templateLine(tmpl string, loc location, field string) int {
	f := a.Chart.Files[tmpl]
	if f == nil {
		return 0
	}
	lines := f.Lines()
	// A container written literally (`- name: sidecar`) anchors the search: its own keys
	// come first, before the same key elsewhere in the template.
	from, to := 0, lines.Count()
	if loc.Container != nil && loc.Container.Name != "" && (!loc.InSC || inContainerSC(loc)) {
		if a := containerLine(lines, loc.Container.Name); a >= 0 {
			from, to = a, containerEnd(lines, a)
		}
	}
	find := func(key string, r [2]int) int {
		for n := r[0]; n < r[1]; n++ {
			t := strings.TrimLeft(lines.Line(n), " \t")
			t = strings.TrimLeft(strings.TrimPrefix(t, "-"), " ")
			if strings.HasPrefix(t, key+":") {
				return n
			}
		}
		return -1
	}
	var tries []string
	if loc.InSC && field != "" {
		tries = append(tries, field)
	}
	if loc.InSC {
		tries = append(tries, "securityContext")
	}
	if loc.Container != nil {
		tries = append(tries, loc.Container.List)
	}
	for i := len(loc.Keys) - 1; i >= 0; i-- {
		if !strings.HasPrefix(loc.Keys[i], "[") {
			tries = append(tries, loc.Keys[i])
		}
	}
	if from > 0 {
		tries = append(tries, "name")
	}
	tries = append(tries, "kind")
	for _, r := range [][2]int{{from, to}, {0, lines.Count()}} {
		for _, k := range tries {
			if n := find(k, r); n >= 0 {
				return n
			}
		}
	}
	// The first line that is not a comment or blank.
	for n := 0; n < lines.Count(); n++ {
		if t := strings.TrimSpace(lines.Line(n)); t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "{{/*") {
			return n
		}
	}
	return 0
}

// Uses describes where a values key's marker came out in the marked render.
type Use struct {
	Template  string
	Where     string     // Deployment/x container "app", or Deployment/x (pod)
	Rendered  *yaml.Node // the securityContext as the default render has it (nil when absent)
	Pod       bool       // the pod-level securityContext
	PodSpec   *PodSpec   // the pod in the real render (nil when not found)
	Container *Container // in the real render (nil for pod level or when not found)
}

// UsesOf returns where the values security context (source index, dotted path) lands.
func (a *Analysis) UsesOf(ctx context.Context, src int, dotted string) []Use {
	want := fmt.Sprintf("%d#%s", src, dotted)
	var out []Use
	_, marked := a.Marked(ctx)
	tmpls := make([]string, 0, len(marked))
	for t := range marked {
		tmpls = append(tmpls, t)
	}
	sort.Strings(tmpls)
	for _, t := range tmpls {
		for _, d := range marked[t] {
			for _, p := range d.PodSpecs() {
				if m := mapGet(p.SecurityContext(), MarkerKey); m != nil && m.Value == want {
					u := Use{Template: t, Where: p.Where() + " (pod)", Pod: true}
					if rp := a.realPod(d, p); rp != nil {
						u.Rendered, u.PodSpec = rp.SecurityContext(), rp
					}
					out = append(out, u)
				}
				for _, c := range p.Containers() {
					if m := mapGet(c.SecurityContext(), MarkerKey); m != nil && m.Value == want {
						u := Use{Template: t, Where: c.Where()}
						if rp := a.realPod(d, p); rp != nil {
							for _, rc := range rp.Containers() {
								if rc.List == c.List && rc.Name == c.Name {
									u.Container = rc
									u.Rendered = rc.SecurityContext()
								}
							}
						}
						out = append(out, u)
					}
				}
			}
		}
	}
	return out
}

func (a *Analysis) realPod(md *Doc, mp *PodSpec) *PodSpec {
	for _, d := range a.docs[md.Template] {
		if d.Kind == md.Kind && d.Name == md.Name {
			for _, p := range d.PodSpecs() {
				if strings.Join(p.Path, ".") == strings.Join(mp.Path, ".") {
					return p
				}
			}
		}
	}
	return nil
}

// MarkerUsed reports whether a values key's marker came out anywhere in the marked render.
func (a *Analysis) MarkerUsed(ctx context.Context, src int, dotted string) bool {
	m, _ := a.Marked(ctx)
	if m == nil || m.Err != nil {
		return false
	}
	want := fmt.Sprintf("%s: %d#%s", MarkerKey, src, dotted)
	for _, t := range m.Templates() {
		for line := range strings.Lines(m.Manifests[t]) {
			if strings.TrimSpace(line) == want {
				return true
			}
		}
	}
	return false
}

// containerLine finds the template line `- name: <name>` of a literally named container.
func containerLine(lines *text.Lines, name string) int {
	for n := 0; n < lines.Count(); n++ {
		t := strings.TrimSpace(lines.Line(n))
		t, ok := strings.CutPrefix(t, "- name:")
		if !ok {
			continue
		}
		if v := strings.Trim(strings.TrimSpace(t), `"'`); v == name {
			return n
		}
	}
	return -1
}

// containerEnd is the line after the container block that starts at line a (the next list
// item at the same indentation or less, or a key less indented).
func containerEnd(lines *text.Lines, a int) int {
	l := lines.Line(a)
	ind := len(l) - len(strings.TrimLeft(l, " "))
	for n := a + 1; n < lines.Count(); n++ {
		m := lines.Line(n)
		t := strings.TrimLeft(m, " ")
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "{{") {
			continue
		}
		if i := len(m) - len(t); i < ind || i == ind && strings.HasPrefix(t, "- ") {
			return n
		}
	}
	return lines.Count()
}
