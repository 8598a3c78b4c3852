package dockerfile_test

import (
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
)

// TestRules runs every fixture under testdata/rules/NR001 and NR1xx (firing and not firing),
// also with CRLF line endings.
func TestRules(t *testing.T) {
	diagtest.RunFixtures(t, alltest.Engine(), "NR001")
	diagtest.RunFixtures(t, alltest.Engine(), "NR1")
}

// TestRuleDocs checks that every Dockerfile rule is fully documented.
func TestRuleDocs(t *testing.T) {
	for _, r := range dockerfile.Rules {
		if r.ID < "NR101" || r.ID > "NR199" {
			continue
		}
		d := r.Doc
		if d.Why == "" || d.Runtime == "" || d.Fix == "" || d.Source == "" || d.Bad == "" || d.Good == "" {
			t.Errorf("%s: incomplete Doc", r.ID)
		}
	}
}
