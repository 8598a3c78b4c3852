package diagnostics

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// testRule reports every line containing "BAD" in a Dockerfile; it panics on "PANIC".
var testRule = &Rule{
	ID: "NR999", Title: "test rule", Severity: SeverityWarning, Kinds: []FileKind{KindDockerfile},
	Hadolint: []string{"DL9999"},
	Run: func(p *Pass) {
		for n := 0; n < p.File.Lines().Count(); n++ {
			line := p.File.Lines().Line(n)
			if strings.Contains(line, "PANIC") {
				panic("boom")
			}
			if i := strings.Index(line, "BAD"); i >= 0 && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				p.Reportf(text.Range{Start: text.Pos{Line: n, Col: i}, End: text.Pos{Line: n, Col: i + 3}}, "bad")
			}
		}
	},
}

// testEngine has the test rule; groups add what a test needs.
func testEngine(t testing.TB, groups ...*Group) *Engine {
	t.Helper()
	e, err := New([]*Rule{testRule}, Options{Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newTestSnapshot is a snapshot of roots by an engine with the test rule.
func newTestSnapshot(t testing.TB, roots []string, c Config) *Snapshot {
	t.Helper()
	return testEngine(t).NewSnapshot(roots, c)
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(fs []Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+f.Range.Start.String()+":"+f.Severity.String())
	}
	return strings.Join(out, " ")
}

func TestDiagnoseSuppressionsAndConfig(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "app/Dockerfile", "FROM x\nRUN BAD\n# nonroot-ls ignore=NR999\nRUN BAD\n# hadolint ignore=DL9999\n# another comment\nRUN a \\\n  BAD\n")
	s := newTestSnapshot(t, []string{dir}, Config{})
	if got, want := ids(s.Diagnose(context.Background(), df)), "NR999@2:5:warning"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	write(t, dir, ConfigFileName, "rules:\n  NR999: error\n")
	s = newTestSnapshot(t, []string{dir}, Config{})
	if got, want := ids(s.Diagnose(context.Background(), df)), "NR999@2:5:error"; got != want {
		t.Fatalf("config severity: got %q, want %q", got, want)
	}
	write(t, dir, ConfigFileName, "ignore: [app/]\n")
	s = newTestSnapshot(t, []string{dir}, Config{})
	if got := s.Diagnose(context.Background(), df); len(got) != 0 {
		t.Fatalf("ignored path still diagnosed: %v", got)
	}
	s = s.WithFile(df, 1, "dockerfile", "# hadolint global ignore=DL9999\nFROM x\nRUN BAD\n")
	if got := s.Diagnose(context.Background(), df); len(got) != 0 && !s.Ignored(df) {
		t.Fatalf("global ignore: %v", got)
	}
}

func TestBadConfigIsReported(t *testing.T) {
	dir := t.TempDir()
	cf := write(t, dir, ConfigFileName, "profile: kubernetes\nrulez: {}\n")
	s := newTestSnapshot(t, []string{dir}, Config{})
	got := s.Diagnose(context.Background(), cf)
	if len(got) != 1 || got[0].RuleID != "NR001" || !strings.Contains(got[0].Message, "rulez") {
		t.Fatalf("got %v", got)
	}
	if _, err := ParseConfig([]byte("rules: {NR999: loud}")); err == nil {
		t.Fatal("bad severity accepted")
	}
	if _, err := ParseConfig([]byte("defaultUser: {uid: 0}")); err == nil {
		t.Fatal("uid 0 accepted as default user")
	}
}

func TestPanickingRuleBecomesNR001(t *testing.T) {
	s := newTestSnapshot(t, []string{t.TempDir()}, Config{})
	p := filepath.Join(s.Roots()[0], "Dockerfile")
	s = s.WithFile(p, 1, "dockerfile", "FROM x\nRUN PANIC\n")
	got := s.Diagnose(context.Background(), p)
	found := false
	for _, f := range got {
		if f.RuleID == "NR001" && strings.Contains(f.Message, "NR999") {
			found = true
		}
	}
	if !found {
		t.Fatalf("got %v", got)
	}
}

func TestReadsStayInsideRoots(t *testing.T) {
	outside := t.TempDir()
	secret := write(t, outside, "Dockerfile", "FROM x\n")
	dir := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(dir, "Dockerfile")); err != nil {
		t.Skip(err)
	}
	s := newTestSnapshot(t, []string{dir}, Config{})
	if _, err := s.File(filepath.Join(dir, "Dockerfile")); err == nil {
		t.Fatal("symlink out of the workspace was followed")
	}
	if _, err := s.File(secret); err == nil {
		t.Fatal("read outside the workspace")
	}
}

func TestBinaryFile(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "Dockerfile", "FROM x\x00\x01RUN BAD\n")
	got := newTestSnapshot(t, []string{dir}, Config{}).Diagnose(context.Background(), p)
	if len(got) != 1 || got[0].RuleID != "NR001" {
		t.Fatalf("got %v", got)
	}
}

