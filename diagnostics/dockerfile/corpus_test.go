package dockerfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"

	"sigs.k8s.io/yaml"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
)

// finalUser renders the built stage's effective user the way labels.yaml writes it.
func finalUser(u dockerfile.User) string {
	switch u.Kind {
	case dockerfile.KindRoot:
		return "root"
	case dockerfile.KindNumeric:
		s := fmt.Sprintf("numeric:%d", *u.UID)
		if u.Group != "" {
			s += ":" + u.Group
		}
		return s
	case dockerfile.KindNamed:
		return "named:" + u.Name
	}
	return "inherited-unknown"
}

// TestCorpus reads every Dockerfile of the shared corpus: no crash, every rule and the
// inspect run, and the built stage's effective user equals final_user in labels.yaml.
func TestCorpus(t *testing.T) {
	dir := diagtest.CorpusDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "labels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Files map[string]struct {
			FinalUser string `json:"final_user"`
		} `json:"files"`
	}
	if err := yaml.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, v := range labels.Files {
		if strings.HasPrefix(k, "dockerfile/") && v.FinalUser != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	snap := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	agree, total := 0, 0
	for _, k := range keys {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if _, err := os.Stat(p); err != nil {
			t.Logf("%s: labelled but absent, skipped", k)
			continue
		}
		total++
		m, err := dockerfile.For(snap, p)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if len(m.Problems) > 0 {
			t.Errorf("%s: problems %v", k, m.Problems)
		}
		for _, f := range snap.Diagnose(context.Background(), p) {
			if f.RuleID == "NR001" {
				t.Errorf("%s: %s", k, f)
			}
		}
		if _, err := snap.Inspect(context.Background(), p); err != nil {
			t.Errorf("%s: inspect: %v", k, err)
		}
		u := m.Built("").User()
		got := finalUser(u)
		want := labels.Files[k].FinalUser
		if got == want {
			agree++
		} else if anc := m.Built("").Ancestry(); want == "inherited-unknown" && u.Source == dockerfile.SourceBase && anc[len(anc)-1].Base != nil {
			// The label predates the image catalog, which now knows the base image.
			agree++
			t.Logf("%s: final user %s from the image catalog (%s), label says %s", k, got, anc[len(anc)-1].Base.Why, want)
		} else {
			t.Errorf("%s: final user %s, label says %s", k, got, want)
		}
	}
	t.Logf("corpus agreement on final_user: %d/%d", agree, total)
}
