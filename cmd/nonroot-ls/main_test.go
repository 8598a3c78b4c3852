package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Test rules, only in this test binary's engine (the docs test leaves them out):
// NR990 flags the marker FIXME-NR990 in a Dockerfile (warning, with a fix); NR991 flags
// K8S-ONLY and runs only in the kubernetes profile; an inspector describes bake files.
const marker = "FIXME-NR990"

var testRuleList = []*diagnostics.Rule{{
	ID: "NR990", Title: "Test marker", Severity: diagnostics.SeverityWarning, FixTitle: "Replace the marker",
	Kinds: []diagnostics.FileKind{diagnostics.KindDockerfile},
	Run:   func(p *diagnostics.Pass) { find(p, marker) },
	Fix: func(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
		return diagnostics.Single("Replace the marker", f.File, true, text.Edit{Range: f.Range, NewText: "fixed"})
	},
}, {
	ID: "NR991", Title: "Kubernetes only", Severity: diagnostics.SeverityError,
	Profiles: []diagnostics.Profile{diagnostics.ProfileKubernetes},
	Kinds:    []diagnostics.FileKind{diagnostics.KindDockerfile},
	Run:      func(p *diagnostics.Pass) { find(p, "K8S-ONLY") },
}}

func find(pass *diagnostics.Pass, word string) {
	l := pass.File.Lines()
	for n := 0; n < l.Count(); n++ {
		if i := strings.Index(l.Line(n), word); i >= 0 {
			pass.Reportf(text.Range{Start: text.Pos{Line: n, Col: i}, End: text.Pos{Line: n, Col: i + len(word)}}, "found %s", word)
		}
	}
}

// testGroup describes bake files for inspect.
var testGroup = &diagnostics.Group{
	Name: "test",
	Inspect: map[diagnostics.FileKind]diagnostics.InspectFunc{
		diagnostics.KindBake: func(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File) any {
			return map[string]any{"file": f.Path, "lines": f.Lines().Count(), "targets": []string{"app"}}
		},
	},
}

// testEngine is the product's engine (charts unrendered: no helper in this test binary) with
// the test rules and inspector.
func testEngine(log func(string)) *diagnostics.Engine {
	e, err := diagnostics.New(append(slices.Clone(all.Rules), testRuleList...), diagnostics.Options{
		Groups: append(all.Groups(all.Options{}), testGroup), Log: log,
	})
	if err != nil {
		panic(err)
	}
	return e
}

// tree writes files (name → content) under a new temp dir, chdirs there, returns the dir.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return dir
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(testEngine, args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestUsageAndVersion(t *testing.T) {
	tree(t, nil)
	if out, _, code := runCmd(t, "version"); code != 0 || !strings.HasPrefix(out, "nonroot-ls ") {
		t.Errorf("version: %q %d", out, code)
	}
	if out, _, code := runCmd(t, "help"); code != 0 || !strings.Contains(out, "nonroot-ls check") {
		t.Errorf("help: %d", code)
	}
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"check", "--bogus"}, {"check", "--format", "xml"}, {"check", "--fail-on", "fatal"},
		{"check", "--profile", "mesos"}, {"check", "no/such/dir"}, {"fix", "no/such/file"}, {"inspect", "--format", "yaml"}, {"rules", "extra"},
	} {
		_, stderr, code := runCmd(t, args...)
		if code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
	if _, stderr, _ := runCmd(t, "check", "no/such/dir"); !strings.Contains(stderr, "no/such/dir") {
		t.Errorf("missing path error does not name it: %q", stderr)
	}
}

func TestCheckTextAndExitCodes(t *testing.T) {
	tree(t, map[string]string{
		"app/Dockerfile":   "FROM alpine\nUSER 10001:0\n# é😀 " + marker + "\n",
		"clean/Dockerfile": "FROM alpine\nUSER 10001:0\n",
		"app/notes.txt":    marker,
	})
	out, _, code := runCmd(t, "check", ".")
	if code != 1 {
		t.Errorf("exit %d, want 1 (a warning, --fail-on warning by default)", code)
	}
	// Column 6: "# é😀 " is 5 characters (code points).
	if !strings.Contains(out, "app/Dockerfile:3:6: warning NR990: found "+marker+"\n") {
		t.Errorf("text output:\n%s", out)
	}
	if strings.Contains(out, "notes.txt") {
		t.Errorf("a plain text file was checked:\n%s", out)
	}
	for flag, want := range map[string]int{"error": 0, "warning": 1, "info": 1, "hint": 1, "off": 0} {
		if _, _, code := runCmd(t, "check", "--fail-on", flag, "."); code != want {
			t.Errorf("--fail-on %s: exit %d, want %d", flag, code, want)
		}
	}
	// Flags after paths; a file path checks just that file.
	if out, _, code := runCmd(t, "check", "clean/Dockerfile", "--fail-on", "hint"); code != 0 || !strings.Contains(out, "no problems in 1 file") {
		t.Errorf("clean file: %d\n%s", code, out)
	}
}

