package helm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

func fixture(t *testing.T, rel string) (string, *diagnostics.Snapshot) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "rules", rel))
	if err != nil {
		t.Fatal(err)
	}
	return dir, testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{})
}

func nr404(s *diagnostics.Snapshot, path string) []diagnostics.Finding {
	var out []diagnostics.Finding
	for _, f := range s.Diagnose(context.Background(), path) {
		// Only the stand-in rules' findings, not the real Kubernetes rules'.
		if d, ok := f.Data.(*nr404Data); ok && f.RuleID == "NR404" && (d.Rule == "NR298" || d.Rule == "NR299") {
			out = append(out, f)
		}
	}
	return out
}

// The helm create shape: the pod-level rule lands on podSecurityContext: {} (whose marker
// came out in the pod's securityContext), the container-level rule on securityContext: {}.
func TestTraceToValuesKeys(t *testing.T) {
	dir, s := fixture(t, "NR401/helm-create")
	got := nr404(s, filepath.Join(dir, "values.yaml"))
	if len(got) != 2 {
		t.Fatalf("want 2 NR404 findings on values.yaml, got %v", got)
	}
	want := map[string]int{"NR298": 8, "NR299": 12} // 0-based lines of podSecurityContext and securityContext
	for _, f := range got {
		d := f.Data.(*nr404Data)
		if want[d.Rule] != f.Range.Start.Line {
			t.Errorf("%s traced to line %d, want %d: %s", d.Rule, f.Range.Start.Line+1, want[d.Rule]+1, f)
		}
		if f.Range.Start.Col != 0 || f.Range.End.Col == 0 {
			t.Errorf("range %v is not the key", f.Range)
		}
		if !strings.Contains(f.Message, `Deployment/release-name-web container "web"`) || len(f.Related) != 1 {
			t.Errorf("message or related info missing: %s %v", f.Message, f.Related)
		}
	}
	if d := got[0].Data.(*nr404Data); !d.Pod || strings.Join(d.SCPath, ".") != "podSecurityContext" {
		t.Errorf("NR298 data = %+v", d)
	}
	for _, f := range nr404(s, filepath.Join(dir, "templates", "deployment.yaml")) {
		t.Errorf("unexpected finding on the template: %s", f)
	}
}

// A field set inside a values security context is reported at that field's key.
func TestTraceToValuesField(t *testing.T) {
	dir, s := fixture(t, "NR401/runasnonroot-false")
	var lines []int
	for _, f := range nr404(s, filepath.Join(dir, "values.yaml")) {
		lines = append(lines, f.Range.Start.Line)
		if f.Data.(*nr404Data).Rule == "NR298" && f.Range.Start.Line != 5 {
			t.Errorf("NR298 should land on `runAsNonRoot: false` (line 6): %s", f)
		}
	}
	if len(lines) == 0 {
		t.Fatal("no NR404 findings")
	}
}

// Subcharts' values are traced to the subchart's values.yaml; a container whose template
// writes no securityContext from values lands on the template line.
func TestTraceSubchartAndTemplateLine(t *testing.T) {
	dir, s := fixture(t, "NR401/subchart-library")
	sub := nr404(s, filepath.Join(dir, "charts", "worker", "values.yaml"))
	if len(sub) != 2 {
		t.Fatalf("want NR298 and NR299 on the worker's securityContext: {}, got %v", sub)
	}
	for _, f := range sub {
		if f.Range.Start.Line != 2 || !strings.Contains(f.Message, "charts/worker/templates/deployment.yaml") {
			t.Errorf("worker finding misplaced: %s", f)
		}
	}
	tpl := nr404(s, filepath.Join(dir, "templates", "deployment.yaml"))
	if len(tpl) != 1 || tpl[0].Data.(*nr404Data).Rule != "NR299" {
		t.Fatalf("want NR299 on the parent template, got %v", tpl)
	}
	if l := tpl[0].Range.Start.Line; l == 0 || !strings.Contains(tpl[0].Message, "written by this template line") {
		t.Errorf("template finding at line %d: %s", l+1, tpl[0])
	}
	// The pod's runAsNonRoot comes from the parent's values through the library helper: no NR298.
	for _, f := range nr404(s, filepath.Join(dir, "values.yaml")) {
		t.Errorf("unexpected finding on the parent values: %s", f)
	}
}

// Open editor text wins over the disk: filling the values in the buffer clears the findings.
func TestOverlayRerender(t *testing.T) {
	dir, s := fixture(t, "NR401/helm-create")
	values := filepath.Join(dir, "values.yaml")
	f, _ := s.File(values)
	fixed := strings.Replace(f.Text, "podSecurityContext: {}", "podSecurityContext:\n  runAsNonRoot: true", 1)
	fixed = strings.Replace(fixed, "securityContext: {}", "securityContext:\n  allowPrivilegeEscalation: false", 1)
	s2 := s.WithFile(values, 2, "yaml", fixed)
	if got := nr404(s2, values); len(got) != 0 {
		t.Errorf("after the edit: %v", got)
	}
	if got := nr404(s, values); len(got) != 2 {
		t.Errorf("the old snapshot changed: %v", got)
	}
}

