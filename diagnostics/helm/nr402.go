package helm

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// NR402 flags templates that write securityContext fields literally.
var NR402 = &diagnostics.Rule{
	ID:       "NR402",
	Title:    "Template hard-codes a securityContext",
	Severity: diagnostics.SeverityWarning,
	Kinds:    []diagnostics.FileKind{diagnostics.KindHelmTemplate},
	Doc: diagnostics.Doc{
		Why: "A securityContext written literally in a template cannot be changed by the chart's users: to run on OpenShift (which assigns " +
			"the uid itself) or under a different uid they must fork the chart. One written in the `else` branch of `{{ if .Values.securityContext }}` " +
			"is only the chart's default, which values override: it is reported as information.",
		Runtime: "Every install gets exactly the template's settings. A hard-coded `runAsUser` is rejected by OpenShift's restricted-v2 SCC " +
			"(`must be in the ranges: [...]`); a hard-coded root context cannot be hardened by values.",
		Fix: "Move the block to values.yaml (`podSecurityContext`/`securityContext`) and render it with " +
			"`{{- with .Values.securityContext }}securityContext: {{- toYaml . | nindent 12 }}{{- end }}`.",
		Source: "Seed 004: charts should make `podSecurityContext` and `securityContext` configurable through values.",
		Bad: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"
-- templates/deployment.yaml --
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      {{- with .Values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            runAsNonRoot: true
            runAsUser: 1000
`,
		Good: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"

securityContext:
  runAsNonRoot: true
  runAsUser: 1000
` + exampleTemplate,
	},
	Run: runNR402,
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
		if cond := fallbackFor(pass.File.Text[:lines.Offset(text.Pos{Line: i})]); cond != "" {
			pass.Report(diagnostics.Finding{Range: rng, Severity: diagnostics.SeverityInfo,
				Message: fmt.Sprintf("securityContext is a default written in the template (%s) for when `%s` is not set: chart users can override it through values", strings.Join(fields, ", "), cond)})
			continue
		}
		pass.Reportf(rng, "securityContext is hard-coded in the template (%s): chart users cannot change it through values, e.g. to let OpenShift assign the uid or to harden it", strings.Join(fields, ", "))
	}
}

var actionRE = regexp.MustCompile(`\{\{-?\s*(if|with|range|define|block|else|end)\b([^}]*?)\s*-?\}\}`)

// fallbackFor returns the condition of the `if`/`with` on a values security context whose
// `else` branch the end of before is in ("" when none): `{{ if .Values.securityContext }}…
// {{ else }}` — what follows is the chart's default when the values set none.
func fallbackFor(before string) string {
	type block struct {
		cond   string
		inElse bool
	}
	var stack []block
	for _, m := range actionRE.FindAllStringSubmatch(before, -1) {
		switch m[1] {
		case "end":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case "else":
			if len(stack) > 0 {
				stack[len(stack)-1].inElse = true
			}
		default:
			stack = append(stack, block{cond: strings.TrimSpace(m[2])})
		}
	}
	for i := len(stack) - 1; i >= 0; i-- {
		if b := stack[i]; b.inElse && valuesSecurityContextRE.MatchString(b.cond) {
			return b.cond
		}
	}
	return ""
}

// valuesSecurityContextRE is a reference to a values security context (.Values.securityContext,
// .Values.app.podSecurityContext).
var valuesSecurityContextRE = regexp.MustCompile(`\.Values(?:\.[A-Za-z0-9_]+)*\.[A-Za-z0-9_]*[sS]ecurityContext\b`)

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

func stripYAMLComment(s string) string { return strings.TrimSpace(yamlnode.StripComment(s)) }
