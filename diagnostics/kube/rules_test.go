package kube_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

func TestRules(t *testing.T) { diagtest.RunFixtures(t, alltest.Engine(), "NR2") }

// Every NR2xx rule has a firing fixture.
func TestEveryRuleHasFixture(t *testing.T) {
	for _, r := range kube.Rules {
		if !strings.HasPrefix(r.ID, "NR2") {
			continue
		}
		if _, err := os.Stat(filepath.Join("../../testdata/rules", r.ID)); err != nil {
			t.Errorf("%s has no fixtures", r.ID)
		}
		d := r.Doc
		if d.Why == "" || d.Runtime == "" || d.Fix == "" || d.Source == "" || d.Bad == "" || d.Good == "" {
			t.Errorf("%s: incomplete Doc", r.ID)
		}
	}
}

// TestOpenShiftDetector: a Route (even inside a Template, or in JSON) turns the openshift
// profile on for the whole workspace: NR207 stops, NR210 becomes a warning.
func TestOpenShiftDetector(t *testing.T) {
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n      containers:\n      - name: web\n        image: web\n        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n        ports: [{containerPort: 80}]\n        volumeMounts: [{name: d, mountPath: /d}]\n      volumes: [{name: d, persistentVolumeClaim: {claimName: d}}]\n"
	for name, other := range map[string]string{
		"":           "",
		"route.yaml": "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r}\nspec: {to: {kind: Service, name: s}}\n",
		"tmpl.json":  `{"apiVersion": "template.openshift.io/v1", "kind": "Template", "objects": [{"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "i"}}]}`,
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "deploy.yaml")
		s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(p, 1, "yaml", deploy)
		if other != "" {
			s = s.WithFile(filepath.Join(dir, name), 1, "", other)
		}
		openshift := other != ""
		if got := s.ProfileFor(p) == diagnostics.ProfileOpenShift; got != openshift {
			t.Errorf("%q: openshift profile = %v", name, got)
		}
		sev := map[string]diagnostics.Severity{}
		for _, f := range s.Diagnose(context.Background(), p) {
			sev[f.RuleID] = f.Severity
		}
		if openshift && (sev["NR207"] != diagnostics.SeverityOff || sev["NR210"] != diagnostics.SeverityWarning) {
			t.Errorf("%q: under openshift NR207=%v NR210=%v", name, sev["NR207"], sev["NR210"])
		}
		if !openshift && (sev["NR207"] != diagnostics.SeverityWarning || sev["NR210"] != diagnostics.SeverityInfo) {
			t.Errorf("kubernetes profile: NR207=%v NR210=%v", sev["NR207"], sev["NR210"])
		}
	}
}
