package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

const fixtures = "../../testdata/workspaces"

func snap(t testing.TB, dir string) *diagnostics.Snapshot {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return testEngine(t).NewSnapshot([]string{abs}, diagnostics.Config{})
}

func relT(s *diagnostics.Snapshot, p string) string {
	if p == "" {
		return ""
	}
	r, err := filepath.Rel(s.Roots()[0], p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// describe renders a link as "dockerfile[@target] source evidence-file:line".
func describe(s *diagnostics.Snapshot, l *Link) string {
	if l == nil {
		return "<nil>"
	}
	out := relT(s, l.Dockerfile)
	if l.Target != "" {
		out += "@" + l.Target
	}
	out += " " + string(l.Source)
	if l.Evidence.File != "" {
		out += " " + relT(s, l.Evidence.File)
		if l.Source != SourceHeuristic {
			out += ":" + l.Evidence.Range.Start.String()
		}
	}
	if l.Via != nil {
		out += " via " + describe(s, l.Via)
	}
	return out
}

func TestGraphLinks(t *testing.T) {
	for _, c := range []struct {
		dir, image, want string
	}{
		{"link-config", "ghcr.io/acme/api:1.2.3", "build/api.Dockerfile@runtime config .nonroot-ls.yaml:2:12"},
		{"link-compose", "registry.example.com:5000/acme/web@sha256:0123", "web/Dockerfile@runtime compose compose.yaml:9:5"},
		{"link-compose", "localhost:5000/acme/web:other-tag", "web/Dockerfile@runtime compose compose.yaml:9:5"},
		{"link-skaffold", "gcr.io/my-project/api:latest", "services/api/Dockerfile.prod@final skaffold skaffold.yaml:5:14"},
		{"link-skaffold", "jib-app", "<nil>"},
		{"link-bake", "ghcr.io/acme/worker:v2", "worker/Dockerfile@prod bake docker-bake.hcl:24:15"},
		{"link-bake", "worker:local", "worker/Dockerfile@prod bake docker-bake.hcl:24:44"},
		{"link-bake-json", "quay.io/acme/svc:1", "svc/svc.Dockerfile bake docker-bake.json:9:16"},
		{"link-kustomize", "app", "web/Dockerfile kustomize overlays/prod/kustomization.yaml:5:14 via web/Dockerfile compose compose.yaml:4:5"},
		{"link-heuristic", "quay.io/acme/frontend:v1", "images/frontend/Dockerfile heuristic images/frontend/Dockerfile"},
		{"link-heuristic", "envoyproxy/envoy:v1.31", "<nil>"},
		{"link-ambiguous", "worker:1", "<nil>"},
		{"link-conflict", "docker.io/acme/api:2", "api/Dockerfile config .nonroot-ls.yaml:2:12"},
	} {
		s := snap(t, filepath.Join(fixtures, c.dir))
		g := For(s)
		if got := describe(s, g.LinkFor(c.image)); got != c.want {
			t.Errorf("%s: LinkFor(%q) = %s, want %s", c.dir, c.image, got, c.want)
		}
	}
}

func TestGraphBakeVariablesAndFunctions(t *testing.T) {
	s := snap(t, filepath.Join(fixtures, "link-bake"))
	var images []string
	for _, l := range For(s).Links {
		if l.Source == SourceBake {
			images = append(images, l.Image)
		}
	}
	// lower() is a function: never called, so that target's tag is left out.
	if got, want := strings.Join(images, " "), "ghcr.io/acme/worker:v2 worker:local"; got != want {
		t.Fatalf("bake images = %q, want %q", got, want)
	}
}

func TestGraphAmbiguousAndConflicts(t *testing.T) {
	s := snap(t, filepath.Join(fixtures, "link-ambiguous"))
	g := For(s)
	amb := g.Ambiguous("worker:1").Candidates
	if len(amb) != 2 || relT(s, amb[0]) != "a/worker/Dockerfile" || relT(s, amb[1]) != "b/worker/Dockerfile" {
		t.Fatalf("Ambiguous = %v", amb)
	}
	if len(g.Ambiguities) != 1 || g.Ambiguities[0].Image != "worker:1" {
		t.Fatalf("Ambiguities = %+v", g.Ambiguities)
	}

	s = snap(t, filepath.Join(fixtures, "link-conflict"))
	g = For(s)
	cs := g.ConflictsFor("acme/api")
	if len(cs) != 1 || cs[0].Kept.Source != SourceConfig || cs[0].Other.Source != SourceCompose || relT(s, cs[0].Other.Dockerfile) != "legacy/Dockerfile" {
		t.Fatalf("conflicts = %+v", cs)
	}
	// The compose service itself runs what its build section builds, whatever the config says.
	for _, u := range g.Uses {
		if u.Kind == diagnostics.KindCompose && relT(s, u.Link.Dockerfile) != "legacy/Dockerfile" {
			t.Errorf("compose use linked to %s", u.Link.Dockerfile)
		}
	}
}

func TestGraphComposeAnchorsAndExtends(t *testing.T) {
	s := snap(t, filepath.Join(fixtures, "link-compose"))
	c := ComposeFor(s, filepath.Join(s.Roots()[0], "compose.yaml"))
	if c.Err != nil || len(c.Services) != 2 {
		t.Fatalf("compose = %+v", c)
	}
	web, dbg := c.Services[0], c.Services[1]
	if web.Name != "web" || web.User != "10001:0" || !web.HasUser || web.Image != "registry.example.com:5000/acme/web:dev" {
		t.Errorf("web = %+v", web)
	}
	if web.UserRange.Start.Line != 2 { // through the merge key: the anchor's line
		t.Errorf("web user range %v", web.UserRange)
	}
	if dbg.Name != "web-debug" || dbg.Build == nil || dbg.Build.Target != "runtime" || dbg.User != "10001:0" {
		t.Errorf("web-debug = %+v (build %+v)", dbg, dbg.Build)
	}
	g := For(s)
	if got := g.ManifestsUsing(filepath.Join(s.Roots()[0], "web/Dockerfile")); len(got) != 2 ||
		relT(s, got[0]) != "compose.yaml" || relT(s, got[1]) != "k8s/deploy.yaml" {
		t.Errorf("ManifestsUsing = %v", got)
	}
	if n := len(g.UsesOf(filepath.Join(s.Roots()[0], "web/Dockerfile"))); n != 3 {
		t.Errorf("UsesOf = %d uses, want 3 (two services, one container)", n)
	}
}

func TestGraphEditorBufferWins(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "svc/Dockerfile", "FROM alpine\n")
	write(t, dir, "other/Dockerfile", "FROM alpine\n")
	write(t, dir, "compose.yaml", "services:\n  a:\n    image: acme/a\n    build: ./svc\n")
	s := snap(t, dir)
	root := s.Roots()[0]
	if got := describe(s, For(s).LinkFor("acme/a")); got != "svc/Dockerfile compose compose.yaml:4:5" {
		t.Fatalf("disk: %s", got)
	}
	s = s.WithFile(filepath.Join(root, "compose.yaml"), 2, "yaml", "services:\n  a:\n    image: acme/a\n    build:\n      context: other\n")
	if got := describe(s, For(s).LinkFor("acme/a")); got != "other/Dockerfile compose compose.yaml:4:5" {
		t.Fatalf("overlay: %s", got)
	}
}

func TestGraphLocalRefs(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmd/server/Dockerfile", "FROM alpine\n")
	write(t, dir, "deploy/app/pod.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: ../../cmd/server\n    - name: b\n      image: ko://github.com/acme/proj/cmd/server\n")
	s := snap(t, dir)
	g := For(s)
	uses := g.UsesIn(filepath.Join(s.Roots()[0], "deploy/app/pod.yaml"))
	if len(uses) != 2 {
		t.Fatalf("uses = %+v", uses)
	}
	for _, u := range uses {
		if u.Link == nil || relT(s, u.Link.Dockerfile) != "cmd/server/Dockerfile" || !u.Link.Guess {
			t.Errorf("%s: link %s", u.Image, describe(s, u.Link))
		}
	}
}

func TestGraphBadInput(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "docker-bake.hcl", "target \"x\" {\n  tags = [\"a\"\n")
	write(t, dir, "skaffold.yaml", "build: [unclosed\n")
	write(t, dir, "compose.yaml", "a: &a [*a, *a]\nservices:\n  s:\n    <<: *a\n    extends: s\n    image: x\n")
	write(t, dir, "kustomization.yaml", "images: {name: 1}\n")
	// A loop of symlinks and one leading out of the workspace are skipped by the walk.
	if err := os.Symlink(dir, filepath.Join(dir, "loop")); err != nil {
		t.Skip(err)
	}
	os.Symlink("/etc", filepath.Join(dir, "out"))
	s := snap(t, dir)
	g := For(s)
	if len(g.Links) != 0 {
		t.Errorf("links from broken files: %+v", *g.Links[0])
	}
	if p := bakeDecls(mustFile(t, s, "docker-bake.hcl")).problems; len(p) == 0 || !strings.Contains(p[0].Message, "invalid bake file") {
		t.Errorf("bake problems = %+v", p)
	}
}

