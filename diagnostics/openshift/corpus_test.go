package openshift_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"

	"sigs.k8s.io/yaml"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/openshift"
)

type labels struct {
	Files map[string]struct {
		OpenShiftReady  string `json:"openshift_ready"`
		OpenShiftReason string `json:"openshift_reason"`
		Workloads       []struct {
			Kind              string `json:"kind"`
			Name              string `json:"name"`
			RestrictedV2Check struct {
				Violations  any    `json:"violations"`
				Conditional any    `json:"conditional"`
				Verdict     string `json:"verdict"`
			} `json:"restricted_v2_check"`
		} `json:"workloads"`
	} `json:"files"`
}

func readLabels(t *testing.T, dir string) labels {
	data, err := os.ReadFile(filepath.Join(dir, "labels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var l labels
	if err := yaml.Unmarshal(data, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// corpusSkip lists the labels nonroot-ls disagrees with on purpose, and why (reported to the
// lead). Empty when every label is matched.
var corpusSkip = map[string]string{}

// TestCorpusReadiness: for every Dockerfile in corpus/dockerfile, the openshift profile's
// group-0 readiness verdict agrees with openshift_ready in labels.yaml.
func TestCorpusReadiness(t *testing.T) {
	dir := diagtest.CorpusDir(t)
	l := readLabels(t, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "dockerfile", "*Dockerfile"))
	if len(files) == 0 {
		t.Fatal("no corpus Dockerfiles")
	}
	sort.Strings(files)
	snap := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{Profile: "openshift"})
	agree, total := 0, 0
	for _, p := range files {
		rel := "dockerfile/" + filepath.Base(p)
		want := l.Files[rel].OpenShiftReady
		if want == "" || want == "not-applicable" || want == "inherited-unknown" {
			continue
		}
		total++
		f, err := snap.File(p)
		if err != nil {
			t.Fatal(err)
		}
		got := openshift.ReadinessOf(snap, f)
		if got.Verdict == want {
			agree++
			continue
		}
		if why, ok := corpusSkip[rel]; ok {
			t.Logf("%s: label %s, nonroot-ls %s — label judged wrong: %s", rel, want, got.Verdict, why)
			continue
		}
		t.Errorf("%s: openshift_ready %s, nonroot-ls says %s (%s); label reason: %s", rel, want, got.Verdict, strings.Join(got.Reasons, "; "), l.Files[rel].OpenShiftReason)
	}
	t.Logf("openshift_ready agreement: %d/%d", agree, total)
}

// TestCorpusTemplates: both OpenShift templates pass or fail NR503/NR504 as their labels'
// restricted_v2_check says.
func TestCorpusTemplates(t *testing.T) {
	dir := diagtest.CorpusDir(t)
	l := readLabels(t, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "openshift", "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d OpenShift templates, want 2", len(files))
	}
	snap := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{Profile: "openshift"})
	for _, p := range files {
		rel := "openshift/" + filepath.Base(p)
		lab, ok := l.Files[rel]
		if !ok || len(lab.Workloads) == 0 {
			t.Fatalf("%s: no workload labels", rel)
		}
		violations := false
		for _, w := range lab.Workloads {
			if v, ok := w.RestrictedV2Check.Violations.(string); !ok || v != "none" {
				violations = true
			}
		}
		var got []string
		for _, fd := range snap.Diagnose(context.Background(), p) {
			if fd.RuleID == "NR503" || fd.RuleID == "NR504" {
				got = append(got, fd.String())
			}
		}
		if violations != (len(got) > 0) {
			t.Errorf("%s: restricted_v2_check violations %v, NR503/NR504 findings: %q", rel, violations, got)
		}
	}
}