func TestHoverShowsRuleDoc(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "Dockerfile", "FROM x\nRUN BAD\n")
	h := newTestSnapshot(t, []string{dir}, Config{}).Hover(context.Background(), p, text.Pos{Line: 1, Col: 5})
	if h == nil || !strings.Contains(h.Markdown, "NR999") {
		t.Fatalf("hover %+v", h)
	}
}

func TestWalkHonoursGitignore(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, ".gitignore", "# build output\n/dist/\n*.tmp.yaml\nbuild/\n!keep.tmp.yaml\n")
	write(t, dir, "Dockerfile", "FROM x\n")
	write(t, dir, "dist/Dockerfile", "FROM x\n")
	write(t, dir, "a/build/Dockerfile", "FROM x\n")
	write(t, dir, "a/dist/Dockerfile", "FROM x\n") // /dist/ is anchored to the root
	write(t, dir, "a/x.tmp.yaml", "apiVersion: v1\nkind: Pod\n")
	write(t, dir, "a/keep.tmp.yaml", "apiVersion: v1\nkind: Pod\n")
	write(t, dir, "b/.gitignore", "Dockerfile\n")
	write(t, dir, "b/Dockerfile", "FROM x\n")
	write(t, dir, "c/Dockerfile", "FROM x\n") // b's .gitignore does not reach c
	s := newTestSnapshot(t, []string{dir}, Config{})
	var got []string
	for _, p := range s.Walk() {
		rel, _ := filepath.Rel(s.Roots()[0], p)
		got = append(got, filepath.ToSlash(rel))
	}
	want := "Dockerfile a/dist/Dockerfile a/keep.tmp.yaml c/Dockerfile"
	if strings.Join(got, " ") != want {
		t.Fatalf("walk = %q, want %q", strings.Join(got, " "), want)
	}
	// An open document is analysed even when ignored by git.
	s = s.WithFile(filepath.Join(s.Roots()[0], "b/Dockerfile"), 1, "dockerfile", "FROM y\n")
	if !strings.Contains(strings.Join(s.Walk(), " "), "b/Dockerfile") {
		t.Fatalf("open document missing from walk: %v", s.Walk())
	}
}

func TestNavigationRegistries(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "app/Dockerfile", "FROM x\n")
	pod := write(t, dir, "pod.yaml", "apiVersion: v1\nkind: Pod\n")
	var logged []string
	g := &Group{
		Name: "nav",
		Definition: map[FileKind]Navigator{KindManifest: func(_ context.Context, s *Snapshot, f *File, pos text.Pos) []Location {
			if pos.Line == 1 {
				return []Location{{File: df}, {File: df}}
			}
			return nil
		}},
		References: map[FileKind]Navigator{KindDockerfile: func(context.Context, *Snapshot, *File, text.Pos) []Location { panic("boom") }},
		Dependents: func(s *Snapshot, path string) []string {
			if path == df {
				return []string{pod, df, pod}
			}
			return nil
		},
	}
	e, err := New(nil, Options{Groups: []*Group{g}, Log: func(msg string) { logged = append(logged, msg) }})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSnapshot([]string{dir}, Config{})
	if got := s.Definition(context.Background(), pod, text.Pos{Line: 1}); len(got) != 1 || got[0].File != df {
		t.Errorf("Definition = %+v", got)
	}
	if got := s.Definition(context.Background(), pod, text.Pos{Line: 0}); got != nil {
		t.Errorf("Definition on line 0 = %+v", got)
	}
	if got := s.References(context.Background(), df, text.Pos{}); got != nil {
		t.Errorf("a panicking provider must yield nothing, got %+v", got)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "panic in navigation") || !strings.Contains(logged[0], "boom") || !strings.Contains(logged[0], "goroutine") {
		t.Errorf("the panic is not logged with its stack: %q", logged)
	}
	if got := s.Dependents(df); len(got) != 1 || got[0] != pod {
		t.Errorf("Dependents = %v, want [%s] (deduplicated, without the file itself)", got, pod)
	}
}

