package dockerfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
)

// TestRules runs every fixture under testdata/rules/NR0xx and NR1xx (firing and not firing).
func TestRules(t *testing.T) {
	root := "../../testdata/rules"
	ids, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		name := id.Name()
		if !id.IsDir() || len(name) != 5 || (name[:3] != "NR1" && name != "NR001") {
			continue
		}
		for _, dir := range diagtest.Dirs(t, filepath.Join(root, name)) {
			t.Run(name+"/"+filepath.Base(dir), func(t *testing.T) { diagtest.Run(t, dir) })
		}
		seen[name] = true
	}
	for _, r := range diagnostics.Rules() {
		if r.ID >= "NR101" && r.ID <= "NR199" && !seen[r.ID] {
			t.Errorf("%s has no fixtures under %s", r.ID, root)
		}
	}
}

// TestRuleDocs checks that every Dockerfile rule is fully documented.
func TestRuleDocs(t *testing.T) {
	for _, r := range diagnostics.Rules() {
		if r.ID < "NR101" || r.ID > "NR199" {
			continue
		}
		d := r.Doc
		if d.Why == "" || d.Runtime == "" || d.Fix == "" || d.Source == "" || d.Bad == "" || d.Good == "" {
			t.Errorf("%s: incomplete Doc", r.ID)
		}
	}
}
