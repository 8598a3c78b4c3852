package helm_test

import (
	"path/filepath"
	"testing"

	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender" // Helm's engine, in-process
)

// TestRules runs every fixture workspace under testdata/rules/NR4xx.
func TestRules(t *testing.T) {
	for _, rule := range []string{"NR401", "NR402", "NR403", "NR404"} {
		for _, dir := range diagtest.Dirs(t, filepath.Join("..", "..", "testdata", "rules", rule)) {
			t.Run(rule+"/"+filepath.Base(dir), func(t *testing.T) { diagtest.Run(t, dir) })
		}
	}
}
