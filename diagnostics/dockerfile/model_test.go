package dockerfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func TestBaseImagesEveryEntry(t *testing.T) {
	cat, err := imagecatalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range cat.Images {
		got := LookupBaseImage(e.Example)
		if got == nil || !reflect.DeepEqual(got.Entry, e) {
			t.Errorf("entry %d: example %q resolves to %+v", i, e.Example, got)
			continue
		}
		if u := parseUserString(got.User); u.Kind == KindUnknown {
			t.Errorf("entry %d (%s): user %q is not a user", i, e.Example, got.User)
		}
	}
}

func TestBaseImageFacts(t *testing.T) {
	cases := map[string]string{
		"gcr.io/distroless/static-debian12:nonroot":                                      "65532",
		"gcr.io/distroless/base-debian12:debug-nonroot":                                  "65532",
		"gcr.io/distroless/static-debian12":                                              "0",
		"nginxinc/nginx-unprivileged:stable-alpine":                                      "101",
		"docker.io/bitnami/postgresql:16":                                                "1001",
		"bitnami/minideb:bookworm":                                                       "0",
		"quay.io/sclorg/python-311-c9s:c9s":                                              "1001",
		"registry.access.redhat.com/ubi8/nodejs-18":                                      "1001",
		"cgr.dev/chainguard/static:latest":                                               "65532",
		"docker.io/library/alpine:3.20":                                                  "0",
		"debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": "0",
		"ubuntu":                          "0",
		"registry.access.redhat.com/ubi9": "0",
		"mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled": "1654",
	}
	for ref, want := range cases {
		b := LookupBaseImage(ref)
		if b == nil || b.User != want {
			t.Errorf("%s: got %+v, want user %s", ref, b, want)
		}
	}
	for _, ref := range []string{"myorg/app:1.0", "", "${BASE}", "localhost:5000/nginx:1.27", "quay.io/unknown/busybox-linux-amd64"} {
		if b := LookupBaseImage(ref); b != nil {
			t.Errorf("%s: unknown image resolved to %s (never guess)", ref, b.Match)
		}
	}
	// Images the catalog generated from their Dockerfiles.
	for ref, want := range map[string]string{"postgres:16": "0", "grafana/grafana:11.2.0": "472", "memcached:1.6": "memcache", "jenkins/jenkins:lts-jdk17": "jenkins"} {
		if b := LookupBaseImage(ref); b == nil || b.User != want {
			t.Errorf("%s: got %+v, want user %q", ref, b, want)
		}
	}
}

func built(t *testing.T, src string) (*Model, *Stage) {
	t.Helper()
	m := Parse("/w/Dockerfile", src)
	st := m.Built("")
	if st == nil {
		t.Fatalf("no stage in %q (problems %v)", src, m.Problems)
	}
	return m, st
}