// Hostile charts end in a located NR001, within the time limit, never a crash.
func TestBadCharts(t *testing.T) {
	old := RenderTimeout
	RenderTimeout = 1500 * time.Millisecond
	t.Cleanup(func() { RenderTimeout = old })
	chart := "apiVersion: v2\nname: bad\nversion: 0.1.0\n"
	cases := []struct {
		name, tmpl, file, want string
		loop                   bool
		extra                  map[string]string
	}{
		{name: "fail", tmpl: "a: 1\n{{ fail \"values.image is required\" }}\n", file: "templates/x.yaml", want: "values.image is required"},
		{name: "include loop", tmpl: "{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}\n{{ include \"loop\" . }}\n", file: "templates/x.yaml", want: "nested reference", loop: true},
		{name: "huge until", tmpl: "{{ range until 100000000 }}x{{ end }}\n", file: "templates/x.yaml", want: "more than the", loop: true},
		{name: "range over int", tmpl: "{{ range $i := 200000000 }}{{ $i }} {{ end }}\n", file: "", want: "loop more than", loop: true},
		{name: "parse error", tmpl: "a: {{ .Values.x \n", file: "templates/x.yaml", want: "unclosed action"},
		{name: "missing dependency", tmpl: "a: 1\n", file: "", want: "",
			extra: map[string]string{"Chart.yaml": chart + "dependencies:\n  - name: common\n    version: 2.x.x\n    repository: oci://registry-1.docker.io/bitnamicharts\n"}},
		{name: "invalid Chart.yaml", tmpl: "a: 1\n", file: "Chart.yaml", want: "",
			extra: map[string]string{"Chart.yaml": "apiVersion: v2\nname: [oops\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"Chart.yaml": chart, "values.yaml": "x: 1\n", "templates/x.yaml": c.tmpl}
			for k, v := range c.extra {
				files[k] = v
			}
			dir := diagtest.WriteFiles(t, files)
			s := testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{})
			start := time.Now()
			var all []diagnostics.Finding
			for _, p := range s.Walk() {
				all = append(all, s.Diagnose(context.Background(), p)...)
			}
			// Unbounded, these run for minutes; the bound is loose so that a loaded machine
			// does not fail it.
			if el := time.Since(start); el > 15*time.Second {
				t.Errorf("took %v", el)
			}
			var nr001 []diagnostics.Finding
			for _, f := range all {
				if f.RuleID == "NR001" {
					nr001 = append(nr001, f)
				}
			}
			if c.want == "" && c.file == "" {
				return // renders what it can, no crash
			}
			if len(nr001) == 0 {
				t.Fatalf("no NR001 among %v", all)
			}
			f := nr001[0]
			// On a loaded machine a loop can hit the time limit before its own bound: that
			// is the same protection, reported on Chart.yaml.
			timedOut := strings.Contains(f.Message, "took longer than")
			if c.want != "" && !strings.Contains(f.Message, c.want) && !(timedOut && c.loop) {
				t.Errorf("message %q lacks %q", f.Message, c.want)
			}
			if timedOut && c.loop {
				return
			}
			if c.file != "" && f.File != filepath.Join(dir, c.file) {
				t.Errorf("reported on %s, want %s", f.File, c.file)
			}
		})
	}
}

// Extra values files named in helm.valuesFiles are rendered over values.yaml, and a finding
// controlled by a key they set is reported in them.
func TestValuesFilesFromConfig(t *testing.T) {
	dir := diagtest.WriteFiles(t, map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		".nonroot-ls.yaml":    "helm:\n  valuesFiles: [values-prod.yaml]\n",
		"values.yaml":         "podSecurityContext: {}\nsecurityContext: {}\n",
		"values-prod.yaml":    "podSecurityContext:\n  runAsNonRoot: true\nsecurityContext:\n  readOnlyRootFilesystem: true\n",
		"templates/a.yaml":    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  {{- with .Values.podSecurityContext }}\n  securityContext: {{- toYaml . | nindent 4 }}\n  {{- end }}\n  containers:\n    - name: a\n      image: busybox\n      {{- with .Values.securityContext }}\n      securityContext: {{- toYaml . | nindent 8 }}\n      {{- end }}\n",
		"templates/_h.tpl":    "{{/* nothing */}}\n",
		"templates/NOTES.txt": "Thanks for installing {{ .Chart.Name }}.\n",
	})
	s := testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{})
	prod := nr404(s, filepath.Join(dir, "values-prod.yaml"))
	if len(prod) != 1 || prod[0].Data.(*nr404Data).Rule != "NR299" || prod[0].Range.Start.Line != 2 {
		t.Fatalf("want NR299 at values-prod.yaml securityContext (line 3), got %v", prod)
	}
	// values.yaml's keys are overridden: the render has runAsNonRoot from values-prod.yaml.
	if got := nr404(s, filepath.Join(dir, "values.yaml")); len(got) != 0 {
		t.Errorf("findings on the overridden values.yaml: %v", got)
	}
	a := Analyze(context.Background(), s, filepath.Join(dir, "values.yaml"))
	if len(a.Chart.Extra) != 1 || len(a.Real.Templates()) != 1 {
		t.Errorf("extra %d, templates %v", len(a.Chart.Extra), a.Real.Templates())
	}
}
