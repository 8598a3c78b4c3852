package workspace

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

// onlyWorkspaceRules turns off every rule but NR001 and NR3xx, so the fixtures state only
// what the workspace rules find (the Dockerfile and Kubernetes groups have their own).
func onlyWorkspaceRules() diagnostics.Config {
	c := diagnostics.Config{Rules: map[string]string{}}
	for _, r := range diagnostics.Rules() {
		if r.ID != "NR001" && !strings.HasPrefix(r.ID, "NR3") {
			c.Rules[r.ID] = "off"
		}
	}
	return c
}

// TestFixtures runs every workspace under testdata/workspaces against its want comments.
func TestFixtures(t *testing.T) {
	for _, dir := range diagtest.Dirs(t, fixtures) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			diagtest.RunSnapshot(t, diagnostics.NewSnapshot([]string{abs}, onlyWorkspaceRules()))
		})
	}
}

// TestRelatedPointsAtTheOtherFile checks the related information of NR3xx findings: the
// Dockerfile's exact USER argument (or FROM image), and the manifest field involved.
func TestRelatedPointsAtTheOtherFile(t *testing.T) {
	for _, c := range []struct {
		dir, file string
		want      []string // "file:range message-prefix"
	}{
		{"nr301-named-user", "deploy/deployment.yaml", []string{
			"app/Dockerfile:3:6-3:9 the image's user: app (uid 10001) (USER app)",
			"deploy/deployment.yaml:9:23-9:27 runAsNonRoot: true is set here",
		}},
		{"nr302-root", "k8s/api.yaml", []string{
			"api/Dockerfile:1:6-1:15 the image's user: root (uid 0), inherited from base image debian:12",
			"k8s/api.yaml:13:27-13:31 runAsNonRoot: true is set here",
			"compose.yaml:4:5-4:17 compose links ghcr.io/acme/api to api/Dockerfile",
		}},
		{"nr304-gosu", "k8s/db.yaml", []string{
			"db/docker-entrypoint.sh:",
		}},
	} {
		s := snap(t, filepath.Join(fixtures, c.dir))
		s = s.WithSettings(onlyWorkspaceRules())
		fs := s.Diagnose(filepath.Join(s.Roots()[0], c.file))
		if len(fs) != 1 {
			t.Fatalf("%s: %d findings: %v", c.dir, len(fs), fs)
		}
		var got []string
		for _, r := range fs[0].Related {
			got = append(got, relT(s, r.File)+":"+r.Range.String()+" "+r.Message)
		}
		for i, w := range c.want {
			if i >= len(got) || !strings.HasPrefix(got[i], w) {
				t.Errorf("%s: related = %q, want %q at %d", c.dir, got, w, i)
			}
		}
	}
}
