package openshift_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

// fixtureDirs returns every testdata/rules/NR5xx/<case> workspace.
func fixtureDirs(t *testing.T) []string {
	rules, _ := filepath.Glob("../../testdata/rules/NR5*")
	if len(rules) == 0 {
		t.Fatal("no NR5xx fixtures")
	}
	var out []string
	for _, r := range rules {
		out = append(out, diagtest.Dirs(t, r)...)
	}
	return out
}

func TestRules(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		name := strings.TrimPrefix(filepath.ToSlash(dir), "../../testdata/rules/")
		t.Run(name, func(t *testing.T) { diagtest.Run(t, dir) })
		// CRLF line endings give the same findings.
		t.Run(name+"/crlf", func(t *testing.T) {
			abs, _ := filepath.Abs(dir)
			s := diagnostics.NewSnapshot([]string{abs}, diagnostics.Config{})
			for _, p := range s.Walk() {
				f, err := s.File(p)
				if err != nil {
					t.Fatal(err)
				}
				s = s.WithFile(p, 1, f.LanguageID, strings.ReplaceAll(f.Text, "\n", "\r\n"))
			}
			diagtest.RunSnapshot(t, s)
		})
	}
}

// Every NR5xx rule has fixtures, runs only in the openshift profile and has a complete Doc.
func TestEveryRule(t *testing.T) {
	n := 0
	for _, r := range diagnostics.Rules() {
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
