package imagecatalog

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestCatalogWellFormed decodes the embedded catalog strictly and checks every entry
// (Validate: normalised repositories, tags, patterns, one default per repository, user fields
// consistent, provenance with 40-hex commits), then that every example resolves to its entry.
func TestCatalogWellFormed(t *testing.T) {
	c, err := Decode(bytes.NewReader(catalogJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Images) == 0 {
		t.Fatal("empty catalog")
	}
	repos := map[string]bool{}
	ix := NewIndex(c)
	for i, e := range c.Images {
		for _, r := range e.Repositories {
			repos[r] = true
		}
		for _, n := range e.Namespaces {
			repos[n+"/*"] = true
		}
		for _, p := range e.RepoPatterns {
			repos[p] = true
		}
		res := ix.Lookup(e.Example)
		if res.Entry != e {
			got := "nothing"
			if res.Entry != nil {
				got = res.Entry.Example
			}
			t.Errorf("entry %d: example %q resolves to %s (%v)", i, e.Example, got, res.Match)
		}
	}
	// The embedded catalog's lazy index answers as the index of the decoded catalog, for every
	// example and every tag.
	lazy, err := lazyIndex(catalogJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Images {
		refs := []string{e.Example}
		for _, r := range e.Repositories {
			for _, tag := range e.Tags {
				refs = append(refs, r+":"+tag)
			}
		}
		for _, ref := range refs {
			want, got := ix.Lookup(ref), lazy.Lookup(ref)
			if !reflect.DeepEqual(want, got) {
				t.Errorf("%s: the lazy index answers %+v, the decoded catalog %+v", ref, got, want)
			}
		}
	}
	if len(repos) < 150 {
		t.Errorf("%d repositories, want at least 150", len(repos))
	}
	t.Logf("%d entries, %d repositories", len(c.Images), len(repos))
}

// TestMalformedEntries: every kind of broken entry is a decode error, not a panic later.
func TestMalformedEntries(t *testing.T) {
	good := `{"repos":["acme/app"],"default":true,"example":"acme/app:1","user":{"config":"1001","uid":1001},"openshift":{"why":"x"},"why":"w","sources":[{"repo":"a/b","commit":"0123456789012345678901234567890123456789","path":"Dockerfile","role":"dockerfile"}]}`
	if _, err := Decode(strings.NewReader(`{"version":1,"images":[` + good + `]}`)); err != nil {
		t.Fatalf("the good entry: %v", err)
	}
	bad := map[string]string{
		"unknown field":     strings.Replace(good, `"why":"w"`, `"why":"w","extra":1`, 1),
		"short commit":      strings.Replace(good, "0123456789012345678901234567890123456789", "0123abc", 1),
		"no sources":        strings.Replace(good, `"sources":[{"repo":"a/b","commit":"0123456789012345678901234567890123456789","path":"Dockerfile","role":"dockerfile"}]`, `"sources":[]`, 1),
		"uid mismatch":      strings.Replace(good, `"uid":1001`, `"uid":1000`, 1),
		"named no name":     strings.Replace(good, `"config":"1001","uid":1001`, `"config":"app","uid":1001`, 1),
		"root with uid":     strings.Replace(good, `"config":"1001","uid":1001`, `"config":"root","uid":5`, 1),
		"not normalised":    strings.Replace(good, `"acme/app"`, `"docker.io/library/acme"`, 1),
		"upper-case tag":    strings.Replace(good, `"default":true`, `"default":true,"tags":["Latest"]`, 1),
		"bad pattern":       strings.Replace(good, `"default":true`, `"default":true,"tagPatterns":["["]`, 1),
		"no default":        strings.Replace(good, `"default":true,`, ``, 1),
		"no example":        strings.Replace(good, `"example":"acme/app:1"`, `"example":""`, 1),
		"relative path":     strings.Replace(good, `"why":"w"`, `"why":"w","paths":[{"path":"data"}]`, 1),
		"bad mode":          strings.Replace(good, `"why":"w"`, `"why":"w","paths":[{"path":"/data","mode":"777"}]`, 1),
		"bad port":          strings.Replace(good, `"why":"w"`, `"why":"w","ports":["http"]`, 1),
		"bad role":          strings.Replace(good, `"role":"dockerfile"`, `"role":"guess"`, 1),
		"step-down no tool": strings.Replace(good, `"why":"w"`, `"why":"w","stepDown":{"user":"app"}`, 1),
		"wildcard registry": strings.Replace(good, `"repos":["acme/app"]`, `"repoPatterns":["*/app"]`, 1),
	}
	for name, e := range bad {
		if _, err := Decode(strings.NewReader(`{"version":1,"images":[` + e + `]}`)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	for _, doc := range []string{``, `{`, `[]`, `{"version":2,"images":[]}`, `{"version":1,"images":[null]}`, `{"version":1,"images":[]} {}`} {
		if _, err := Decode(strings.NewReader(doc)); err == nil {
			t.Errorf("%q: decoded without error", doc)
		}
	}
}

// TestLookupFacts checks the facts the issue names, as generated from the images' own files.
func TestLookupFacts(t *testing.T) {
	type want struct {
		config      string
		uid         int // -1: nil
		stepDown    string
		conditional bool
		stepUID     int
	}
	cases := map[string]want{
		"postgres:16":                               {"", 0, "gosu", true, 999},
		"docker.io/library/postgres:16":             {"", 0, "gosu", true, 999},
		"postgres:16-alpine":                        {"", 0, "gosu", true, 70},
		"redis:7.2":                                 {"", 0, "gosu", true, 999},
		"mysql:8.4":                                 {"", 0, "gosu", true, 999},
		"mongo:7":                                   {"", 0, "gosu", true, 999},
		"memcached:1.6":                             {"memcache", 11211, "", false, 0},
		"grafana/grafana:11.2.0":                    {"472", 472, "", false, 0},
		"jenkins/jenkins:lts-jdk17":                 {"jenkins", 1000, "", false, 0},
		"nginxinc/nginx-unprivileged:1.27":          {"101", 101, "", false, 0},
		"gcr.io/distroless/static-debian12:nonroot": {"65532", 65532, "", false, 0},
		"cgr.dev/chainguard/static:latest":          {"65532", 65532, "", false, 0},
		"bitnami/postgresql:13":                     {"1001", 1001, "", false, 0},
		"quay.io/prometheus/prometheus:v2.54.0":     {"nobody", 65534, "", false, 0},
	}
	for ref, w := range cases {
		res := Lookup(ref)
		e := res.Entry
		if e == nil {
			t.Errorf("%s: unknown", ref)
			continue
		}
		if e.User.Config != w.config || e.User.UID == nil || *e.User.UID != w.uid {
			t.Errorf("%s: user %+v, want config %q uid %d", ref, e.User, w.config, w.uid)
		}
		switch sd := e.StepDown; {
		case w.stepDown == "" && sd != nil:
			t.Errorf("%s: unexpected step-down %+v", ref, sd)
		case w.stepDown != "" && (sd == nil || sd.Tool != w.stepDown || sd.Conditional != w.conditional || sd.UID == nil || *sd.UID != w.stepUID):
			t.Errorf("%s: step-down %+v, want %s conditional=%v uid %d", ref, sd, w.stepDown, w.conditional, w.stepUID)
		}
	}
	// The ingress-nginx controller is built FROM the project's nginx image, which creates its
	// user: the uid comes from the base's users; its binaries have cap_net_bind_service.
	if e := Lookup("registry.k8s.io/ingress-nginx/controller:v1.11.0").Entry; e == nil || e.User.Config != "www-data" || e.User.UID == nil || *e.User.UID != 101 || !e.NetBindService {
		t.Errorf("ingress-nginx controller: %+v", e)
	}
	for _, ref := range []string{"registry.k8s.io/debian-base:bookworm-v1.0.4", "registry.k8s.io/build-image/debian-base:bookworm-v1.0.8", "registry.k8s.io/ingress-nginx/nginx:v2.2.8"} {
		if e := Lookup(ref).Entry; e == nil || !e.User.Root() {
			t.Errorf("%s: %+v, want root", ref, e)
		}
	}
	// minio only switches user when MINIO_USERNAME is set: an opt-in, not a mandatory step-down.
	if sd := Lookup("minio/minio:latest").Entry.StepDown; sd == nil || sd.Env != "MINIO_USERNAME" || sd.Conditional || sd.Mandatory() {
		t.Errorf("minio step-down: %+v", sd)
	}
	if sd := Lookup("plone:5.2.14-python38").Entry.StepDown; !sd.Mandatory() {
		t.Errorf("plone 5.2 step-down: %+v, want mandatory", sd)
	}
	// Per-family facts differ where the images do.
	if a, b := Lookup("postgres:16").Entry, Lookup("postgres:16-alpine").Entry; a == b {
		t.Error("postgres debian and alpine are one entry")
	}
	if e := Lookup("gcr.io/distroless/static-debian12:latest").Entry; e == nil || !e.User.Root() {
		t.Errorf("distroless :latest: %+v, want root", e)
	}
}

func TestLookupMatchKinds(t *testing.T) {
	if r := Lookup("postgres:16"); r.Match != MatchTag || r.TagUnknown() {
		t.Errorf("postgres:16: %v", r.Match)
	}
	if r := Lookup("postgres"); r.Match != MatchTag || r.Entry == nil || !r.Entry.Default {
		t.Errorf("postgres (latest): %v", r.Match)
	}
	if r := Lookup("postgres:9.1-nonexistent"); r.Match != MatchDefault || !r.TagUnknown() || r.Entry == nil || !r.Entry.Default {
		t.Errorf("postgres unknown tag: %+v", r)
	}
	if r := Lookup("postgres@sha256:" + strings.Repeat("ab", 32)); r.Match != MatchDefault || !r.TagUnknown() {
		t.Errorf("postgres digest only: %v", r.Match)
	}
	if r := Lookup("grafana/grafana:11.2.0"); r.Match != MatchPattern {
		t.Errorf("grafana: %v", r.Match)
	}
	if r := Lookup("bitnami/some-new-app:1"); r.Entry == nil || !r.Namespace {
		t.Errorf("bitnami namespace: %+v", r)
	}
	if r := Lookup("bitnami/minideb:bookworm"); r.Entry == nil || r.Namespace || !r.Entry.User.Root() {
		t.Errorf("bitnami/minideb has its own entry: %+v", r)
	}
	for _, ref := range []string{"${IMAGE}", "{{ .Values.image.repository }}:{{ .Values.image.tag }}", "sha256:" + strings.Repeat("ab", 32),
		"@sha256:" + strings.Repeat("ab", 32), "localhost:5000/nginx:1.27", "myregistry.example.com:5000/postgres:16", "acme/unknown:1", "", "   ", "nginx:1.27 extra", "NGINX::1", "a//b", "-x"} {
		if r := Lookup(ref); r.Entry != nil {
			t.Errorf("%q: resolved to %s", ref, r.Entry.Example)
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"nginx":                                   "nginx",
		"NGINX:1.27":                              "nginx:1.27",
		"docker.io/library/nginx:1.27":            "nginx:1.27",
		"index.docker.io/library/nginx":           "nginx",
		"registry-1.docker.io/grafana/grafana:11": "grafana/grafana:11",
		"library/redis:7@sha256:" + strings.Repeat("0", 64): "redis:7@sha256:" + strings.Repeat("0", 64),
		"gcr.io/distroless/static-debian12:nonroot":         "gcr.io/distroless/static-debian12:nonroot",
		"registry:5000/team/app:v1":                         "registry:5000/team/app:v1",
		"  quay.io/Prometheus/Prometheus:v2  ":              "quay.io/prometheus/prometheus:v2",
	}
	for in, want := range cases {
		r, ok := Normalize(in)
		if !ok || r.String() != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, r.String(), ok, want)
		}
	}
	for _, in := range []string{"", "${IMAGE}", "{{ .Values.image }}", "sha256:" + strings.Repeat("a", 64), "nginx@sha256:xyz", "nginx:", ":tag", "a b", "ngi$nx", "-nginx", "nginx/", strings.Repeat("a", 600)} {
		if r, ok := Normalize(in); ok {
			t.Errorf("Normalize(%q) = %q, want not a reference", in, r.String())
		}
	}
}

// FuzzNormalize: Normalize never panics, and what it accepts is stable (normalising the
// normalised form gives it back) and looked up without a panic.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"nginx", "NGINX:1.27", "docker.io/library/postgres:16@sha256:" + strings.Repeat("a", 64), "localhost:5000/x", "${IMAGE}",
		"{{ .Values.image }}", "gcr.io/distroless/static:nonroot", "a__b/c--d.e:f_g", "registry:5000/", "@sha256:", "x:y:z", "\x00", "bitnami/a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := Normalize(s)
		_ = Lookup(s)
		if !ok {
			return
		}
		again, ok2 := Normalize(r.String())
		if !ok2 || again != r && !(r.Registry != "" && again.Registry != r.Registry) {
			if !ok2 || again.String() != r.String() {
				t.Fatalf("%q → %q → %q, %v", s, r.String(), again.String(), ok2)
			}
		}
	})
}