func TestEffectiveUser(t *testing.T) {
	cases := []struct {
		src, kind, value string
		uid              int // -1: nil
		source           Source
	}{
		{"FROM alpine\n", "root", "0", 0, SourceBase},
		{"FROM scratch\nCOPY a /a\n", "root", "", 0, SourceDefault},
		{"FROM acme/php-base:8-apache\n", "unknown", "", -1, SourceBase},
		{"FROM alpine\nUSER 1001\n", "numeric", "1001", 1001, SourceUSER},
		{"FROM alpine\nUSER root:root\n", "root", "root:root", 0, SourceUSER},
		{"FROM alpine\nUSER app # the app user\n", "named", "app", -1, SourceUSER},
		{"FROM alpine\nARG UID=101\nUSER $UID\n", "numeric", "101", 101, SourceUSER},
		{"ARG UID=2000\nFROM alpine\nARG UID\nUSER ${UID}:0\n", "numeric", "2000:0", 2000, SourceUSER},
		{"ARG UID=2000\nFROM alpine\nUSER ${UID:-1000}\n", "numeric", "1000", 1000, SourceUSER},
		{"FROM alpine\nENV APP_UID=3000\nUSER ${APP_UID}\n", "numeric", "3000", 3000, SourceUSER},
		{"FROM alpine\nARG U\nUSER $U\n", "unknown", "", -1, SourceUSER},
		{"FROM alpine\nARG ROOT=0\nUSER $ROOT\n", "root", "0", 0, SourceUSER},
		{"FROM alpine AS base\nUSER 1000\nFROM base\nRUN true\n", "numeric", "1000", 1000, SourceStage},
		{"FROM gcr.io/distroless/static:nonroot\n", "numeric", "65532", 65532, SourceBase},
		{"FROM alpine\nRUN addgroup -g 3000 -S grp && adduser -S -u 3000 -G grp johndoe\nUSER johndoe\n", "named", "johndoe", 3000, SourceUSER},
		{"FROM debian\nRUN groupadd -r -g 999 redis && useradd -r -g redis -u 999 redis\nUSER redis:redis\n", "named", "redis:redis", 999, SourceUSER},
	}
	for _, c := range cases {
		_, st := built(t, c.src)
		u := st.User()
		if string(u.Kind) != c.kind || u.Source != c.source || (c.value != "" && u.Value != c.value) {
			t.Errorf("%q: got kind %s value %q source %s, want %s %q %s", c.src, u.Kind, u.Value, u.Source, c.kind, c.value, c.source)
		}
		if (c.uid < 0) != (u.UID == nil) || u.UID != nil && *u.UID != c.uid {
			t.Errorf("%q: uid %v, want %d", c.src, u.UID, c.uid)
		}
	}
}

func TestUserRangeExcludesComment(t *testing.T) {
	src := "FROM alpine\n  USER   app:grp   # runs as app\n"
	m, st := built(t, src)
	u := st.User()
	got := u.Range()
	want := text.Range{Start: text.Pos{Line: 1, Col: 9}, End: text.Pos{Line: 1, Col: 16}}
	if got != want {
		t.Errorf("USER range %v, want %v", got, want)
	}
	if r := u.UserPartRange(); r.End.Col != 12 {
		t.Errorf("user part %v", r)
	}
	if s := m.Lines().Line(1)[got.Start.Col:got.End.Col]; s != "app:grp" {
		t.Errorf("range text %q", s)
	}
}

func TestCRLFAndMultibyte(t *testing.T) {
	src := "# café\r\nFROM alpine\r\nUSER 1000 \r\n"
	_, st := built(t, src)
	u := st.User()
	if u.Kind != KindNumeric || u.Range() != (text.Range{Start: text.Pos{Line: 2, Col: 5}, End: text.Pos{Line: 2, Col: 9}}) {
		t.Errorf("got %s %v", u.Kind, u.Range())
	}
}

func TestStagesAndTarget(t *testing.T) {
	src := "FROM golang:1.23 AS build\nRUN go build\nFROM gcr.io/distroless/static:nonroot AS run\nCOPY --from=build /app /app\nFROM build AS debug\n"
	m := Parse("/w/Dockerfile", src)
	if len(m.Stages) != 3 {
		t.Fatalf("stages %d", len(m.Stages))
	}
	if m.Built("").Name != "debug" || m.Built("run").Name != "run" || m.Built("RUN").Name != "run" {
		t.Error("built stage")
	}
	if m.Stages[2].Parent != m.Stages[0] {
		t.Error("parent")
	}
	if d := m.Stages[1].DependsOn; len(d) != 1 || d[0] != m.Stages[0] {
		t.Error("COPY --from dependency")
	}
	if u := m.Built("run").User(); u.Kind != KindNumeric || *u.UID != 65532 {
		t.Errorf("run user %+v", u)
	}
}