func mustFile(t *testing.T, s *diagnostics.Snapshot, rel string) *diagnostics.File {
	t.Helper()
	f, err := s.File(filepath.Join(s.Roots()[0], rel))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func write(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDependentsAndInspect(t *testing.T) {
	s := snap(t, filepath.Join(fixtures, "link-kustomize"))
	root := s.Roots()[0]
	got := func(p string) string {
		var out []string
		for _, d := range Dependents(s, filepath.Join(root, p)) {
			out = append(out, relT(s, d))
		}
		return strings.Join(out, " ")
	}
	if g := got("web/Dockerfile"); g != "base/deploy.yaml compose.yaml" {
		t.Errorf("Dependents(web/Dockerfile) = %q", g)
	}
	if g := got("overlays/prod/kustomization.yaml"); g != "base/deploy.yaml web/Dockerfile" {
		t.Errorf("Dependents(kustomization) = %q", g)
	}
	if g := got("base/deploy.yaml"); g != "" {
		t.Errorf("Dependents(manifest) = %q", g)
	}
	ins := Inspect(s)
	if len(ins) != 2 || ins[0].Evidence != SourceCompose || ins[0].From != (InspectSource{"compose.yaml", 4}) ||
		ins[1].Evidence != SourceKustomize || ins[1].Image != "app" || ins[1].Dockerfile != "web/Dockerfile" {
		t.Errorf("Inspect = %+v", ins)
	}
	// Broken link sources get NR001.
	dir := t.TempDir()
	write(t, dir, "docker-bake.hcl", "target \"x\" {\n  tags = [\"a\"\n")
	s = snap(t, dir)
	fs := s.Diagnose(context.Background(), filepath.Join(s.Roots()[0], "docker-bake.hcl"))
	if len(fs) != 1 || fs[0].RuleID != "NR001" || !strings.Contains(fs[0].Message, "invalid bake file") {
		t.Errorf("bake NR001 = %v", fs)
	}
}

// TestGraphIncremental checks that the graph brought up to date after edits equals the graph
// built from scratch for the same snapshot.
func TestGraphIncremental(t *testing.T) {
	dir := t.TempDir()
	genWorkspace(t, dir, 100)
	write(t, dir, "compose.yaml", "services:\n  x:\n    image: acme/x\n    build: ./services/svc00001\n")
	s := snap(t, dir)
	root := s.Roots()[0]
	g0 := For(s)
	check := func(step string, s *diagnostics.Snapshot, reused bool) {
		t.Helper()
		got := For(s)
		want := build(s)
		if dump(s, got) != dump(s, want) {
			t.Fatalf("%s: incremental graph differs:\n%s\nfull:\n%s", step, dump(s, got), dump(s, want))
		}
		if reused != (got == g0) {
			t.Errorf("%s: graph reused = %v, want %v", step, got == g0, reused)
		}
	}
	df := filepath.Join(root, "services/svc00003/Dockerfile")
	s = s.WithFile(df, 1, "dockerfile", "FROM alpine\nUSER 10001\n")
	check("Dockerfile edit", s, true)
	m := filepath.Join(root, "deploy/svc00002/deploy-1.yaml")
	s = s.WithFile(m, 1, "yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: svc00005\n    - name: b\n      image: nothing/here\n")
	check("manifest edit", s, false)
	s = s.WithFile(m, 2, "yaml", "not: a manifest\n")
	check("manifest no longer a manifest", s, false)
	s = s.WithFile(filepath.Join(root, "new/pod.yaml"), 1, "yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: svc00009:1\n")
	check("new manifest", s, false)
	s = s.WithFile(filepath.Join(root, "compose.yaml"), 1, "yaml", "services:\n  x:\n    image: acme/x\n    build: ./services/svc00002\n")
	check("compose edit (rebuilt)", s, false)
	s = s.WithFile(filepath.Join(root, "services/svc00099/Dockerfile"), 1, "dockerfile", "FROM alpine\n")
	check("Dockerfile created (rebuilt)", s, false)
}

func dump(s *diagnostics.Snapshot, g *Graph) string {
	var b strings.Builder
	for _, l := range g.Links {
		b.WriteString("link " + l.Image + " → " + describe(s, l) + "\n")
	}
	for _, u := range g.Uses {
		b.WriteString("use " + relT(s, u.File) + ":" + u.Range.String() + " " + u.Image + " → " + describe(s, u.Link) + "\n")
	}
	for _, a := range g.Ambiguities {
		b.WriteString("ambiguous " + a.Image + " " + strings.Join(a.Candidates, ",") + "\n")
	}
	for _, df := range g.Dockerfiles {
		b.WriteString("dockerfile " + relT(s, df) + " →")
		for _, m := range g.ManifestsUsing(df) {
			b.WriteString(" " + relT(s, m))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestComposeDotEnv checks the .env values compose interpolates: quotes, a comment after a
// quoted value, `export`, a reference to an earlier key, and a broken line that ends the file.
func TestComposeDotEnv(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, ".env", "# settings\nexport REG=ghcr.io/acme\nTAG=\"1.0\" # the release\nIMG=${REG}/web\nBROKEN='unterminated\n")
	write(t, dir, "compose.yaml", "services:\n  web:\n    image: ${IMG}:${TAG}\n")
	s := snap(t, dir)
	c := ComposeFor(s, filepath.Join(s.Roots()[0], "compose.yaml"))
	if len(c.Services) != 1 || c.Services[0].Image != "ghcr.io/acme/web:1.0" {
		t.Fatalf("services = %+v", c.Services)
	}
}

// TestInspectShowsEveryLinkCheckUses checks, on every workspace fixture, that each link the
// rules judge a manifest container or compose service by (the link of its use in the graph)
// is a row of Inspect, with that reference among the row's users.
func TestInspectShowsEveryLinkCheckUses(t *testing.T) {
	for _, dir := range diagtest.Dirs(t, fixtures) {
		s := snap(t, dir)
		g := For(s)
		rows := Inspect(s)
		used := 0
		for _, u := range g.Uses {
			if u.Link == nil {
				continue
			}
			used++
			l := u.Link
			found := false
			for _, r := range rows {
				if r.Image != l.Image || r.Dockerfile != relT(s, l.Dockerfile) || r.Target != l.Target || r.Evidence != l.Source {
					continue
				}
				if l.Evidence.File != "" && r.From != (InspectSource{relT(s, l.Evidence.File), l.Evidence.Range.Start.Line + 1}) {
					continue
				}
				for _, ru := range r.UsedBy {
					found = found || ru == InspectUse{relT(s, u.File), u.Range.Start.Line + 1, u.Image}
				}
			}
			if !found {
				t.Errorf("%s: %s:%d %s → %s is not in inspect: %+v", filepath.Base(dir), relT(s, u.File), u.Range.Start.Line+1, u.Image, describe(s, l), rows)
			}
		}
		if used == 0 && strings.HasPrefix(filepath.Base(dir), "nr3") {
			t.Errorf("%s: no use is linked", filepath.Base(dir))
		}
	}
}

// TestGraphCheckoutFolderName checks that what the checkout folder is called decides
// nothing: the same tree under the name of its image and under another name links the same.
func TestGraphCheckoutFolderName(t *testing.T) {
	var dumps []string
	for _, name := range []string{"podinfo", "checkout"} {
		dir := filepath.Join(t.TempDir(), name)
		write(t, dir, "Dockerfile", "FROM alpine\nUSER app\n")
		write(t, dir, "cmd/worker/Dockerfile", "FROM alpine\n")
		write(t, dir, "deploy/app.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: ghcr.io/acme/podinfo:1\n    - name: b\n      image: ghcr.io/acme/worker:1\n")
		s := snap(t, dir)
		dumps = append(dumps, dump(s, For(s)))
	}
	if dumps[0] != dumps[1] {
		t.Fatalf("links depend on the checkout folder's name:\n%s\nrenamed:\n%s", dumps[0], dumps[1])
	}
	if !strings.Contains(dumps[0], "ghcr.io/acme/worker:1 → cmd/worker/Dockerfile heuristic") || strings.Contains(dumps[0], "podinfo:1 → Dockerfile") {
		t.Errorf("links:\n%s", dumps[0])
	}
}

// TestGraphWorkflows checks the workflow reader: matrix include and exclude, a metadata-action
// flavor suffix, working-directory, a run: line's variables, and what makes no link.
func TestGraphWorkflows(t *testing.T) {
	dir := t.TempDir()
	for _, svc := range []string{"a", "b", "c", "d", "e", "tools/f"} {
		write(t, dir, svc+"/Dockerfile", "FROM alpine\n")
	}
	write(t, dir, ".github/workflows/ci.yaml", `on: push
env:
  OWNER: acme
jobs:
  matrix:
    strategy:
      matrix:
        svc: [a, b, c]
        arch: [amd64]
        exclude:
          - svc: b
        include:
          - svc: c
            stage: prod
          - svc: d
    steps:
      - uses: docker/build-push-action@v6
        with:
          context: ${{ matrix.svc }}
          target: ${{ matrix.stage }}
          tags: |
            ghcr.io/${{ env.OWNER }}/${{ matrix.svc }}:${{ matrix.arch }}
  meta:
    steps:
      - id: m
        uses: docker/metadata-action@v5
        with:
          images: name=ghcr.io/acme/e,enable=true
          flavor: |
            suffix=-slim
      - uses: docker/build-push-action@v6
        with:
          context: e
          tags: ${{ steps.m.outputs.tags }}
  run:
    defaults:
      run:
        working-directory: tools
    steps:
      - env:
          TAG: "1.0"
        run: docker build -t ghcr.io/acme/f:$TAG f && docker build -t "$(cat name)":1 f
      - run: docker build -t ghcr.io/acme/g:1 -f ${{ inputs.dockerfile }} .
`)
	s := snap(t, dir)
	var got []string
	for _, l := range For(s).Links {
		got = append(got, l.Image+" "+describe(s, l))
	}
	want := []string{
		"ghcr.io/acme/a:amd64 a/Dockerfile github-actions .github/workflows/ci.yaml:22:13",
		"ghcr.io/acme/c:amd64 c/Dockerfile@prod github-actions .github/workflows/ci.yaml:22:13",
		"ghcr.io/acme/d: d/Dockerfile github-actions .github/workflows/ci.yaml:22:13",
		"ghcr.io/acme/e:*-slim e/Dockerfile github-actions .github/workflows/ci.yaml:28:11",
		"ghcr.io/acme/f:1.0 tools/f/Dockerfile github-actions .github/workflows/ci.yaml:42:9",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("links:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestGraphBadWorkflow checks that a malformed workflow is NR001 on that file only, and that a
// workflow of 10,000 jobs is read.
func TestGraphBadWorkflow(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "web/Dockerfile", "FROM alpine\n")
	write(t, dir, ".github/workflows/broken.yml", "jobs:\n  a:\n    steps: [unclosed\n")
	write(t, dir, ".github/workflows/ok.yml", "jobs:\n  a:\n    steps:\n      - run: docker build -t acme/web web\n")
	write(t, dir, ".gitlab-ci.yml", "job:\n  script:\n    - docker build -t acme/web:${ web\n    - docker build -t acme/web:x -f\n")
	write(t, dir, "Tiltfile", "docker_build('acme/web', 'web'\n")
	s := snap(t, dir).WithSettings(onlyWorkspaceRules())
	for _, p := range s.Walk() {
		fs := s.Diagnose(context.Background(), p)
		want := 0
		switch relT(s, p) {
		case ".github/workflows/broken.yml", "Tiltfile":
			want = 1
		}
		if len(fs) != want || want == 1 && fs[0].RuleID != "NR001" {
			t.Errorf("%s: findings %v, want %d NR001", relT(s, p), fs, want)
		}
	}
	if got := describe(s, For(s).LinkFor("acme/web")); got != "web/Dockerfile github-actions .github/workflows/ok.yml:4:9" {
		t.Errorf("link = %s", got)
	}

	var b strings.Builder
	b.WriteString("jobs:\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "  j%d:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          context: web\n          tags: ghcr.io/acme/web:%d\n", i, i)
	}
	write(t, dir, ".github/workflows/big.yml", b.String())
	s = snap(t, dir)
	if n := len(workflowDecls(mustFile(t, s, ".github/workflows/big.yml")).decls); n != 10000 {
		t.Errorf("big workflow: %d declarations", n)
	}
}

// TestDependentsOfCIFiles checks that a change to a workflow, a GitLab CI file or a Tiltfile
// re-publishes the manifests that run the images it links, and the Dockerfiles it names.
func TestDependentsOfCIFiles(t *testing.T) {
	for _, c := range []struct{ dir, file, want string }{
		{"link-github-actions", ".github/workflows/images.yml", "api/build/Dockerfile k8s-specifications/vote-deployment.yaml k8s-specifications/worker-deployment.yaml result/Dockerfile vote/Dockerfile worker/Dockerfile.prod"},
		{"link-gitlab-ci", ".gitlab-ci.yml", "backend/docker/Dockerfile deploy/shop.yaml frontend/Dockerfile"},
		{"link-tilt", "Tiltfile", "k8s/web.yaml web/Dockerfile.dev"},
	} {
		s := snap(t, filepath.Join(fixtures, c.dir))
		var got []string
		for _, d := range s.Dependents(filepath.Join(s.Roots()[0], c.file)) {
			got = append(got, relT(s, d))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: Dependents(%s) = %q, want %q", c.dir, c.file, got, c.want)
		}
	}
}

// TestGraphCIWorkBounded checks that CI files which expand to more work than a file may cost
// (a 256-combination matrix in every job, a long template every job extends) are read to the
// bound, not to the end.
func TestGraphCIWorkBounded(t *testing.T) {
	dir := t.TempDir()
	var gh, gl strings.Builder
	gh.WriteString("jobs:\n")
	for i := range 400 { // 400 jobs × 256 combinations: 102,400 steps
		fmt.Fprintf(&gh, "  j%d:\n    strategy:\n      matrix:\n        a: [%s]\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          tags: acme/x:${{ matrix.a }}\n", i, strings.Repeat("1,", 255)+"1")
	}
	gl.WriteString(".tmpl:\n  before_script:\n")
	for i := range 2000 {
		fmt.Fprintf(&gl, "    - echo %d\n", i)
	}
	for i := range 2000 { // 2000 jobs × 2001 script lines
		fmt.Fprintf(&gl, "j%d:\n  extends: .tmpl\n  script:\n    - docker build -t acme/y:%d .\n", i, i)
	}
	write(t, dir, ".github/workflows/big.yml", gh.String())
	write(t, dir, ".gitlab-ci.yml", gl.String())
	s := snap(t, dir)
	if n := len(workflowDecls(mustFile(t, s, ".github/workflows/big.yml")).decls); n != maxCIWork {
		t.Errorf("workflow: %d declarations, want the bound %d", n, maxCIWork)
	}
	if n := len(gitlabDecls(mustFile(t, s, ".gitlab-ci.yml")).decls); n != maxCIWork/2001 {
		t.Errorf("GitLab CI: %d declarations, want the jobs that fit the bound, %d", n, maxCIWork/2001)
	}
}
