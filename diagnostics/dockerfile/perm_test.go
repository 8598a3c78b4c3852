package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

func TestPermOf(t *testing.T) {
	cases := []struct {
		name, src, path string
		gid             int // -1: unknown
		bits            int // -1: unknown
		assumed         bool
	}{
		{"mkdir default umask", "FROM alpine\nRUN mkdir -p /data\n", "/data", 0, 0o755, false},
		{"umask 002", "FROM alpine\nRUN umask 002 && mkdir -p /data\n", "/data", 0, 0o775, false},
		{"umask only in its RUN", "FROM alpine\nRUN umask 002\nRUN mkdir /data\n", "/data", 0, 0o755, false},
		{"chgrp and g=u", "FROM alpine\nRUN mkdir /data && chown 1001 /data && chgrp -R 0 /data && chmod -R g=u /data\n", "/data", 0, 0o775, false},
		{"g+rwX over unknown", "FROM alpine\nRUN chmod -R g+rwX /opt/app\n", "/opt/app/conf", 0, 0o775, true},
		{"octal after symbolic", "FROM alpine\nRUN mkdir /d && chmod g=u /d\nRUN chmod 0755 /d\n", "/d", 0, 0o755, false},
		{"symbolic after octal", "FROM alpine\nRUN mkdir /d && chmod 700 /d\nRUN chmod g=u /d\n", "/d", 0, 0o770, false},
		{"chown user:group", "FROM alpine\nRUN mkdir /d && chown -R redis:redis /d\n", "/d", -1, 0o755, false},
		{"COPY --chown without --chmod", "FROM alpine\nCOPY --chown=1001:0 app /app\n", "/app", 0, -1, false},
		{"COPY --chmod", "FROM alpine\nCOPY --chown=1001:0 --chmod=775 app /app\n", "/app", 0, 0o775, false},
		{"mkdir -p of an existing dir changes nothing", "FROM alpine\nRUN mkdir /d && chmod 775 /d\nRUN mkdir -p /d\n", "/d", 0, 0o775, false},
		{"COPY --from keeps the source's mode", "FROM alpine AS b\nRUN mkdir -p /out/data && chmod -R g=u /out\nFROM scratch\nCOPY --from=b --chown=10001:0 /out /srv\n", "/srv/data", 0, 0o775, false},
		{"multi-stage parent", "FROM alpine AS base\nRUN mkdir /d && chgrp 0 /d && chmod g=u /d\nFROM base\nRUN chown 1001:1001 /d\n", "/d", 1001, 0o775, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, st := built(t, c.src)
			p := st.PermOf(c.path)
			if !p.Known() {
				t.Fatalf("%s: not known", c.path)
			}
			gid := -1
			if p.GID != nil {
				gid = *p.GID
			}
			if gid != c.gid || p.Bits != c.bits || p.GIDAssumed != c.assumed {
				t.Errorf("%s: gid %d bits %o assumed %v; want gid %d bits %o assumed %v", c.path, gid, p.Bits, p.GIDAssumed, c.gid, c.bits, c.assumed)
			}
		})
	}
	_, st := built(t, "FROM alpine\nRUN mkdir /a\n")
	if st.PermOf("/b").Known() {
		t.Error("/b: known without a change")
	}
}

func TestEntrypointWrites(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", "FROM alpine\nCOPY entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"entrypoint.sh\"]\nCMD echo hi > /var/log/app.log\n")
	write("entrypoint.sh", "#!/bin/sh\nmkdir -p /var/lib/app/cache\necho x > /tmp/x\ntouch \"$HOME/x\"\nsed -i s/a/b/ /etc/app.conf\nexec \"$@\"\n")
	s := testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{})
	m, err := For(s, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range m.EntrypointWrites(s, m.Built("")) {
		got = append(got, w.Tool+" "+w.Path+" "+filepath.Base(w.File))
	}
	want := []string{"mkdir /var/lib/app/cache entrypoint.sh", "sed /etc/app.conf entrypoint.sh", "> /var/log/app.log Dockerfile"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("write %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestCleanPath(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b", "/a/b/", "//a", "/a//b", "/./a", "/a/.", "/a/..", "/a/../b", "a/b", "", ".", "/..", "/a.b/c..d/.e", "/...", "/a/b/c"} {
		parts := strings.Split(p, "/")
		var out []string
		for _, s := range parts {
			switch s {
			case "", ".":
			case "..":
				if len(out) > 0 {
					out = out[:len(out)-1]
				}
			default:
				out = append(out, s)
			}
		}
		want := "/" + strings.Join(out, "/")
		if got := cleanPath(p); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", p, got, want)
		}
	}
}
