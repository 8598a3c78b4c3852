package dockerfile_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// TestFromCatalogImages: a stage FROM each of the ten public images (the fixtures
// testdata/rules/NR101/from-*, which say what NR101 reports) runs as the image's user, and
// the hover on FROM shows the catalog entry with its provenance.
func TestFromCatalogImages(t *testing.T) {
	cases := map[string]struct{ user, origin string }{
		"nginx":     {"root (uid 0)", "nginx/docker-nginx mainline/debian/Dockerfile@"},
		"postgres":  {"root (uid 0)", "docker-library/postgres 16/trixie/Dockerfile@"},
		"redis":     {"root (uid 0)", "redis/docker-library-redis 7.2/debian/Dockerfile@"},
		"mysql":     {"root (uid 0)", "docker-library/mysql 8.4/Dockerfile.oracle@"},
		"mongo":     {"root (uid 0)", "docker-library/mongo 7.0/Dockerfile@"},
		"httpd":     {"root (uid 0)", "docker-library/httpd 2.4/Dockerfile@"},
		"rabbitmq":  {"root (uid 0)", "docker-library/rabbitmq "},
		"grafana":   {"uid 472, gid 0", "grafana/grafana Dockerfile@"},
		"jenkins":   {"jenkins (uid 1000)", "jenkinsci/docker debian/Dockerfile@"},
		"memcached": {"memcache (uid 11211)", "docker-library/memcached 1/debian/Dockerfile@"},
	}
	eng := alltest.Engine()
	for name, want := range cases {
		dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "rules", "NR101", "from-"+name))
		if err != nil {
			t.Fatal(err)
		}
		s := eng.NewSnapshot([]string{dir}, diagnostics.Config{})
		p := filepath.Join(dir, "Dockerfile")
		f, err := s.File(p)
		if err != nil {
			t.Fatal(err)
		}
		_, st := dockerfile.BuiltStage(s, f)
		if st == nil {
			t.Fatalf("%s: no built stage", name)
		}
		if got := st.User().Describe(); got != want.user || st.User().Source != dockerfile.SourceBase {
			t.Errorf("FROM %s: user %s from %s, want %s from the base image", name, got, st.User().From(), want.user)
		}
		h := s.Hover(context.Background(), p, text.Pos{Line: st.From.Line(), Col: 1})
		if h == nil || !strings.Contains(h.Markdown, "**Image catalog:**") || !strings.Contains(h.Markdown, want.origin) {
			t.Errorf("FROM %s: hover lacks the catalog entry from %s:\n%v", name, want.origin, h)
		}
	}
}

// TestUserOfBaseImage: a USER name the Dockerfile does not create resolves through the
// users the base image's build creates (the catalog's Users), and a uid gets their name.
func TestUserOfBaseImage(t *testing.T) {
	for src, want := range map[string]string{
		"FROM postgres:16\nUSER postgres\n":                   "postgres (uid 999)",
		"FROM redis:7.2\nUSER 999\n":                          "uid 999, gid 999",
		"FROM jenkins/jenkins:lts\nUSER root\nUSER jenkins\n": "jenkins (uid 1000)",
		"FROM alpine:3.20\nUSER postgres\n":                   "postgres",
	} {
		m := dockerfile.ParseWith("/ctx/Dockerfile", src, nil)
		u := m.Built("").User()
		if got := u.Describe(); got != want {
			t.Errorf("%q: user %s, want %s", src, got, want)
		}
	}
	m := dockerfile.ParseWith("/ctx/Dockerfile", "FROM redis:7.2\nUSER 999\n", nil)
	if u := m.Built("").User(); u.Name != "redis" {
		t.Errorf("USER 999 FROM redis: name %q, want redis", u.Name)
	}
}