// TestLazyIndexShapes: the lazy index reads the generator's lines, falls back to decoding a
// line it does not recognise, and refuses text that is not a catalog, without a panic.
func TestLazyIndexShapes(t *testing.T) {
	entry := `{"repos":["acme/app"],"default":true,"example":"acme/app:1","user":{"config":"1001","uid":1001},"openshift":{"why":"x"},"why":"w","sources":[]}`
	reordered := `{"example":"acme/b:1","repos":["acme/b"],"default":true,"user":{"config":"app","name":"app"},"openshift":{"why":"x"},"why":"w","sources":[]}`
	ix, err := lazyIndex([]byte(catalogHeader + "\n" + entry + ",\r\n" + reordered + "\n]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := ix.Lookup("acme/app:7"); r.Entry == nil || r.Entry.User.Config != "1001" || !r.TagUnknown() {
		t.Errorf("acme/app: %+v", r)
	}
	if r := ix.Lookup("acme/b"); r.Entry == nil || r.Entry.User.Name != "app" {
		t.Errorf("acme/b (keys not first): %+v", r)
	}
	for _, doc := range []string{"", "{}", catalogHeader, catalogHeader + "\n" + entry, catalogHeader + "\n{\"why\":\"no repository\"}\n]}",
		catalogHeader + "\n{\"repos\":[\"a\\\"b\"\n]}", catalogHeader + "\nnot json\n]}"} {
		if _, err := lazyIndex([]byte(doc)); err == nil {
			t.Errorf("%q: indexed without error", doc)
		}
	}
	// A line that is indexed but does not decode is no entry (never a panic).
	ix, err = lazyIndex([]byte(catalogHeader + "\n" + `{"repos":["acme/c"],"user":{"uid":"x"}}` + "\n]}"))
	if err != nil {
		t.Fatal(err)
	}
	if r := ix.Lookup("acme/c:1"); r.Entry != nil {
		t.Errorf("a broken line answered %+v", r)
	}
}
