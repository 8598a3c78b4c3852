package helm_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
)

// TestMain gives the internal tests Helm's engine (the helm package cannot import it).
func TestMain(m *testing.M) {
	helm.SetTestRender(helmrender.Render)
	os.Exit(m.Run())
}

// TestRules runs every fixture workspace under testdata/rules/NR4xx.
func TestRules(t *testing.T) {
	for _, rule := range []string{"NR401", "NR402", "NR403", "NR404"} {
		for _, dir := range diagtest.Dirs(t, filepath.Join("..", "..", "testdata", "rules", rule)) {
			t.Run(rule+"/"+filepath.Base(dir), func(t *testing.T) { diagtest.Run(t, alltest.Engine(), dir) })
		}
	}
}

// TestNR402FallbackIsInfo: a securityContext written in the else branch of an if on the values
// one is the chart's default, reported as info, and a hard-coded one as the rule's warning.
func TestNR402FallbackIsInfo(t *testing.T) {
	for dir, want := range map[string]diagnostics.Severity{"fallback": diagnostics.SeverityInfo, "hardcoded": diagnostics.SeverityWarning} {
		root, err := filepath.Abs(filepath.Join("..", "..", "testdata", "rules", "NR402", dir))
		if err != nil {
			t.Fatal(err)
		}
		s := alltest.Engine().NewSnapshot([]string{root}, diagnostics.Config{})
		n := 0
		for _, p := range s.Walk() {
			for _, f := range s.Diagnose(context.Background(), p) {
				if f.RuleID == "NR402" {
					n++
					if f.Severity != want {
						t.Errorf("%s: %s is %s, want %s", dir, f, f.Severity, want)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no NR402 finding", dir)
		}
	}
}
