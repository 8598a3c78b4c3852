package kube_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// TestFixAll: source.fixAll on a manifest with nothing set yields a manifest that passes the
// restricted profile, keeps every comment, and re-parses; in YAML (2 and 4 spaces, CRLF) and JSON.
func TestFixAll(t *testing.T) {
	for name, src := range map[string]string{
		"deploy.yaml": multiDoc(2),
		"four.yaml": strings.ReplaceAll(`# four spaces, CRLF
apiVersion: batch/v1
kind: Job
metadata:
    name: four
spec:
    template:
        spec:
            # the job
            containers:
                -   name: job
                    image: job
                    # comment between keys
                    args: [run]
            restartPolicy: Never
`, "\n", "\r\n"),
		"pod.json":  `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}, "spec": {"containers": [{"name": "a", "image": "a", "ports": [{"containerPort": 80}]}]}}`,
		"flow.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: f}\nspec: {containers: [{name: a, image: a}], initContainers: [{name: i, image: i}]}\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, name)
			s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(p, 1, "", src)
			if len(s.Diagnose(context.Background(), p)) == 0 {
				t.Fatal("no findings before the fix")
			}
			rep, err := codeactions.FixAll(context.Background(), s, p)
			if err != nil {
				t.Fatal(err)
			}
			out, fixed := rep.Text, rep.Fixed
			after := s.WithFile(p, 2, "", out).Diagnose(context.Background(), p)
			for _, f := range after {
				switch f.RuleID {
				case "NR201", "NR202", "NR203", "NR204", "NR205", "NR206", "NR207", "NR001":
					t.Errorf("left after fix-all: %s\n%s", f, out)
				}
			}
			if strings.Contains(src, "\r\n") && strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
				t.Error("LF written into a CRLF file")
			}
			for _, l := range strings.Split(src, "\n") {
				if c := strings.TrimSpace(l); strings.HasPrefix(c, "#") && !strings.Contains(out, c) {
					t.Errorf("comment %q dropped", c)
				}
			}
			t.Logf("fixed %v", fixed)
			if testing.Verbose() {
				t.Log("\n" + out)
			}
		})
	}
}

// TestJSONManifest: a JSON manifest is read like YAML, findings land on the right tokens.
func TestJSONManifest(t *testing.T) {
	src := "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"j\"},\n  \"spec\": {\n    \"containers\": [\n      {\"name\": \"a\", \"image\": \"a\", \"securityContext\": {\"runAsUser\": 0, \"privileged\": true}}\n    ]\n  }\n}\n"
	dir := t.TempDir()
	p := filepath.Join(dir, "pod.json")
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(p, 1, "json", src)
	lines := text.NewLines(src)
	got := map[string]string{}
	for _, f := range s.Diagnose(context.Background(), p) {
		got[f.RuleID] = lines.Line(f.Range.Start.Line)[f.Range.Start.Col:f.Range.End.Col]
	}
	for rule, tok := range map[string]string{"NR202": "0", "NR205": "true", "NR201": "\"securityContext\"", "NR206": "\"securityContext\""} {
		if got[rule] != tok {
			t.Errorf("%s on %q, want %q (all: %v)", rule, got[rule], tok, got)
		}
	}
}
