package helm

import (
	"context"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// hoverValues explains a values key that feeds a security context: which templates and
// containers render it, and the securityContext they get with the default values.
func hoverValues(ctx context.Context, s *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) *diagnostics.Hover {
	c := For(s, f.Path)
	if c == nil {
		return nil
	}
	v := c.ValuesFor(f.Path)
	k := v.KeyAt(pos)
	if k == nil {
		return nil
	}
	// The security context the key is (or is inside).
	sc := -1
	for i := len(k.Path) - 1; i >= 0; i-- {
		if IsSecurityContextKey(k.Path[i]) {
			sc = i
			break
		}
	}
	if sc < 0 {
		return nil
	}
	scPath := strings.Join(k.Path[:sc+1], ".")
	field := ""
	if sc+1 < len(k.Path) {
		field = k.Path[sc+1]
	}
	a := Analyze(ctx, s, f.Path)
	var b strings.Builder
	fmt.Fprintf(&b, "**Helm values `%s`**", valuesPath(v, k))
	if a == nil {
		b.WriteString("\n\nThis chart is not rendered (a library chart).")
		return &diagnostics.Hover{Range: k.KeyRange, Markdown: b.String()}
	}
	if a.Real.Err != nil {
		fmt.Fprintf(&b, "\n\nThe chart does not render with its default values: %s", a.Real.Err.Message)
		return &diagnostics.Hover{Range: k.KeyRange, Markdown: b.String()}
	}
	root := a.Chart
	src := -1
	for i, w := range root.AllValues() {
		if w.File.Path == f.Path {
			src = i
		}
	}
	scKey := v.Lookup(scPath)
	uses := a.UsesOf(ctx, src, scPath)
	if len(uses) == 0 {
		b.WriteString("\n\nNo template renders this security context with the chart's default values")
		if scKey != nil && disabled(v, scKey) {
			b.WriteString(" (it is switched off: `enabled: false`)")
		}
		b.WriteString(".")
		return &diagnostics.Hover{Range: k.KeyRange, Markdown: b.String()}
	}
	b.WriteString("\n\nRendered with the default values into:\n")
	for _, u := range uses {
		got := "(not rendered)"
		if u.Rendered != nil {
			n := withoutMarker(u.Rendered)
			if field != "" {
				n = mapGet(n, field)
			}
			got = "`" + flowYAML(n) + "`"
		}
		level := "securityContext"
		if field != "" {
			level = "securityContext." + field
		}
		fmt.Fprintf(&b, "\n- %s in `%s`: %s = %s", u.Where, u.Template, level, got)
	}
	if field == "" && !isPodContext(k.Path[sc]) {
		b.WriteString("\n\nContainer-level settings override the pod's `securityContext` for the same field.")
	}
	return &diagnostics.Hover{Range: k.KeyRange, Markdown: b.String()}
}

// InspectChart is what `nonroot-ls inspect` prints for a chart.
type InspectChart struct {
	Chart       string             `json:"chart"`
	Dir         string             `json:"dir"`
	Library     bool               `json:"library,omitempty"`
	ValuesFiles []string           `json:"valuesFiles"`
	Templates   []string           `json:"renderedTemplates,omitempty"`
	RenderError string             `json:"renderError,omitempty"`
	RenderMS    float64            `json:"renderMillis"`
	Containers  []InspectContainer `json:"containers,omitempty"`
}

// InspectContainer is one rendered container and its effective securityContext.
type InspectContainer struct {
	Template  string `json:"template"`
	Object    string `json:"object"` // Deployment/release-name-x
	Container string `json:"container"`
	Type      string `json:"type"` // container, initContainer, ephemeralContainer
	Image     string `json:"image,omitempty"`
	// SecurityContext is the effective securityContext: pod-level fields that apply to
	// containers, overridden by the container's own.
	SecurityContext map[string]InspectField `json:"securityContext"`
}

// InspectField is one effective securityContext field and where it comes from.
type InspectField struct {
	Value any    `json:"value"`
	Level string `json:"level"` // pod or container
	From  string `json:"from"`  // values.yaml key podSecurityContext.runAsUser, or templates/x.yaml:12
}

// containerLevelFromPod are the pod securityContext fields that apply to every container.
var containerLevelFromPod = []string{"runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile", "seLinuxOptions", "windowsOptions", "appArmorProfile"}

func inspectChart(ctx context.Context, s *diagnostics.Snapshot, f *diagnostics.File) any {
	c := For(s, f.Path)
	if c == nil {
		return nil
	}
	out := InspectChart{Chart: c.Name, Dir: c.Dir, Library: c.Library}
	for _, v := range c.AllValues() {
		if v.Prefix == "" {
			out.ValuesFiles = append(out.ValuesFiles, c.Rel(v.File.Path))
		}
	}
	if c.Library || c.Subchart {
		return out
	}
	a := Analyze(ctx, s, f.Path)
	if a == nil {
		return out
	}
	out.RenderMS = float64(a.Real.Elapsed.Microseconds()) / 1000
	if a.Real.Err != nil {
		out.RenderError = a.Real.Err.Error()
		return out
	}
	out.Templates = a.Real.Templates()
	for _, t := range out.Templates {
		for _, d := range a.docs[t] {
			for _, p := range d.PodSpecs() {
				for _, ctr := range p.Containers() {
					out.Containers = append(out.Containers, a.inspectContainer(ctx, p, ctr))
				}
			}
		}
	}
	return out
}

func (a *Analysis) inspectContainer(ctx context.Context, p *PodSpec, c *Container) InspectContainer {
	ic := InspectContainer{Template: p.Doc.Template, Object: p.Where(), Container: c.Name,
		Type: strings.TrimSuffix(c.List, "s"), SecurityContext: map[string]InspectField{}}
	if img := mapGet(c.Node, "image"); img != nil {
		ic.Image = img.Value
	}
	set := func(sc *yaml.Node, level string, fields []string) {
		if sc == nil || sc.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(sc.Content); i += 2 {
			name := sc.Content[i].Value
			if fields != nil && !containsStr(fields, name) {
				continue
			}
			var val any
			if err := sc.Content[i+1].Decode(&val); err != nil {
				continue
			}
			ctr := c
			if level == "pod" {
				ctr = nil
			}
			ic.SecurityContext[name] = InspectField{Value: val, Level: level, From: a.fieldOrigin(ctx, p, ctr, name).String(a.Chart)}
		}
	}
	set(p.SecurityContext(), "pod", containerLevelFromPod)
	set(c.SecurityContext(), "container", nil)
	return ic
}

// fieldOrigin is where a rendered securityContext field comes from: the values key whose
// marker came out in that securityContext (the field's own key when the values set it),
// else the template line.
func (a *Analysis) fieldOrigin(ctx context.Context, p *PodSpec, c *Container, field string) Origin {
	loc := location{Doc: p.Doc, Pod: p, Container: c, InSC: true, Field: field}
	mpod, mc := a.markedTwin(ctx, loc)
	var sc *yaml.Node
	switch {
	case c != nil && mc != nil:
		sc = mc.SecurityContext()
	case c == nil && mpod != nil:
		sc = mpod.SecurityContext()
	}
	if m := mapGet(sc, MarkerKey); m != nil {
		if mk, ok := ParseMarker(m.Value); ok {
			all := a.Chart.AllValues()
			if mk.Source >= 0 && mk.Source < len(all) {
				v := all[mk.Source]
				if k := v.Lookup(mk.Path + "." + field); k != nil {
					return Origin{Values: v, Key: k}
				}
				if k := v.Lookup(mk.Path); k != nil {
					return Origin{Values: v, Key: k}
				}
			}
		}
	}
	return Origin{Template: p.Doc.Template, Line: a.templateLine(p.Doc.Template, loc, field)}
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
