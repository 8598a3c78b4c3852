package workspace

import (
	"context"
	"strconv"

	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

// onlyWorkspaceRules turns off every rule but NR001 and NR3xx, so the fixtures state only
// what the workspace rules find (the Dockerfile and Kubernetes groups have their own).
func onlyWorkspaceRules() diagnostics.Config {
	c := diagnostics.Config{Rules: map[string]string{}}
	for _, r := range testRules {
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
			diagtest.RunSnapshot(t, testEngine(t).NewSnapshot([]string{abs}, onlyWorkspaceRules()))
		})
	}
}

// TestRelatedPointsAtTheOtherFile checks the related information of NR3xx findings: the
// Dockerfile's exact USER argument (or FROM image), and the manifest field involved.
func TestRelatedPointsAtTheOtherFile(t *testing.T) {
	for _, c := range []struct {
		dir, file string
		want      []string // "file:range message-prefix" of the first finding's related
		findings  int      // in the file
	}{
		{"nr301-named-user", "deploy/deployment.yaml", []string{
			"app/Dockerfile:3:6-3:9 the image's user: app (uid 10001) (USER app)",
			"deploy/deployment.yaml:9:23-9:27 runAsNonRoot: true is set here",
		}, 1},
		{"nr302-root", "k8s/api.yaml", []string{
			"api/Dockerfile:1:6-1:15 the image's user: root (uid 0), inherited from base image debian:12",
			"k8s/api.yaml:13:27-13:31 runAsNonRoot: true is set here",
			"compose.yaml:4:5-4:17 compose links ghcr.io/acme/api to api/Dockerfile",
		}, 1},
		{"nr307-compose", "compose.yaml", []string{
			"api/Dockerfile:",
			"compose.yaml:4:5-4:17 compose builds the image from api/Dockerfile",
		}, 3},
		{"nr304-gosu", "k8s/db.yaml", []string{
			"db/docker-entrypoint.sh:",
		}, 1},
	} {
		s := snap(t, filepath.Join(fixtures, c.dir))
		s = s.WithSettings(onlyWorkspaceRules())
		fs := s.Diagnose(context.Background(), filepath.Join(s.Roots()[0], c.file))
		if len(fs) != c.findings {
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

// TestHoverAndNavigation checks the hover on image: (link, evidence, image user, who the
// container runs as; candidates when ambiguous; conflicts), definition and references.
func TestHoverAndNavigation(t *testing.T) {
	hoverAt := func(dir, file string, line int) string {
		t.Helper()
		s := snap(t, filepath.Join(fixtures, dir))
		p := filepath.Join(s.Roots()[0], file)
		f, err := s.File(p)
		if err != nil {
			t.Fatal(err)
		}
		col := strings.Index(f.Lines().Line(line), "image: ") + len("image: ") + 1
		h := s.Hover(context.Background(), p, text.Pos{Line: line, Col: col})
		if h == nil {
			t.Fatalf("%s: no hover at %d:%d", dir, line+1, col+1)
		}
		return h.Markdown
	}
	for _, c := range []struct {
		dir, file string
		line      int
		want      []string
	}{
		{"nr301-named-user", "deploy/deployment.yaml", 12, []string{"**Built by** `app/Dockerfile`", "heuristic", "**Image user:** app (uid 10001)", "kubelet refuses to start it"}},
		{"link-ambiguous", "pod.yaml", 9, []string{"is not linked", "`a/worker/Dockerfile`", "`b/worker/Dockerfile`", "images:"}},
		{"link-conflict", "pod.yaml", 9, []string{"config, `.nonroot-ls.yaml` line 2", "**Conflict:** compose, `compose.yaml` line 4", "`legacy/Dockerfile`"}},
		{"link-tags", "k8s/demo.yaml", 19, []string{"is not linked", "under different tags", "`src/cart/Dockerfile`", "`src/shipping/Dockerfile`", "`src/checkout/Dockerfile`"}},
		{"link-tags", "k8s/demo.yaml", 11, []string{"**Built by** `src/cart/Dockerfile`", "compose, `compose.yaml` line 6 (tags `*-cart`)"}},
		{"link-owner", "deploy/podinfo.yaml", 14, []string{"is not linked", "builds `ghcr.io/stefanprodan/podinfo`", "Rejected candidate", "`test/podinfo/Dockerfile`"}},
		{"link-github-actions", "k8s-specifications/vote-deployment.yaml", 11, []string{"**Built by** `vote/Dockerfile`", "github-actions, `.github/workflows/images.yml` line 20"}},
		{"link-kustomize", "base/deploy.yaml", 11, []string{"kustomize, `overlays/prod/kustomization.yaml` line 5, then compose, `compose.yaml` line 4", "uid 101"}},
	} {
		md := hoverAt(c.dir, c.file, c.line)
		for _, w := range c.want {
			if !strings.Contains(md, w) {
				t.Errorf("%s hover lacks %q:\n%s", c.dir, w, md)
			}
		}
	}

	s := snap(t, filepath.Join(fixtures, "link-compose"))
	root := s.Roots()[0]
	defs := s.Definition(context.Background(), filepath.Join(root, "k8s/deploy.yaml"), text.Pos{Line: 11, Col: 20})
	if len(defs) != 1 || relT(s, defs[0].File) != "web/Dockerfile" || defs[0].Range.Start.Line != 4 {
		t.Errorf("definition = %+v, want the FROM of stage runtime (line 5)", defs)
	}
	var refs []string
	for _, l := range s.References(context.Background(), filepath.Join(root, "web/Dockerfile"), text.Pos{Line: 6, Col: 1}) {
		refs = append(refs, relT(s, l.File)+":"+strconv.Itoa(l.Range.Start.Line+1))
	}
	if strings.Join(refs, " ") != "compose.yaml:8 compose.yaml:12 k8s/deploy.yaml:12" {
		t.Errorf("references of USER in stage runtime = %v", refs)
	}
	if got := s.References(context.Background(), filepath.Join(root, "web/Dockerfile"), text.Pos{Line: 10, Col: 1}); len(got) != 0 {
		t.Errorf("references of USER in the debug stage (nothing runs it) = %v", got)
	}
}

// TestImageFollowsTheDockerfile: what NR201 says of a container whose image is linked to
// a Dockerfile follows that Dockerfile's edits, though the manifest (whose findings are kept
// with its workloads) does not change.
func TestImageFollowsTheDockerfile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "app/Dockerfile", "FROM alpine:3.20\nUSER 10001:0\n")
	write(t, dir, "deploy.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: acme/app\n")
	s := snap(t, dir)
	root := s.Roots()[0]
	nr201 := func(s *diagnostics.Snapshot) string {
		for _, f := range s.Diagnose(context.Background(), filepath.Join(root, "deploy.yaml")) {
			if f.RuleID == "NR201" {
				return f.Message
			}
		}
		return ""
	}
	if got := nr201(s); !strings.Contains(got, "runs as uid 10001, gid 0 (the image's user, USER on line 2 of app/Dockerfile), but runAsNonRoot is set at neither") {
		t.Errorf("linked non-root image: %q", got)
	}
	s = s.WithFile(filepath.Join(root, "app/Dockerfile"), 1, "dockerfile", "FROM alpine:3.20\nUSER root\n")
	if got := nr201(s); !strings.Contains(got, "may run as root") {
		t.Errorf("after the Dockerfile's USER became root: %q", got)
	}
}
