package helm_test

import (
	"os"
	"path/filepath"
	"testing"

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
