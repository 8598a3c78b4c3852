package workspace

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// hoverOn returns the hover on the image value of the first line of file holding image.
func hoverOn(t *testing.T, s *diagnostics.Snapshot, file, image string) string {
	t.Helper()
	p := filepath.Join(s.Roots()[0], file)
	f, err := s.File(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < f.Lines().Count(); i++ {
		line := f.Lines().Line(i)
		if col := strings.Index(line, image); col >= 0 && strings.Contains(line, "image:") {
			if h := s.Hover(context.Background(), p, text.Pos{Line: i, Col: col + 1}); h != nil {
				return h.Markdown
			}
			t.Fatalf("%s: no hover on %s (line %d)", file, image, i+1)
		}
	}
	t.Fatalf("%s: no line with image %s", file, image)
	return ""
}

// TestCatalogHover: on the image of a container that no Dockerfile of the workspace builds,
// the hover shows the catalog entry (user, why, step-down, paths, sources) and who the
// container runs as; an image the catalog does not know is said to be unknown; a linked image
// shows its Dockerfile, not the catalog.
func TestCatalogHover(t *testing.T) {
	s := snap(t, filepath.Join(fixtures, "catalog-deployments"))
	for _, c := range []struct {
		image string
		want  []string
	}{
		{"postgres:16", []string{"**Image catalog:** `postgres:16` runs as **root** — no USER: inherited from the base image debian:trixie-slim (root).",
			"**Entrypoint:** steps down to postgres (uid 999) with gosu when started as root", "`/var/lib/postgresql/data` (VOLUME, owner postgres 999:999, mode 1777)",
			"**Ports:** 5432/tcp", "- docker-library/postgres 16/trixie/Dockerfile@", "**Runs as:** nothing: the kubelet refuses to start it"}},
		{"nginx:1.27", []string{"The catalog does not list tag `1.27`", "default family"}},
		{"jenkins/jenkins:lts-jdk17", []string{"runs as **jenkins (uid 1000)**", "NR301"}},
		{"grafana/grafana:11.2.0", []string{"runs as **uid 472 (grafana)**", "- grafana/grafana Dockerfile@", "(overlay)"}},
		{"registry.example.com/team/postgres:16", []string{"is not in the image catalog: the user it runs as is unknown"}},
	} {
		md := hoverOn(t, s, "deployments.yaml", c.image)
		for _, w := range c.want {
			if !strings.Contains(md, w) {
				t.Errorf("hover on %s lacks %q:\n%s", c.image, w, md)
			}
		}
	}
	s = snap(t, filepath.Join(fixtures, "catalog-link-wins"))
	if md := hoverOn(t, s, "k8s/db.yaml", "postgres:16"); !strings.Contains(md, "**Built by** `db/Dockerfile`") || strings.Contains(md, "Image catalog") {
		t.Errorf("a linked image's hover is its Dockerfile's:\n%s", md)
	}
}

// TestCatalogFixes: NR301/NR302 on a public image set runAsUser to the uid the image runs as
// (postgres 999, redis 999, jenkins 1000, memcached 11211), else the configured default with a
// note in the title.
func TestCatalogFixes(t *testing.T) {
	s := snap(t, filepath.Join(fixtures, "catalog-deployments")).WithSettings(onlyWorkspaceRules())
	p := filepath.Join(s.Roots()[0], "deployments.yaml")
	want := map[string]string{
		`"postgres"`:  "Add runAsUser: 999 to container \"postgres\"",
		`"redis"`:     "Add runAsUser: 999 to container \"redis\"",
		`"mongo"`:     "Add runAsUser: 999 to container \"mongo\"",
		`"jenkins"`:   "Add runAsUser: 1000 to container \"jenkins\"",
		`"memcached"`: "Add runAsUser: 11211 to container \"memcached\"",
		`"nginx"`:     "Add runAsUser: 10001 to container \"nginx\" (nginx has no non-root user of its own: 10001 is the configured default",
		`"httpd"`:     "Add runAsUser: 10001 to container \"httpd\" (httpd has no non-root user of its own",
	}
	found := 0
	for _, f := range s.Diagnose(context.Background(), p) {
		for name, title := range want {
			if !strings.Contains(f.Message, "container "+name+" ") {
				continue
			}
			found++
			r := s.Engine().RuleByID(f.RuleID)
			acts := r.Fix(context.Background(), s, f)
			if len(acts) == 0 || !strings.HasPrefix(acts[0].Title, title) || !acts[0].Preferred {
				t.Errorf("%s on %s: actions %+v, want first %q", f.RuleID, name, acts, title)
			}
		}
	}
	if found != len(want) {
		t.Errorf("%d of the %d findings fixed", found, len(want))
	}
}

// TestCatalogInspect: inspect on a manifest says, per container, who the image runs as and
// whether that comes from a workspace link or the catalog, with the catalog's provenance.
func TestCatalogInspect(t *testing.T) {
	s := snap(t, filepath.Join(fixtures, "catalog-link-wins"))
	root := s.Roots()[0]
	db := s.Image(filepath.Join(root, "k8s/db.yaml"), "postgres:16")
	if db == nil || db.Source != "workspace" || db.Dockerfile != "db/Dockerfile" || db.Kind != "numeric" || *db.UID != 999 || !strings.HasPrefix(db.Link, "compose, compose.yaml line") {
		t.Errorf("postgres:16 (linked): %+v", db)
	}
	cache := s.Image(filepath.Join(root, "k8s/db.yaml"), "redis:7.2")
	if cache == nil || cache.Source != "catalog" || cache.Kind != "root" || !strings.Contains(cache.StepDown, "steps down to redis (uid 999) with gosu when started as root") ||
		len(cache.Provenance) == 0 || !strings.Contains(strings.Join(cache.Provenance, "\n"), "redis/docker-library-redis 7.2/debian/Dockerfile@") {
		t.Errorf("redis:7.2 (catalog): %+v", cache)
	}
	if u := s.Image(filepath.Join(root, "k8s/db.yaml"), "registry.example.com/x:1"); u == nil || u.Source != "unknown" || u.UID != nil {
		t.Errorf("an unknown image: %+v", u)
	}
}
