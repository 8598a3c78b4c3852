package helm

import (
	"context"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

var helmKinds = []diagnostics.FileKind{diagnostics.KindHelmValues}

// parseCheck reports (as NR001) why a chart file cannot be analysed: invalid Chart.yaml or
// values, and a render error at the template line Helm names.
func parseCheck(ctx context.Context, s *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
	c := For(s, f.Path)
	if c == nil {
		return nil
	}
	out := append([]diagnostics.Problem(nil), c.Problems[f.Path]...)
	if len(out) > 0 {
		return out
	}
	a := Analyze(ctx, s, f.Path)
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

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