func TestCheckProfileOverridesConfigFile(t *testing.T) {
	tree(t, map[string]string{
		"Dockerfile":       "FROM alpine\nUSER 10001:0\nRUN K8S-ONLY\n",
		".nonroot-ls.yaml": "profile: docker\n",
	})
	if out, _, code := runCmd(t, "check", "."); code != 0 || strings.Contains(out, "NR991") {
		t.Errorf("profile docker from the config file: %d\n%s", code, out)
	}
	if out, _, code := runCmd(t, "check", "--profile", "kubernetes", "."); code != 1 || !strings.Contains(out, "error NR991") {
		t.Errorf("--profile kubernetes: %d\n%s", code, out)
	}
}

func TestCheckEngineErrors(t *testing.T) {
	tree(t, map[string]string{
		".nonroot-ls.yaml": "rulez: {}\n",
		"bin/Dockerfile":   "FROM a\n\x00\x01",
	})
	out, _, code := runCmd(t, "check", "--fail-on", "error")
	if code != 1 || !strings.Contains(out, ".nonroot-ls.yaml:1:1: error NR001: invalid .nonroot-ls.yaml") || !strings.Contains(out, "bin/Dockerfile:1:1: error NR001: binary file") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestCheckOversizeFile: a file over the size limit is NR001 with the limit, and check exits
// 2 (a file could not be analysed), whether the walk found it or the user named it.
func TestCheckOversizeFile(t *testing.T) {
	big := "FROM alpine\n" + strings.Repeat("RUN true\n", (diagnostics.MaxFileSize/9)+1) + "USER root\n"
	tree(t, map[string]string{"app/Dockerfile": big})
	for _, arg := range []string{".", "app/Dockerfile"} {
		out, errs, code := runCmd(t, "check", arg)
		if code != 2 || !strings.Contains(out, "app/Dockerfile:1:1: error NR001: the file is") || !strings.Contains(out, "over the 16 MiB limit") {
			t.Errorf("check %s: exit %d\n%s", arg, code, out)
		}
		if !strings.Contains(errs, "app/Dockerfile: could not be analysed") {
			t.Errorf("check %s: stderr %q", arg, errs)
		}
	}
}

// TestCheckWalkLimit: a folder with more files than the walk reads says so and exits 2.
func TestCheckWalkLimit(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine\nUSER 10001:0\n"})
	for i := 0; i <= 50000; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.txt", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, errs, code := runCmd(t, "check", ".")
	if code != 2 || !strings.Contains(errs, "the walk stopped after 50000 files") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestCheckSymlinkArguments: a path named on the command line obeys the walk's rule: a link
// that leads out of the working directory, or a file link that leads out of its folder, is
// refused (exit 2) and what it leads to is not read.
func TestCheckSymlinkArguments(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "Dockerfile"), []byte("FROM alpine\nUSER root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := tree(t, map[string]string{"app/Dockerfile": "FROM alpine\nUSER 10001:0\n"})
	for name, to := range map[string]string{"link/Dockerfile": filepath.Join(outside, "Dockerfile"), "out": outside} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.Symlink(to, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, arg := range []string{"link/Dockerfile", "out", "out/Dockerfile", filepath.Join(dir, "out")} {
		out, errs, code := runCmd(t, "check", arg)
		if code != 2 || strings.Contains(out, "NR102") || !strings.Contains(errs, "symlink leads outside") {
			t.Errorf("check %s: exit %d\n%s%s", arg, code, out, errs)
		}
	}
	if out, _, code := runCmd(t, "check", "app"); code != 0 {
		t.Errorf("check app: exit %d\n%s", code, out)
	}
}

func TestCheckJSON(t *testing.T) {
	tree(t, map[string]string{"Dockerfile": "FROM alpine\nUSER 10001:0\nRUN echo " + marker + "\n"})
	out, _, code := runCmd(t, "check", "--format", "json")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	var fs []jsonFinding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got *jsonFinding
	for i := range fs {
		if fs[i].Rule == "NR990" {
			got = &fs[i]
		}
	}
	if got == nil || got.File != "Dockerfile" || got.Line != 3 || got.Column != 10 || got.EndLine != 3 || got.EndColumn != 10+len(marker) ||
		got.Severity != "warning" || got.Message != "found "+marker || !strings.HasSuffix(got.DocURL, "/NR990.md") {
		t.Errorf("json finding %+v", got)
	}
	// No findings: an empty array, not null.
	tree(t, map[string]string{"Dockerfile": "FROM alpine\nUSER 10001:0\n"})
	if out, _, code := runCmd(t, "check", "--format", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("clean json: %d %q", code, out)
	}
}

// TestCheckSARIF validates the log structurally against what GitHub code scanning requires.
func TestCheckSARIF(t *testing.T) {
	tree(t, map[string]string{
		"svc/Dockerfile":   "FROM alpine\nUSER 10001:0\n# é😀 " + marker + "\n",
		".nonroot-ls.yaml": "rulez: {}\n",
	})
	out, _, code := runCmd(t, "check", "--format", "sarif")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name           string `json:"name"`
					InformationURI string `json:"informationUri"`
					Rules          []struct {
						ID               string                `json:"id"`
						Name             string                `json:"name"`
						HelpURI          string                `json:"helpUri"`
						ShortDescription struct{ Text string } `json:"shortDescription"`
						Help             struct{ Text, Markdown string }
						Default          struct{ Level string } `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			OriginalURIBaseIDs map[string]struct{ URI string } `json:"originalUriBaseIds"`
			ColumnKind         string                          `json:"columnKind"`
			Results            []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine, StartColumn, EndLine, EndColumn int
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("envelope: version %q schema %q runs %d", log.Version, log.Schema, len(log.Runs))
	}
	r := log.Runs[0]
	d := r.Tool.Driver
	if d.Name != "nonroot-ls" || d.InformationURI == "" || len(d.Rules) != len(all.Rules)+len(testRuleList) {
		t.Fatalf("driver %q %q with %d rules", d.Name, d.InformationURI, len(d.Rules))
	}
	for _, rule := range d.Rules {
		if rule.ID == "" || rule.Name == "" || !strings.HasPrefix(rule.HelpURI, "https://") || rule.ShortDescription.Text == "" || rule.Help.Markdown == "" ||
			!map[string]bool{"error": true, "warning": true, "note": true}[rule.Default.Level] {
			t.Errorf("rule %+v", rule)
		}
	}
	if r.ColumnKind != "utf16CodeUnits" || !strings.HasPrefix(r.OriginalURIBaseIDs["%SRCROOT%"].URI, "file:///") || !strings.HasSuffix(r.OriginalURIBaseIDs["%SRCROOT%"].URI, "/") {
		t.Errorf("run: columnKind %q base %+v", r.ColumnKind, r.OriginalURIBaseIDs)
	}
	seen := map[string]bool{}
	for _, res := range r.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(d.Rules) || d.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d does not point at its rule", res.RuleID, res.RuleIndex)
		}
		if !map[string]bool{"error": true, "warning": true, "note": true}[res.Level] || res.Message.Text == "" || len(res.Locations) != 1 {
			t.Errorf("result %+v", res)
		}
		loc := res.Locations[0].PhysicalLocation
		if u := loc.ArtifactLocation.URI; strings.Contains(u, ":") || strings.HasPrefix(u, "/") || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("artifact location %+v is not relative to the working directory", loc.ArtifactLocation)
		}
		if reg := loc.Region; reg.StartLine < 1 || reg.StartColumn < 1 || reg.EndLine < reg.StartLine || (reg.EndLine == reg.StartLine && reg.EndColumn < reg.StartColumn) {
			t.Errorf("region %+v", reg)
		}
		seen[res.RuleID+" "+loc.ArtifactLocation.URI] = true
		if res.RuleID == "NR990" {
			// "# é😀 " is 6 UTF-16 code units: the marker starts at column 7.
			if reg := loc.Region; reg.StartLine != 3 || reg.StartColumn != 7 || reg.EndColumn != 7+len(marker) {
				t.Errorf("NR990 region %+v", reg)
			}
		}
	}
	if !seen["NR990 svc/Dockerfile"] || !seen["NR001 .nonroot-ls.yaml"] {
		t.Errorf("results %v", seen)
	}
}

func TestFix(t *testing.T) {
	dir := tree(t, map[string]string{"app/Dockerfile": "FROM alpine\r\nUSER 10001:0\r\n# keep me\r\nRUN echo " + marker + "\r\n"})
	path := filepath.Join(dir, "app/Dockerfile")
	out, _, code := runCmd(t, "fix", "--diff", ".")
	want := "--- a/app/Dockerfile\n+++ b/app/Dockerfile\n@@ -1,4 +1,4 @@\n FROM alpine\r\n USER 10001:0\r\n # keep me\r\n-RUN echo " + marker + "\r\n+RUN echo fixed\r\n"
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("fix --diff: exit %d\n%q\nwant\n%q", code, out, want)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), marker) {
		t.Fatal("fix --diff wrote the file")
	}
	out, _, code = runCmd(t, "fix", "app")
	if code != 0 || !strings.Contains(out, "fixed app/Dockerfile: NR990") {
		t.Errorf("fix: %d %q", code, out)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "# keep me\r\nRUN echo fixed\r\n") {
		t.Errorf("after fix: %q", b)
	}
	// Nothing left: no diff, exit 0.
	if out, _, code := runCmd(t, "fix", "--diff", "."); code != 0 || out != "" {
		t.Errorf("second fix --diff: %d %q", code, out)
	}
}

func TestInspect(t *testing.T) {
	tree(t, map[string]string{"a/docker-bake.hcl": "target \"app\" {}\n", "b/docker-bake.hcl": "target \"app\" {}\n\n"})
	out, _, code := runCmd(t, "inspect", "--format", "json", "a/docker-bake.hcl")
	var one map[string]any
	if err := json.Unmarshal([]byte(out), &one); code != 0 || err != nil || one["file"] != "a/docker-bake.hcl" || one["lines"] != 2.0 {
		t.Errorf("one file: %d %v %s", code, err, out)
	}
	if !strings.HasPrefix(out, "{\n  \"file\"") {
		t.Errorf("file is not the first key:\n%s", out)
	}
	out, _, code = runCmd(t, "inspect", "--format", "json", "--files", ".")
	var many []map[string]any
	if err := json.Unmarshal([]byte(out), &many); code != 0 || err != nil || len(many) != 2 || many[0]["file"] != "a/docker-bake.hcl" || many[1]["file"] != "b/docker-bake.hcl" {
		t.Errorf("several files: %d %v %s", code, err, out)
	}
	out, _, code = runCmd(t, "inspect", "--files", ".")
	if code != 0 || !strings.Contains(out, "a/docker-bake.hcl\n  lines: 2\n  targets[0]: app\n") {
		t.Errorf("text:\n%s", out)
	}
}

func TestRulesList(t *testing.T) {
	out, _, code := runCmd(t, "rules")
	if code != 0 || !strings.Contains(out, "NR001  error    File cannot be analysed\n") || !strings.Contains(out, "NR990  warning  Test marker  [fix: Replace the marker]") {
		t.Errorf("rules: %d\n%s", code, out)
	}
	dir := t.TempDir()
	if _, _, code := runCmd(t, "rules", "--markdown", "--dir", dir); code != 0 {
		t.Fatal(code)
	}
	b, err := os.ReadFile(filepath.Join(dir, "NR990.md"))
	if err != nil || !strings.Contains(string(b), "# NR990: Test marker") || !strings.Contains(string(b), "| Quick-fix | Replace the marker |") {
		t.Errorf("NR990.md: %v\n%s", err, b)
	}
}

// TestExampleBlocks: a txtar example renders one fenced block per file under its name, and
// the fixed example only names the files it leaves as they were.
func TestExampleBlocks(t *testing.T) {
	r := &diagnostics.Rule{ID: "NR990", Kinds: []diagnostics.FileKind{diagnostics.KindManifest}}
	bad := "-- Dockerfile --\nUSER app\n-- k8s/pod.yaml --\nkind: Pod\n-- run.sh --\nexec app\n"
	good := "-- Dockerfile --\nUSER 10001\n-- k8s/pod.yaml --\nkind: Pod\n-- run.sh --\nexec app\n"
	want := "\n`Dockerfile`:\n\n```dockerfile\nUSER app\n```\n" +
		"\n`k8s/pod.yaml`:\n\n```yaml\nkind: Pod\n```\n" +
		"\n`run.sh`:\n\n```sh\nexec app\n```\n"
	if got := exampleBlocks(r, bad, ""); got != want {
		t.Errorf("bad:\n%s\nwant:\n%s", got, want)
	}
	want = "\n`Dockerfile`:\n\n```dockerfile\nUSER 10001\n```\n\nUnchanged: `k8s/pod.yaml`, `run.sh`.\n"
	if got := exampleBlocks(r, good, bad); got != want {
		t.Errorf("good:\n%s\nwant:\n%s", got, want)
	}
	if got, want := exampleBlocks(r, "kind: Pod\n", ""), "\n```yaml\nkind: Pod\n```\n"; got != want {
		t.Errorf("one file: %q, want %q", got, want)
	}
}

// TestDocsUpToDate fails when docs/rules differs from what the rules' metadata generates.
// Regenerate with: go run ./cmd/nonroot-ls rules --markdown
func TestDocsUpToDate(t *testing.T) {
	rs := alltest.Engine().Rules()
	want := map[string]string{"README.md": indexPage(rs)}
	for _, r := range rs {
		want[r.ID+".md"] = rulePage(r)
	}
	dir := filepath.Join("..", "..", "docs", "rules")
	got := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			got[e.Name()] = string(b)
		}
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("docs/rules/%s is stale or missing: run `go run ./cmd/nonroot-ls rules --markdown`", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/rules/%s belongs to no rule: run `go run ./cmd/nonroot-ls rules --markdown`", name)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if w, err := withReadmeTable(string(readme), rs); err != nil || w != string(readme) {
		t.Errorf("the rule table in README.md is stale (%v): run `go run ./cmd/nonroot-ls rules --markdown`", err)
	}
}

// TestUnifiedDiff pins the format `fix --diff` prints (udiff.Unified): 3 lines of context,
// GNU hunk headers, separate hunks, the missing final newline marked, nothing for equal texts.
func TestUnifiedDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	b := "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13"
	want := "--- a\n+++ b\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n\\ No newline at end of file\n"
	if got := udiff.Unified("a", "b", a, b); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if udiff.Unified("a", "b", a, a) != "" {
		t.Error("equal texts have a diff")
	}
}

// TestDemo: the README's first command finds the demo's typical mistakes (when the
// Dockerfile and Kubernetes rule groups are registered).
func TestDemo(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	out, _, code := runCmd(t, "check", "testdata/demo")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"testdata/demo/Dockerfile:18:6: warning NR103:", "NR109", "NR105", "docker-entrypoint.sh:6:"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "testdata/demo/deployment.yaml:20:18: error NR301:") {
		t.Errorf("no NR301 on the demo Deployment (the linked view):\n%s", out)
	}
}

// TestFixRealRule: fix applies a real rule's preferred fix (NR102: USER root).
func TestFixRealRule(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine\n# run the app\nUSER root\n"})
	if _, _, code := runCmd(t, "check", "--fail-on", "error"); code != 1 {
		t.Fatalf("check before fix: exit %d", code)
	}
	if out, _, code := runCmd(t, "fix"); code != 0 || !strings.Contains(out, "NR102") {
		t.Fatalf("fix: %d %q", code, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if !strings.HasPrefix(string(b), "FROM alpine\n# run the app\nUSER ") || strings.Contains(string(b), "root") {
		t.Errorf("after fix: %q", b)
	}
	if _, _, code := runCmd(t, "check", "--fail-on", "error"); code != 0 {
		t.Errorf("check after fix: exit %d", code)
	}
}

// On directories, inspect prints the image → Dockerfile links with their evidence (issue 5),
// every one the checks use: a compose service built without image: too (issue 18).
func TestInspectLinks(t *testing.T) {
	tree(t, map[string]string{
		"compose.yaml":      "services:\n  api:\n    image: ghcr.io/acme/api:1.2\n    build:\n      context: api\n      target: runtime\n  worker:\n    build: worker\n",
		"api/Dockerfile":    "FROM alpine AS runtime\nUSER 10001:0\n",
		"worker/Dockerfile": "FROM alpine\n",
	})
	out, _, code := runCmd(t, "inspect", "--format", "json", ".")
	var links []struct {
		Image      string `json:"image"`
		Dockerfile string `json:"dockerfile"`
		Target     string `json:"target"`
		Evidence   string `json:"evidence"`
		From       struct {
			File string `json:"file"`
			Line int    `json:"line"`
		} `json:"from"`
	}
	if err := json.Unmarshal([]byte(out), &links); code != 0 || err != nil || len(links) != 2 {
		t.Fatalf("inspect: %d %v\n%s", code, err, out)
	}
	l := links[0]
	if l.Image != "ghcr.io/acme/api:1.2" || l.Dockerfile != "api/Dockerfile" || l.Target != "runtime" || l.Evidence != "compose" || l.From.File != "compose.yaml" || l.From.Line < 2 {
		t.Errorf("link %+v", l)
	}
	if l := links[1]; l.Dockerfile != "worker/Dockerfile" || l.Evidence != "compose" || l.From != (struct {
		File string `json:"file"`
		Line int    `json:"line"`
	}{"compose.yaml", 8}) {
		t.Errorf("the worker service's own build: %+v", l)
	}
	if out, _, code := runCmd(t, "inspect", "."); code != 0 || !strings.Contains(out, "evidence: compose") {
		t.Errorf("text: %d\n%s", code, out)
	}
}