func TestWalkCacheFollowsDiskChanges(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a/Dockerfile", "FROM x\n")
	s := newTestSnapshot(t, []string{dir}, Config{})
	rel := func(s *Snapshot) string {
		var out []string
		if fresh := newSnapshot(s.eng, s.roots, s.settings); len(s.overlays) == 0 && strings.Join(fresh.Walk(), " ") != strings.Join(s.Walk(), " ") {
			t.Errorf("incremental walk %v differs from a fresh one %v", s.Walk(), fresh.Walk())
		}
		for _, p := range s.Walk() {
			r, _ := filepath.Rel(s.Roots()[0], p)
			out = append(out, filepath.ToSlash(r))
		}
		return strings.Join(out, " ")
	}
	if got := rel(s); got != "a/Dockerfile" {
		t.Fatalf("walk = %q", got)
	}
	// A content change keeps the walk; the new content is read.
	write(t, dir, "a/Dockerfile", "FROM y\n")
	s = s.WithDiskChanges(a)
	if f, _ := s.File(a); f.Text != "FROM y\n" || rel(s) != "a/Dockerfile" {
		t.Fatalf("after change: %q %q", f.Text, rel(s))
	}
	// A created file is found, a deleted one is gone.
	b := write(t, dir, "b/Dockerfile", "FROM x\n")
	s = s.WithDiskChanges(b)
	if got := rel(s); got != "a/Dockerfile b/Dockerfile" {
		t.Fatalf("after create: %q", got)
	}
	os.Remove(a)
	s = s.WithDiskChanges(a)
	if got := rel(s); got != "b/Dockerfile" {
		t.Fatalf("after delete: %q", got)
	}
	// An open document joins the walk and leaves it when closed (and deleted on disk).
	c := filepath.Join(s.Roots()[0], "c", "pod.yaml")
	s = s.WithFile(c, 1, "yaml", "apiVersion: v1\nkind: Pod\n")
	if got := rel(s); got != "b/Dockerfile c/pod.yaml" {
		t.Fatalf("with open pod.yaml: %q", got)
	}
	s = s.WithFile(c, 2, "yaml", "just: text\n")
	if got := rel(s); got != "b/Dockerfile" {
		t.Fatalf("pod.yaml no longer a manifest: %q", got)
	}
	s = s.WithoutFile(c)
	write(t, dir, "node_modules/x/Dockerfile", "FROM x\n")
	s = s.WithDiskChanges(filepath.Join(s.Roots()[0], "node_modules/x/Dockerfile"))
	if got := rel(s); got != "b/Dockerfile" {
		t.Fatalf("after close: %q", got)
	}
	// An open .gitignore changes what is walked; closing it restores the disk's view.
	gi := filepath.Join(s.Roots()[0], ".gitignore")
	s = s.WithFile(gi, 1, "ignore", "b/\n")
	if got := rel(s); got != "" {
		t.Fatalf("with open .gitignore: %q", got)
	}
	s = s.WithoutFile(gi)
	if got := rel(s); got != "b/Dockerfile" {
		t.Fatalf("after closing .gitignore: %q", got)
	}
}

func TestInspectAnnotate(t *testing.T) {
	type m struct {
		B int `json:"b"`
		A int `json:"a"`
	}
	got, _ := json.Marshal(annotate(m{1, 2}, "profile", map[string]string{"name": "openshift"}))
	if want := `{"b":1,"a":2,"profile":{"name":"openshift"}}`; string(got) != want {
		t.Errorf("object: got %s, want %s", got, want)
	}
	got, _ = json.Marshal(annotate([]m{{1, 2}, {3, 4}}, "p", 1))
	if want := `[{"b":1,"a":2,"p":1},{"b":3,"a":4,"p":1}]`; string(got) != want {
		t.Errorf("array: got %s, want %s", got, want)
	}
	got, _ = json.Marshal(annotate(struct{}{}, "p", 1))
	if want := `{"p":1}`; string(got) != want {
		t.Errorf("empty object: got %s, want %s", got, want)
	}
}

func TestLooksLikeManifestJSON(t *testing.T) {
	for src, want := range map[string]bool{
		`{"apiVersion": "v1", "kind": "Pod", "spec": {}}`:       true,
		"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\"\n}": true,
		`{"name": "kind", "apiVersion": 3}`:                     false,
		"apiVersion: v1\nkind: Pod\n":                           true,
		"jobs:\n  kind: x\n":                                    false,
	} {
		if got := LooksLikeManifest([]byte(src)); got != want {
			t.Errorf("LooksLikeManifest(%q) = %v, want %v", src, got, want)
		}
	}
}

// An editing session derives each snapshot from the last, and memoised values may hold the
// snapshot that computed them: the old snapshots must still be collected (a chain of them
// kept every build of a kustomize overlay alive, 0.5 MB an edit).
func TestOldSnapshotsAreCollected(t *testing.T) {
	dir := t.TempDir()
	s := testEngine(t).NewSnapshot([]string{dir}, Config{})
	path := filepath.Join(dir, "Dockerfile")
	type holder struct{ s *Snapshot }
	var collected atomic.Int32
	const edits = 50
	for i := range edits {
		s = s.WithFile(path, int32(i+1), "dockerfile", fmt.Sprintf("FROM alpine\nUSER %d\n", i))
		s.Memo("holder", func() any { return holder{s} })
		s.MemoDerived("derived", func(prev any, _ []string, _ bool) any { return holder{s} })
		runtime.AddCleanup(s, func(*atomic.Int32) { collected.Add(1) }, &collected)
	}
	for range 50 {
		runtime.GC()
		if collected.Load() >= edits-3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := collected.Load(); n < edits-3 {
		t.Errorf("%d of %d earlier snapshots were collected; the rest are kept by their successors", n, edits-1)
	}
	runtime.KeepAlive(s)
}
