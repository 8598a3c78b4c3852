package diagtest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// FixturesRoot is where rule fixtures live, relative to a package under diagnostics/.
const FixturesRoot = "../../testdata/rules"

// Fixtures returns every case folder testdata/rules/<ID>/<case> whose rule ID starts with prefix.
func Fixtures(t *testing.T, prefix string) []string {
	t.Helper()
	rules, _ := filepath.Glob(filepath.Join(FixturesRoot, prefix+"*"))
	if len(rules) == 0 {
		t.Fatalf("no fixtures under %s/%s*", FixturesRoot, prefix)
	}
	var out []string
	for _, r := range rules {
		out = append(out, Dirs(t, r)...)
	}
	return out
}

// RunFixtures runs with eng every fixture of the rules whose ID starts with prefix, as written
// and again with CRLF line endings (which must give the same findings), and checks that every
// rule of eng with that prefix has at least one fixture folder.
func RunFixtures(t *testing.T, eng *diagnostics.Engine, prefix string) {
	t.Helper()
	seen := map[string]bool{}
	for _, dir := range Fixtures(t, prefix) {
		name := strings.TrimPrefix(filepath.ToSlash(dir), FixturesRoot+"/")
		seen[strings.SplitN(name, "/", 2)[0]] = true
		t.Run(name, func(t *testing.T) { Run(t, eng, dir) })
		t.Run(name+"/crlf", func(t *testing.T) {
			abs, _ := filepath.Abs(dir)
			s := eng.NewSnapshot([]string{abs}, diagnostics.Config{})
			for _, p := range s.Walk() {
				f, err := s.File(p)
				if err != nil {
					t.Fatal(err)
				}
				s = s.WithFile(p, 1, f.LanguageID, strings.ReplaceAll(f.Text, "\n", "\r\n"))
			}
			RunSnapshot(t, s)
		})
	}
	for _, r := range eng.Rules() {
		if strings.HasPrefix(r.ID, prefix) && !seen[r.ID] {
			t.Errorf("%s has no fixtures under %s", r.ID, FixturesRoot)
		}
	}
}
