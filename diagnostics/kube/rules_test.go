package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

// fixtureDirs returns every testdata/rules/NR2xx/<case> workspace.
func fixtureDirs(t *testing.T) []string {
	rules, _ := filepath.Glob("../../testdata/rules/NR2*")
	if len(rules) == 0 {
		t.Fatal("no NR2xx fixtures")
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
		// The same fixture with CRLF line endings gives the same findings.
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

// Every NR2xx rule has a firing fixture.
func TestEveryRuleHasFixture(t *testing.T) {
	for _, r := range diagnostics.Rules() {
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
