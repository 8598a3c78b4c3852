package dockerfile_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func TestInspectJSON(t *testing.T) {
	s, dir := diagtest.Workspace(t, alltest.Engine(), map[string]string{
		"Dockerfile": `FROM debian:bookworm-slim AS base
RUN groupadd -r -g 1001 app && useradd -r -u 1001 -g app app
FROM base
COPY docker-entrypoint.sh /usr/local/bin/
RUN mkdir -p /var/lib/app && chown 1001:0 /var/lib/app && chmod 0775 /var/lib/app
VOLUME /var/lib/app
EXPOSE 80 8080/tcp
USER app
ENTRYPOINT ["docker-entrypoint.sh"]
`,
		"docker-entrypoint.sh": "#!/bin/sh\nexec su-exec app \"$@\"\n",
	})
	v, err := s.Inspect(context.Background(), filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	var got map[string]any
	json.Unmarshal(b, &got)
	for _, k := range []string{"file", "stage", "user", "creates_users", "drops_privileges", "exposed_ports", "volumes", "writable_paths"} {
		if _, ok := got[k]; !ok {
			t.Errorf("inspect JSON lacks %q: %s", k, b)
		}
	}
	u := got["user"].(map[string]any)
	if u["kind"] != "named" || u["uid"] != 1001.0 || u["gid"] != 1001.0 || u["name"] != "app" || u["line"] != 8.0 || u["source"] != "USER" {
		t.Errorf("user %v", u)
	}
	if got["stage"] != "1" || got["drops_privileges"] != "su-exec" {
		t.Errorf("stage %v drops %v", got["stage"], got["drops_privileges"])
	}
	if p := got["exposed_ports"].([]any); len(p) != 2 || p[0] != 80.0 || p[1] != 8080.0 {
		t.Errorf("ports %v", p)
	}
	wp := got["writable_paths"].([]any)
	if len(wp) != 1 {
		t.Fatalf("writable paths %v", wp)
	}
	w := wp[0].(map[string]any)
	if w["path"] != "/var/lib/app" || w["uid"] != 1001.0 || w["gid"] != 0.0 || w["mode"] != "0775" {
		t.Errorf("writable path %v", w)
	}
	// Unknown values are null, not absent or zero.
	s2, dir2 := diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": "FROM acme/php-base:8-apache\n"})
	v, _ = s2.Inspect(context.Background(), filepath.Join(dir2, "Dockerfile"))
	b, _ = json.Marshal(v)
	if !strings.Contains(string(b), `"user":{"kind":"unknown","uid":null,"gid":null,"name":null,"line":null,"source":"base-image","image":"acme/php-base:8-apache"}`) {
		t.Errorf("unknown user: %s", b)
	}
}

func TestHover(t *testing.T) {
	src := "FROM alpine:3.20 AS base\nUSER 10001:0\nFROM base\nVOLUME /data\nEXPOSE 80\n"
	s, dir := diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": src})
	p := filepath.Join(dir, "Dockerfile")
	cases := []struct {
		line int
		want []string
	}{
		{0, []string{"**FROM** `alpine:3.20`", "runs as **root (uid 0)**", "uid 10001, gid 0"}},
		{1, []string{"**USER** `10001:0`", "runs as **uid 10001, gid 0**", "Before this line: root (uid 0), from base image alpine:3.20"}},
		{2, []string{"Starts from stage `base`", "stage that is built", "stage base (USER on line 2)"}},
		{3, []string{"**VOLUME**", "does not set the owner of `/data`"}},
		{4, []string{"**EXPOSE**", "Port 80 is privileged"}},
	}
	for _, c := range cases {
		h := s.Hover(context.Background(), p, text.Pos{Line: c.line, Col: 1})
		if h == nil {
			t.Errorf("line %d: no hover", c.line+1)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(h.Markdown, w) {
				t.Errorf("line %d: hover lacks %q:\n%s", c.line+1, w, h.Markdown)
			}
		}
	}
	// A finding's documentation comes with the hover on its range.
	h := s.Hover(context.Background(), p, text.Pos{Line: 4, Col: 8})
	if h == nil || !strings.Contains(h.Markdown, "NR108") {
		t.Errorf("no NR108 hover: %v", h)
	}
}

// TestHoverGroup: the hover on USER says which group the user runs with, and where it comes from.
func TestHoverGroup(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"FROM alpine:3.20\nUSER 10001:10001\n", "Its group: **gid 10001** (the group USER names after ':')"},
		{"FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER 10001\n", "Its group: **a group of its own (not 0)** (the passwd entry `adduser` creates on line 2)"},
		{"FROM alpine:3.20\nRUN useradd -u 1001 -g 0 default\nUSER 1001\n", "Its group: **gid 0** (the passwd entry `useradd` creates on line 2)"},
		{"FROM bitnami/nginx:1.21\nUSER 1001\n", "Its group: **gid 0** (uid 1001 has no passwd entry in the base image bitnami/nginx:1.21"},
		{"FROM jenkins/jenkins:lts-jdk17\nUSER jenkins\n", "Its group: **gid 1000** (the user of the base image jenkins/jenkins:lts-jdk17)"},
		{"FROM scratch\nUSER 10001\n", "Its group: **gid 0** (FROM scratch has no /etc/passwd"},
		{"FROM alpine:3.20\nUSER 10001\n", "Its group: **unknown** (gid 0 unless the base image's /etc/passwd has an entry for uid 10001"},
	} {
		s, dir := diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": c.src})
		h := s.Hover(context.Background(), filepath.Join(dir, "Dockerfile"), text.Pos{Line: strings.Count(c.src, "\n") - 1, Col: 1})
		if h == nil || !strings.Contains(h.Markdown, c.want) {
			t.Errorf("%q: hover lacks %q: %v", c.src, c.want, h)
		}
	}
}

func TestPrivilegeDropsScript(t *testing.T) {
	s, dir := diagtest.Workspace(t, alltest.Engine(), map[string]string{
		"Dockerfile":     "FROM debian\nCOPY scripts/run.sh /run.sh\nCMD [\"/run.sh\"]\n",
		"scripts/run.sh": "#!/bin/bash\nif [ \"$(id -u)\" = 0 ]; then\n  exec setpriv --reuid=1000 --regid=1000 --init-groups \"$0\"\nfi\nchroot --userspec=app:app / true\n",
	})
	m, err := dockerfile.For(s, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	drops := m.PrivilegeDrops(s, m.Built(""))
	var tools []string
	for _, d := range drops {
		tools = append(tools, d.Tool)
	}
	if strings.Join(tools, ",") != "setpriv,chroot" || drops[0].Line != 2 || !strings.HasSuffix(drops[0].File, "run.sh") {
		t.Errorf("drops %+v", drops)
	}
}
