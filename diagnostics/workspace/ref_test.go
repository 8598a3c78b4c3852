package workspace

import "testing"

func TestParseRef(t *testing.T) {
	for _, c := range []struct {
		in                                string
		registry, repo, tag, digest, name string
	}{
		{"nginx", "", "nginx", "", "", "nginx"},
		{"nginx:1.27", "", "nginx", "1.27", "", "nginx"},
		{"docker.io/library/nginx:1.27", "docker.io", "nginx", "1.27", "", "nginx"},
		{"index.docker.io/acme/web", "docker.io", "acme/web", "", "", "web"},
		{"ghcr.io/Acme/Web:v1", "ghcr.io", "acme/web", "v1", "", "web"},
		{"localhost:5000/acme/web:dev", "localhost:5000", "acme/web", "dev", "", "web"},
		{"registry.example.com:5000/team/app@sha256:abcd", "registry.example.com:5000", "team/app", "", "sha256:abcd", "app"},
		{"registry.example.com:5000/team/app:1.2@sha256:abcd", "registry.example.com:5000", "team/app", "1.2", "sha256:abcd", "app"},
		{"localhost/app", "localhost", "app", "", "", "app"},
		{"acme/web", "", "acme/web", "", "", "web"},
		{`"acme/web:1"`, "", "acme/web", "1", "", "web"},
		{"${REGISTRY}/acme/web:${TAG}", "${registry}", "acme/web", "${TAG}", "", "web"},
		{"registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0", "registry.k8s.io", "kube-state-metrics/kube-state-metrics", "v2.13.0", "", "kube-state-metrics"},
		{"ko://github.com/acme/proj/cmd/server", "", "github.com/acme/proj/cmd/server", "", "", "server"},
	} {
		r := ParseRef(c.in)
		if r.Registry != c.registry || r.Repository != c.repo || r.Tag != c.tag || r.Digest != c.digest || r.Name() != c.name {
			t.Errorf("ParseRef(%q) = %+v (name %q), want registry %q repo %q tag %q digest %q name %q",
				c.in, r, r.Name(), c.registry, c.repo, c.tag, c.digest, c.name)
		}
	}
	if r := ParseRef("./web/"); r.Local != "./web" || r.Key() != "" {
		t.Errorf("ParseRef(./web/) = %+v", r)
	}
}

func TestNormalizeImageMatches(t *testing.T) {
	same := [][2]string{
		{"ghcr.io/acme/web:1.0", "acme/web"},
		{"localhost:5000/acme/web@sha256:ff", "acme/web:latest"},
		{"docker.io/library/nginx", "nginx:alpine"},
	}
	for _, p := range same {
		if NormalizeImage(p[0]) != NormalizeImage(p[1]) {
			t.Errorf("%q and %q should normalise alike: %q vs %q", p[0], p[1], NormalizeImage(p[0]), NormalizeImage(p[1]))
		}
	}
	if NormalizeImage("acme/web") == NormalizeImage("acme/api") {
		t.Error("different repositories must not match")
	}
	if !suffixMatch("gcr.io-project/acme/web", "acme/web") || suffixMatch("acme/superweb", "web") || !suffixMatch("acme/web", "web") {
		t.Error("suffixMatch is wrong")
	}
}