// TestCorpusManifests: for every manifest labelled with a restricted_v2_check, NR504 fires
// exactly when the label lists violations, and NR503 exactly when it lists conditional
// (fixed-id) admissions.
func TestCorpusManifests(t *testing.T) {
	dir := diagtest.CorpusDir(t)
	l := readLabels(t, dir)
	snap := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{Profile: "openshift"})
	n := 0
	rels := make([]string, 0, len(l.Files))
	for rel := range l.Files {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		lab := l.Files[rel]
		if !strings.HasPrefix(rel, "k8s/") && !strings.HasPrefix(rel, "openshift/") {
			continue
		}
		labelled, violations, conditional := false, false, false
		for _, w := range lab.Workloads {
			if w.RestrictedV2Check.Violations == nil {
				continue
			}
			labelled = true
			if v, ok := w.RestrictedV2Check.Violations.(string); !ok || v != "none" {
				violations = true
			}
			if c, ok := w.RestrictedV2Check.Conditional.(string); !ok || c != "none" {
				conditional = true
			}
		}
		if !labelled {
			continue
		}
		n++
		var got503, got504 []string
		for _, fd := range snap.Diagnose(context.Background(), filepath.Join(dir, filepath.FromSlash(rel))) {
			switch fd.RuleID {
			case "NR503":
				got503 = append(got503, fd.Message)
			case "NR504":
				got504 = append(got504, fd.Message)
			}
		}
		if violations != (len(got504) > 0) {
			t.Errorf("%s: restricted_v2_check violations %v, NR504: %q", rel, violations, got504)
		}
		if conditional != (len(got503) > 0) {
			t.Errorf("%s: restricted_v2_check conditional %v, NR503: %q", rel, conditional, got503)
		}
	}
	t.Logf("%d labelled manifests", n)
}

// TestCorpusBitnamiAdapts: the Bitnami charts rendered for OpenShift (the openshift profile
// renders with security.openshift.io/v1, and global.compatibility.openshift.adaptSecurityContext
// defaults to auto) lose their NR503 findings; with adaptSecurityContext: disabled (an extra
// values file) they keep them, reported at the values keys through NR404.
func TestCorpusBitnamiAdapts(t *testing.T) {
	dir := diagtest.CorpusDir(t)
	for _, chart := range []string{"bitnami-nginx", "bitnami-node-exporter"} {
		t.Run(chart, func(t *testing.T) {
			chartDir := filepath.Join(dir, "helm", chart)
			values := filepath.Join(chartDir, "values.yaml")
			if _, err := os.Stat(values); err != nil {
				t.Skip("chart not in the corpus")
			}
			nr503 := func(s *diagnostics.Snapshot) []string {
				var out []string
				for _, fd := range s.Diagnose(context.Background(), values) {
					if fd.RuleID == "NR404" && strings.HasPrefix(fd.Message, "NR503 ") {
						out = append(out, fd.Message)
					}
				}
				return out
			}
			base := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{Profile: "openshift"})
			if got := nr503(base); len(got) != 0 {
				t.Errorf("adaptSecurityContext auto on OpenShift: NR503 findings %q", got)
			}
			noAdapt := base.WithFile(filepath.Join(chartDir, "values-noadapt.yaml"), 1, "yaml",
				"global:\n  compatibility:\n    openshift:\n      adaptSecurityContext: disabled\n").
				WithSettings(diagnostics.Config{Profile: "openshift", Helm: &diagnostics.HelmConfig{ValuesFiles: []string{"values-noadapt.yaml"}}})
			got := nr503(noAdapt)
			if len(got) == 0 {
				t.Fatal("adaptSecurityContext disabled: no NR503 findings")
			}
			for _, m := range got {
				if !strings.Contains(m, "runAsUser") && !strings.Contains(m, "fsGroup") && !strings.Contains(m, "runAsGroup") {
					t.Errorf("unexpected NR503: %s", m)
				}
				if !strings.Contains(m, "global.compatibility.openshift.adaptSecurityContext") {
					t.Errorf("NR503 does not point to adaptSecurityContext: %s", m)
				}
			}
			t.Logf("%s: %d NR503 findings without the adaptation, 0 with it", chart, len(got))
		})
	}
}
