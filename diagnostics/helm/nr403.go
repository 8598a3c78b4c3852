package helm

import (
	"regexp"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

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
		Bad: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"

podSecurityContext:
  runAsNonRoot: true
  runAsUser: 10001
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
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          {{- with .Values.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
`,
		Good: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"

podSecurityContext:
  runAsNonRoot: true
  runAsUser: 10001
` + exampleTemplate,
	},
	Run: runNR403,
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
	a := Analyze(pass.Context(), pass.Snapshot, pass.File.Path)
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
		if a != nil && a.Real.Err == nil && a.MarkerUsed(pass.Context(), src, k.Dotted()) {
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