func TestCreatedUsers(t *testing.T) {
	cases := []struct {
		cmd  string
		name string
		uid  int
		gid  int
	}{
		{"useradd -u 1001 -r -g 0 -d /opt/app -c 'App user' default", "default", 1001, 0},
		{"useradd --uid=1500 --gid 1500 app", "app", 1500, 1500},
		{"adduser --system --uid 1200 --ingroup 0 --disabled-password svc", "svc", 1200, 0},
		{"addgroup -g 70 -S postgres && adduser -u 70 -S -D -G postgres -H postgres", "postgres", 70, 70},
		{"adduser -S -D -H -u 101 -h /usr/local/nginx -s /sbin/nologin -G www-data -g www-data www-data", "www-data", 101, -1},
		{"groupadd --system --gid 101 nginx && useradd --system --gid nginx --no-create-home --home /nonexistent --shell /bin/false --uid 101 nginx", "nginx", 101, 101},
		{"useradd app", "app", -1, -1},
	}
	for _, c := range cases {
		_, st := built(t, "FROM debian\nRUN "+c.cmd+"\n")
		cu := st.CreatedUsers()
		if len(cu) != 1 {
			t.Errorf("%s: created %d users", c.cmd, len(cu))
			continue
		}
		u := cu[0]
		if u.Name != c.name || (c.uid < 0) != (u.UID == nil) || u.UID != nil && *u.UID != c.uid || (c.gid < 0) != (u.GID == nil) || u.GID != nil && *u.GID != c.gid {
			t.Errorf("%s: got %s uid %v gid %v", c.cmd, u.Name, deref(u.UID), deref(u.GID))
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestPermissionModel(t *testing.T) {
	src := `FROM debian
WORKDIR /app
RUN mkdir -p /data /var/log/app && chown -R 1001:0 /data && chmod g=u /data \
    && install -d -o 1001 -g 0 -m 0770 /var/cache/app
COPY --chown=1001:0 --chmod=0755 app /app/
RUN setcap cap_net_bind_service=+ep /app/app
USER 1001
`
	_, st := built(t, src)
	paths := map[string]PathPerm{}
	for _, p := range st.WritablePaths() {
		paths[p.Path] = p
	}
	d := paths["/data"]
	if d.UID == nil || *d.UID != 1001 || d.GID == nil || *d.GID != 0 || d.Mode != "g=u" {
		t.Errorf("/data: %+v", d)
	}
	if c := paths["/var/cache/app"]; c.Mode != "0770" || c.UID == nil || *c.UID != 1001 {
		t.Errorf("/var/cache/app: %+v", c)
	}
	if a := paths["/app"]; a.Mode != "0755" || *a.UID != 1001 {
		t.Errorf("/app: %+v", a)
	}
	u := st.User()
	if acc, _ := st.WriteAccess(u, "/data"); acc != AccessWritable {
		t.Error("/data should be writable")
	}
	if acc, _ := st.WriteAccess(u, "/var/log/app"); acc != AccessDenied {
		t.Error("/var/log/app should be denied")
	}
	if len(st.Setcaps) != 1 || st.Setcaps[0].Path != "/app/app" {
		t.Errorf("setcap %+v", st.Setcaps)
	}
}

func TestSymbolicModes(t *testing.T) {
	cases := map[string]int{"g=u": 0o775, "g+w": 0o775, "o+w": 0o757, "a+rwX": 0o777, "750": 0o750, "g-rx,o-rx": 0o700, "u+s": 0o4755}
	for mode, want := range cases {
		if got := applySymbolic(0o755, mode); got != want {
			t.Errorf("%s: %o, want %o", mode, got, want)
		}
	}
}

func TestPortsAndVolumes(t *testing.T) {
	_, st := built(t, "FROM alpine\nARG P=8443\nEXPOSE 80/tcp ${P} 9000-9010\nVOLUME [\"/data\", \"/logs\"]\nWORKDIR /srv\nVOLUME cache\n")
	var ports []int
	for _, p := range st.Ports {
		ports = append(ports, p.Number)
	}
	if len(ports) != 3 || ports[0] != 80 || ports[1] != 8443 || ports[2] != 9000 {
		t.Errorf("ports %v", ports)
	}
	var vols []string
	for _, v := range st.Volumes {
		vols = append(vols, v.Value)
	}
	if strings.Join(vols, ",") != "/data,/logs,/srv/cache" {
		t.Errorf("volumes %v", vols)
	}
	if r := st.Ports[0].Range; r.Start.Line != 2 || r.Start.Col != 7 || r.End.Col != 13 {
		t.Errorf("port range %v", r)
	}
}

func TestShellCommands(t *testing.T) {
	src := "FROM debian\nRUN set -eux; \\\n    # a comment line inside the RUN\n    sudo -E apt-get update && \\\n    sh -c 'useradd -u 1234 app' && \\\n    echo x > /etc/app.conf\n"
	m, st := built(t, src)
	r := st.Runs[0]
	if r.ParseError != "" {
		t.Fatal(r.ParseError)
	}
	var names []string
	for _, c := range r.Commands {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "set apt-get sh useradd echo" {
		t.Errorf("commands %q", got)
	}
	apt := r.Commands[1]
	if !apt.Sudo || m.Source()[apt.SudoStart:apt.NameStart] != "sudo -E " {
		t.Errorf("sudo span %q", m.Source()[apt.SudoStart:apt.NameStart])
	}
	if rg := apt.NameRange(); rg.Start.Line != 3 || m.Lines().Line(3)[rg.Start.Col:rg.End.Col] != "apt-get" {
		t.Errorf("apt-get range %v", rg)
	}
	ua := r.Commands[3]
	if m.Lines().Line(ua.NameRange().Start.Line)[ua.NameRange().Start.Col:ua.NameRange().End.Col] != "useradd" {
		t.Errorf("nested sh -c range %v", ua.NameRange())
	}
	if cu := st.CreatedUsers(); len(cu) != 1 || *cu[0].UID != 1234 {
		t.Errorf("created %+v", cu)
	}
	if len(r.Writes) != 1 || r.Writes[0].Value != "/etc/app.conf" {
		t.Errorf("writes %+v", r.Writes)
	}
}

func TestHeredocRun(t *testing.T) {
	src := "# syntax=docker/dockerfile:1\nFROM alpine\nRUN <<EOF\napk add curl\nadduser -D -u 4000 app\nEOF\nUSER app\n"
	m, st := built(t, src)
	if len(m.Problems) != 0 {
		t.Fatalf("problems %v", m.Problems)
	}
	if len(st.Runs[0].Commands) != 2 {
		t.Fatalf("heredoc commands %d", len(st.Runs[0].Commands))
	}
	if c := st.Runs[0].Commands[0]; c.NameRange().Start.Line != 3 {
		t.Errorf("apk at %v", c.NameRange())
	}
	if u := st.User(); *u.UID != 4000 {
		t.Errorf("user %+v", u)
	}
}

func TestWindows(t *testing.T) {
	_, st := built(t, "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nUSER ContainerUser\n")
	if !st.Windows {
		t.Error("windows stage not recognised")
	}
}

func TestBadInputNeverPanics(t *testing.T) {
	inputs := []string{
		"", "\n\n# only a comment\n", "\x00\x01\x02binary\xff", "FROBNICATE all the things\nFROM alpine\n",
		"FROM alpine\nRUN <<EOF\nunterminated\n", "USER root\n", "FROM\n", "FROM alpine\nCOPY --chown\n",
		"FROM alpine\nRUN echo 'unterminated\n", "FROM alpine\nUSER\n", "FROM alpine\nRUN $(\n",
		"FROM alpine\nEXPOSE abc\n", "\xef\xbb\xbfFROM alpine\nUSER 1\n", "FROM alpine\r\rUSER 0\r",
		"FROM alpine\n" + strings.Repeat("A", 70000) + "\n",
	}
	for _, in := range inputs {
		m := Parse("/w/Dockerfile", in)
		_ = m
	}
	m := Parse("/w/Dockerfile", "FROM alpine\nRUN echo "+strings.Repeat("x", 10<<20)+"\n")
	if len(m.Problems) == 0 || !strings.Contains(m.Problems[0].Message, "max allowed size") {
		t.Errorf("10 MB line: %v", m.Problems)
	}
	m = Parse("/w/Dockerfile", "FROM alpine\nFROBNICATE x\n")
	if len(m.Problems) != 1 || !strings.Contains(m.Problems[0].Message, "unknown instruction FROBNICATE") {
		t.Errorf("unknown instruction: %v", m.Problems)
	}
}

func TestChunkedParseEqualsWhole(t *testing.T) {
	var files []string
	for _, g := range []string{"../../testdata/rules/*/*/Dockerfile", "../../testdata/fixes/*/*/Dockerfile", "../../../shared/corpus/dockerfile/*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	srcs := []string{"# c\n\nFROM a AS b\nRUN x \\\n  # c\nFROM y\nFROM b\n", "ARG X\nfrom a\n  FROM b\nRUN a \\\n\n  b\nFROM c"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, string(b))
	}
	for i, src := range srcs {
		pf, ok := parseChunked(src, nil)
		if !ok {
			continue
		}
		var nodes []*parser.Node
		for _, part := range pf.parts {
			nodes = append(nodes, part.nodes...)
		}
		res, err := parser.Parse(strings.NewReader(src))
		if err != nil && len(nodes) == 0 && strings.Contains(err.Error(), "no instructions") {
			continue
		}
		if err != nil {
			t.Errorf("%d: chunked parse succeeded where the whole parse fails: %v", i, err)
			continue
		}
		if len(res.AST.Children) != len(nodes) {
			t.Errorf("%d: %d nodes chunked, %d whole", i, len(nodes), len(res.AST.Children))
			continue
		}
		for j, n := range res.AST.Children {
			c := nodes[j]
			if c.StartLine != n.StartLine || c.EndLine != n.EndLine || c.Original != n.Original || c.Value != n.Value {
				t.Errorf("%d: node %d: chunked %d-%d %q, whole %d-%d %q", i, j, c.StartLine, c.EndLine, c.Original, n.StartLine, n.EndLine, n.Original)
			}
		}
	}
}

// TestCheckDirectiveAboveInstruction: a "# check=" comment right above an instruction
// configures BuildKit's linter only; the instruction parses as usual (BuildKit panics
// reading it with no linter, which used to become a "cannot parse instruction" problem).
func TestCheckDirectiveAboveInstruction(t *testing.T) {
	m := Parse("/w/Dockerfile", "FROM alpine\n# check=skip=all\nCOPY a /b\n")
	if len(m.Problems) != 0 {
		t.Errorf("problems: %v", m.Problems)
	}
	if _, ok := m.Stages[0].Instructions[1].Parsed.(*instructions.CopyCommand); !ok {
		t.Errorf("COPY parsed as %T", m.Stages[0].Instructions[1].Parsed)
	}
}

// TestUserAfterEachUSER: each USER instruction knows the user it sets, not the stage's last.
func TestUserAfterEachUSER(t *testing.T) {
	m := Parse("/w/Dockerfile", "FROM alpine\nUSER 1000\nRUN id\nUSER 2000\n")
	st := m.Stages[0]
	if u := st.Users[0].userAfter(); u.UID == nil || *u.UID != 1000 {
		t.Errorf("first USER sets %s", u.Describe())
	}
	if u := st.Instructions[2].User(); u.UID == nil || *u.UID != 1000 {
		t.Errorf("RUN runs as %s", u.Describe())
	}
	if u := st.User(); u.UID == nil || *u.UID != 2000 {
		t.Errorf("stage user %s", u.Describe())
	}
}
