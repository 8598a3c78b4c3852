package diagnostics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func init() { Register(testRule) }

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
	s := NewSnapshot([]string{dir}, Config{})
	if got, want := ids(s.Diagnose(df)), "NR999@2:5:warning"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	write(t, dir, ConfigFileName, "rules:\n  NR999: error\n")
	s = NewSnapshot([]string{dir}, Config{})
	if got, want := ids(s.Diagnose(df)), "NR999@2:5:error"; got != want {
		t.Fatalf("config severity: got %q, want %q", got, want)
	}
	write(t, dir, ConfigFileName, "ignore: [app/]\n")
	s = NewSnapshot([]string{dir}, Config{})
	if got := s.Diagnose(df); len(got) != 0 {
		t.Fatalf("ignored path still diagnosed: %v", got)
	}
	s = s.WithFile(df, 1, "dockerfile", "# hadolint global ignore=DL9999\nFROM x\nRUN BAD\n")
	if got := s.Diagnose(df); len(got) != 0 && !s.Ignored(df) {
		t.Fatalf("global ignore: %v", got)
	}
}

func TestBadConfigIsReported(t *testing.T) {
	dir := t.TempDir()
	cf := write(t, dir, ConfigFileName, "profile: kubernetes\nrulez: {}\n")
	s := NewSnapshot([]string{dir}, Config{})
	got := s.Diagnose(cf)
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
	s := NewSnapshot([]string{t.TempDir()}, Config{})
	p := filepath.Join(s.Roots()[0], "Dockerfile")
	s = s.WithFile(p, 1, "dockerfile", "FROM x\nRUN PANIC\n")
	got := s.Diagnose(p)
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
	s := NewSnapshot([]string{dir}, Config{})
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
	got := NewSnapshot([]string{dir}, Config{}).Diagnose(p)
	if len(got) != 1 || got[0].RuleID != "NR001" {
		t.Fatalf("got %v", got)
	}
}

func TestHoverShowsRuleDoc(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "Dockerfile", "FROM x\nRUN BAD\n")
	h := NewSnapshot([]string{dir}, Config{}).Hover(p, text.Pos{Line: 1, Col: 5})
	if h == nil || !strings.Contains(h.Markdown, "NR999") {
		t.Fatalf("hover %+v", h)
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
