package codeactions_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// TestCrossFileFixes checks the second action of the workspace rules: it edits the other
// file (the Dockerfile), and applying it makes the manifest's finding disappear.
func TestCrossFileFixes(t *testing.T) {
	for _, c := range []struct {
		dir, file, rule, title, dockerfile, want string
	}{
		{"NR301/runasuser", "deploy/deployment.yaml", "NR301", "Make USER numeric in app/Dockerfile: app → 10001", "app/Dockerfile",
			"FROM alpine:3.21\nRUN adduser -D -u 10001 -G root app\nUSER 10001\nENTRYPOINT [\"/usr/local/bin/app\"]\n"},
		{"NR302/runasuser", "k8s/api.yaml", "NR302", "Set USER 10001:0 in api/Dockerfile", "api/Dockerfile",
			"FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates\nCOPY api /usr/local/bin/api\nUSER 10001:0\nCMD [\"api\"]\n"},
		{"NR307/user", "compose.yaml", "NR307", "Set USER 10001:0 in api/Dockerfile", "api/Dockerfile",
			"FROM python:3.13-slim\nCOPY . /srv\nUSER 10001:0\nCMD [\"python\", \"/srv/main.py\"]\n"},
	} {
		dir, _ := filepath.Abs(filepath.Join("../testdata/fixes", c.dir))
		s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
		path := filepath.Join(s.Roots()[0], c.file)
		var fd *diagnostics.Finding
		for _, f := range s.Diagnose(context.Background(), path) {
			if f.RuleID == c.rule {
				fd = &f
				break
			}
		}
		if fd == nil {
			t.Fatalf("%s: no %s finding", c.dir, c.rule)
		}
		actions := codeactions.Sorted(codeactions.For(context.Background(), s, *fd))
		if len(actions) != 2 || !actions[0].Preferred || actions[1].Preferred {
			t.Fatalf("%s: actions = %+v", c.dir, actions)
		}
		a := actions[1]
		df := filepath.Join(s.Roots()[0], c.dockerfile)
		if a.Title != c.title || len(a.Edits) != 1 || a.Edits[0].Path != df {
			t.Fatalf("%s: second action %q edits %+v", c.dir, a.Title, a.Edits)
		}
		f, _ := s.File(df)
		got, err := text.Apply(f.Text, a.Edits[0].Edits)
		if err != nil || got != c.want {
			t.Fatalf("%s: Dockerfile after the fix:\n%s\nwant:\n%s (%v)", c.dir, got, c.want, err)
		}
		next := s.WithFile(df, 2, "dockerfile", got)
		for _, f := range next.Diagnose(context.Background(), fd.File) {
			if f.RuleID == c.rule && f.Range == fd.Range {
				t.Errorf("%s: %s still reported after the Dockerfile fix: %s", c.dir, c.rule, f.Message)
			}
		}
		if strings.Contains(a.Title, "\n") {
			t.Errorf("bad title %q", a.Title)
		}
	}
}
