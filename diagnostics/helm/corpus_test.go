package helm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
)

type labels struct {
	Charts map[string]struct {
		Name    string `yaml:"name"`
		Version string `yaml:"version"`
		Type    string `yaml:"type"`
	} `yaml:"charts"`
	Files map[string]struct {
		Chart     string `yaml:"chart"`
		ChartPath string `yaml:"chart_path"`
		Workload  *struct {
			Kind              string `yaml:"kind"`
			RenderedByDefault string `yaml:"rendered_by_default"`
			Containers        []struct {
				Name              string `yaml:"name"`
				RenderedByDefault string `yaml:"rendered_by_default"`
				SecurityContext   string `yaml:"securityContext"`
			} `yaml:"containers"`
			Effective map[string]any `yaml:",inline"`
		} `yaml:"workload"`
	} `yaml:"files"`
}

func readLabels(t *testing.T, corpus string) labels {
	data, err := os.ReadFile(filepath.Join(corpus, "labels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var l labels
	if err := yaml.Unmarshal(data, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func yes(s string) bool { return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "yes") }

// TestCorpusCharts renders every corpus chart and checks what labels.yaml says about it:
// chart name and version, library charts not rendered, which workloads and containers
// render with the default values, the values key each container's securityContext comes
// from, and the effective security settings.
func TestCorpusCharts(t *testing.T) {
	corpus := diagtest.CorpusDir(t)
	l := readLabels(t, corpus)
	if len(l.Charts) == 0 {
		t.Fatal("labels.yaml has no charts")
	}
	for key, cl := range l.Charts {
		t.Run(key, func(t *testing.T) {
			dir := filepath.Join(corpus, key)
			s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
			c := helm.For(s, filepath.Join(dir, "Chart.yaml"))
			if c == nil || c.Name != cl.Name {
				t.Fatalf("chart model %+v, labels say name %q", c, cl.Name)
			}
			// Every file diagnoses without a crash or an NR001.
			for _, p := range s.Walk() {
				for _, f := range s.Diagnose(context.Background(), p) {
					if f.RuleID == "NR001" {
						t.Errorf("%s", f)
					}
				}
			}
			a := helm.Analyze(context.Background(), s, filepath.Join(dir, "Chart.yaml"))
			if cl.Type == "library" {
				if a != nil {
					t.Errorf("library chart rendered")
				}
				return
			}
			if a == nil || a.Real.Err != nil {
				t.Fatalf("render: %+v", a)
			}
			checked := 0
			defer func() {
				if checked == 0 {
					t.Errorf("labels.yaml has no workload templates for %s", key)
				}
			}()
			for fk, fl := range l.Files {
				if fl.Chart != strings.TrimPrefix(key, "helm/") || fl.Workload == nil {
					continue
				}
				checked++
				checkWorkload(t, s, a, fk, fl.ChartPath, fl.Workload.Kind, yes(fl.Workload.RenderedByDefault), fl.Workload.Containers, fl.Workload.Effective)
			}
		})
	}
}

func checkWorkload(t *testing.T, s *diagnostics.Snapshot, a *helm.Analysis, label, tmpl, kind string, rendered bool, containers []struct {
	Name              string `yaml:"name"`
	RenderedByDefault string `yaml:"rendered_by_default"`
	SecurityContext   string `yaml:"securityContext"`
}, effective map[string]any) {
	t.Helper()
	var pod *helm.PodSpec
	for _, d := range a.Docs(tmpl) {
		if d.Kind == kind {
			if ps := d.PodSpecs(); len(ps) > 0 {
				pod = ps[0]
			}
		}
	}
	if (pod != nil) != rendered {
		t.Errorf("%s: rendered=%v, labels say %v", label, pod != nil, rendered)
		return
	}
	if pod == nil {
		return
	}
	v, _ := s.Inspect(context.Background(), a.Chart.ChartFile.Path)
	ic := v.(helm.InspectChart)
	byName := map[string]helm.InspectContainer{}
	for _, c := range ic.Containers {
		if c.Template == tmpl {
			byName[c.Container] = c
		}
	}
	var main *helm.InspectContainer
	for _, cl := range containers {
		if strings.Contains(cl.Name, "{{") {
			for _, c := range ic.Containers {
				if c.Template == tmpl && c.Type == "container" {
					c := c
					main = &c
				}
			}
			continue
		}
		got, ok := byName[cl.Name]
		if cl.RenderedByDefault != "" && ok != yes(cl.RenderedByDefault) {
			t.Errorf("%s: container %s rendered=%v, labels say %q", label, cl.Name, ok, cl.RenderedByDefault)
		}
		if !ok {
			continue
		}
		if main == nil && got.Type == "container" {
			main = &got
		}
		if isValuesKey(cl.SecurityContext) {
			for field, f := range got.SecurityContext {
				if f.Level == "container" && !strings.HasPrefix(f.From, "values.yaml key "+cl.SecurityContext) {
					t.Errorf("%s: %s.%s comes from %q, labels say %s", label, cl.Name, field, f.From, cl.SecurityContext)
				}
			}
		}
	}
	for k, want := range effective {
		if !strings.HasPrefix(k, "effective_defaults") {
			continue
		}
		t.Logf("%s: checking %s against %s", label, k, tmpl)
		m, _ := want.(map[string]any)
		target := main
		if name, ok := strings.CutPrefix(k, "effective_defaults_for_"); ok {
			c := byName[strings.TrimSuffix(name, "_container")]
			target = &c
		}
		if target == nil {
			t.Errorf("%s: no container for %s", label, k)
			continue
		}
		checkEffective(t, label, pod, *target, m)
	}
}

func isValuesKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func checkEffective(t *testing.T, label string, pod *helm.PodSpec, c helm.InspectContainer, want map[string]any) {
	t.Helper()
	get := func(f string) (string, bool) {
		v, ok := c.SecurityContext[f]
		if !ok {
			return "", false
		}
		if m, ok := v.Value.(map[string]any); ok && f == "seccompProfile" {
			return fmt.Sprint(m["type"]), true
		}
		return fmt.Sprint(v.Value), true
	}
	podField := func(f string) (string, bool) {
		sc := pod.SecurityContext()
		if sc == nil {
			return "", false
		}
		var m map[string]any
		sc.Decode(&m)
		v, ok := m[f]
		return fmt.Sprint(v), ok
	}
	for f, w := range want {
		ws := fmt.Sprint(w)
		var got string
		var ok bool
		switch f {
		case "runAsNonRoot", "runAsUser", "allowPrivilegeEscalation", "seccompProfile", "privileged", "readOnlyRootFilesystem":
			got, ok = get(f)
		case "fsGroup":
			got, ok = podField(f)
		case "capabilities_drop_ALL":
			cap, has := c.SecurityContext["capabilities"]
			drop := has && strings.Contains(fmt.Sprint(cap.Value), "ALL")
			if fmt.Sprint(drop) != ws {
				t.Errorf("%s: %s capabilities drop ALL = %v, labels say %s", label, c.Container, drop, ws)
			}
			continue
		default:
			continue
		}
		if ws == "not set" {
			if ok {
				t.Errorf("%s: %s.%s = %s, labels say not set", label, c.Container, f, got)
			}
			continue
		}
		if !ok || got != ws {
			t.Errorf("%s: %s.%s = %q (set %v), labels say %q", label, c.Container, f, got, ok, ws)
		}
	}
}

// TestCorpusHelmCreate: NR401 (and, with the Kubernetes rules in the catalog, NR404) on the
// `podSecurityContext: {}` and `securityContext: {}` lines; nothing on the Bitnami charts'
// values, which are hardened.
func TestCorpusHelmCreate(t *testing.T) {
	corpus := diagtest.CorpusDir(t)
	dir := filepath.Join(corpus, "helm", "helm-create-default")
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	values := filepath.Join(dir, "values.yaml")
	f, err := s.File(values)
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(prefix string) int {
		for n := 0; n < f.Lines().Count(); n++ {
			if strings.HasPrefix(f.Lines().Line(n), prefix) {
				return n
			}
		}
		t.Fatalf("no %q line", prefix)
		return -1
	}
	pod, ctr := lineOf("podSecurityContext: {}"), lineOf("securityContext: {}")
	byRule := map[string]map[int]bool{}
	for _, fd := range s.Diagnose(context.Background(), values) {
		if byRule[fd.RuleID] == nil {
			byRule[fd.RuleID] = map[int]bool{}
		}
		byRule[fd.RuleID][fd.Range.Start.Line] = true
	}
	if !byRule["NR401"][pod] || !byRule["NR401"][ctr] || len(byRule["NR401"]) != 2 {
		t.Errorf("NR401 on lines %v, want %d and %d", byRule["NR401"], pod+1, ctr+1)
	}
	if !byRule["NR404"][pod] || !byRule["NR404"][ctr] {
		t.Errorf("NR404 on lines %v, want %d and %d", byRule["NR404"], pod+1, ctr+1)
	}
	for _, chart := range []string{"bitnami-nginx", "bitnami-node-exporter"} {
		d := filepath.Join(corpus, "helm", chart)
		s := alltest.Engine().NewSnapshot([]string{d}, diagnostics.Config{})
		for _, fd := range s.Diagnose(context.Background(), filepath.Join(d, "values.yaml")) {
			if fd.RuleID == "NR401" || fd.RuleID == "NR403" || fd.RuleID == "NR001" {
				t.Errorf("%s: %s", chart, fd)
			}
		}
	}
}

// TestCorpusBitnamiOpenShift: with the openshift profile the capabilities include
// security.openshift.io/v1 and Bitnami's common.compatibility.renderSecurityContext drops
// runAsUser, runAsGroup and fsGroup (labels: render_verified --api-versions).
func TestCorpusBitnamiOpenShift(t *testing.T) {
	corpus := diagtest.CorpusDir(t)
	dir := filepath.Join(corpus, "helm", "bitnami-nginx")
	for _, profile := range []string{"kubernetes", "openshift"} {
		s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{Profile: profile})
		v, _ := s.Inspect(context.Background(), filepath.Join(dir, "Chart.yaml"))
		ic := v.(helm.InspectChart)
		var nginx *helm.InspectContainer
		for i, c := range ic.Containers {
			if c.Container == "nginx" {
				nginx = &ic.Containers[i]
			}
		}
		if nginx == nil {
			t.Fatalf("%s: no nginx container in %+v", profile, ic)
		}
		_, hasUser := nginx.SecurityContext["runAsUser"]
		if hasUser != (profile == "kubernetes") {
			t.Errorf("%s: runAsUser present=%v", profile, hasUser)
		}
		if nr := nginx.SecurityContext["runAsNonRoot"]; nr.Value != true {
			t.Errorf("%s: runAsNonRoot = %v", profile, nr.Value)
		}
	}
}

// TestCorpusHelmCreateFixAll: fixing helm-create-default's values.yaml (NR401 and NR404
// quick-fixes, applied one at a time) leaves a chart whose rendered manifests pass
// NR201–NR206.
func TestCorpusHelmCreateFixAll(t *testing.T) {
	corpus := diagtest.CorpusDir(t)
	dir := filepath.Join(corpus, "helm", "helm-create-default")
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	values := filepath.Join(dir, "values.yaml")
	rep, err := codeactions.FixAll(context.Background(), s, values)
	if err != nil {
		t.Fatal(err)
	}
	fixed := rep.Text
	if len(rep.Fixed) == 0 {
		t.Fatal("nothing fixed")
	}
	s2 := s.WithFile(values, 2, "yaml", fixed)
	for _, f := range s2.Diagnose(context.Background(), values) {
		if f.RuleID == "NR401" || f.RuleID == "NR001" {
			t.Errorf("after the fix: %s", f)
		}
		if r := helm.Underlying(f); r >= "NR201" && r <= "NR206" {
			t.Errorf("after the fix: %s", f)
		}
	}
	// The scaffold's other comments are still there.
	for _, c := range []string{"# fsGroup: 2000", "# readOnlyRootFilesystem: true"} {
		if !strings.Contains(fixed, c) {
			t.Errorf("fix dropped %q", c)
		}
	}
}
