package diagtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// RunDocExamples checks every rule's documentation examples with eng: Doc.Bad must make the
// rule fire, Doc.Good must not. An example is one file, named for the rule's first file kind
// (Dockerfile, deploy.yaml, compose.yaml…), or a txtar archive ("-- name --" lines) of the
// files it needs (a chart, a Dockerfile and the manifest that runs it). A rule that runs only
// in some profiles is checked in the first of them.
func RunDocExamples(t *testing.T, eng *diagnostics.Engine) {
	t.Helper()
	for _, r := range eng.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if r.Doc.Bad == "" || r.Doc.Good == "" {
				t.Fatalf("%s: Doc.Bad and Doc.Good are both required", r.ID)
			}
			if n := exampleCount(t, eng, r, r.Doc.Bad); n == 0 {
				t.Errorf("%s: Doc.Bad does not make the rule fire:\n%s", r.ID, r.Doc.Bad)
			}
			if n := exampleCount(t, eng, r, r.Doc.Good); n != 0 {
				t.Errorf("%s: Doc.Good still makes the rule fire %d time(s):\n%s", r.ID, n, r.Doc.Good)
			}
		})
	}
}

// exampleCount writes an example into a new workspace and counts r's findings in it.
func exampleCount(t *testing.T, eng *diagnostics.Engine, r *diagnostics.Rule, example string) int {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	if strings.HasPrefix(example, "-- ") {
		for _, f := range txtar.Parse([]byte(example)).Files {
			files[f.Name] = string(f.Data)
		}
	} else {
		files[exampleName(r.Kinds[0])] = example
	}
	if _, ok := files[diagnostics.ConfigFileName]; !ok && r.Profiles != nil {
		files[diagnostics.ConfigFileName] = "profile: " + string(r.Profiles[0]) + "\n"
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := eng.NewSnapshot([]string{dir}, diagnostics.Config{})
	n := 0
	for _, p := range s.Walk() {
		for _, f := range s.Diagnose(context.Background(), p) {
			if f.RuleID == r.ID {
				n++
			}
		}
	}
	return n
}

func exampleName(k diagnostics.FileKind) string {
	switch k {
	case diagnostics.KindDockerfile:
		return "Dockerfile"
	case diagnostics.KindCompose:
		return "compose.yaml"
	case diagnostics.KindHelmChart:
		return "Chart.yaml"
	case diagnostics.KindHelmValues:
		return "values.yaml"
	case diagnostics.KindKustomize:
		return "kustomization.yaml"
	case diagnostics.KindSkaffold:
		return "skaffold.yaml"
	case diagnostics.KindBake:
		return "docker-bake.hcl"
	case diagnostics.KindConfig:
		return diagnostics.ConfigFileName
	}
	return "deploy.yaml"
}
