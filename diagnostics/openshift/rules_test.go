package openshift_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/openshift"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

func TestRules(t *testing.T) { diagtest.RunFixtures(t, alltest.Engine(), "NR5") }

// Every NR5xx rule has fixtures, runs only in the openshift profile and has a complete Doc.
func TestEveryRule(t *testing.T) {
	n := 0
	for _, r := range openshift.Rules {
		if !strings.HasPrefix(r.ID, "NR5") {
			continue
		}
		n++
		if _, err := os.Stat(filepath.Join("../../testdata/rules", r.ID)); err != nil {
			t.Errorf("%s has no fixtures", r.ID)
		}
		d := r.Doc
		if d.Why == "" || d.Runtime == "" || d.Fix == "" || d.Source == "" || d.Bad == "" || d.Good == "" {
			t.Errorf("%s: incomplete Doc", r.ID)
		}
		if r.RunsIn(diagnostics.ProfileKubernetes) || r.RunsIn(diagnostics.ProfileDocker) || !r.RunsIn(diagnostics.ProfileOpenShift) {
			t.Errorf("%s: must run in the openshift profile only", r.ID)
		}
	}
	if n != 4 {
		t.Errorf("%d NR5xx rules, want 4", n)
	}
}
