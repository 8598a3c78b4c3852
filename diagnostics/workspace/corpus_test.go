package workspace

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

// TestCorpusKubeStateMetrics lays out the kube-state-metrics Dockerfile and its standard
// Deployment as that repository does (Dockerfile at the root, examples/standard/deployment.yaml)
// in a folder named after the project. The folder's name links nothing (what a checkout is
// called decides nothing); with the link named in .nonroot-ls.yaml, the findings: none with
// runAsUser 65534 as shipped, NR301 (USER nobody is a name) once runAsUser is taken out.
func TestCorpusKubeStateMetrics(t *testing.T) {
	corpus := diagtest.CorpusDir(t)
	df, err := os.ReadFile(filepath.Join(corpus, "dockerfile", "kube-state-metrics.Dockerfile"))
	if err != nil {
		t.Skip(err)
	}
	dep, err := os.ReadFile(filepath.Join(corpus, "k8s", "kube-state-metrics-standard-deployment.yaml"))
	if err != nil {
		t.Skip(err)
	}
	const image = "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0"
	root := filepath.Join(t.TempDir(), "kube-state-metrics")
	write(t, root, "Dockerfile", string(df))
	write(t, root, "examples/standard/deployment.yaml", string(dep))
	if l := For(snap(t, root)).LinkFor(image); l != nil {
		t.Fatalf("the checkout folder's name made a link: %+v", *l)
	}
	write(t, root, ".nonroot-ls.yaml", "images:\n  - image: registry.k8s.io/kube-state-metrics/kube-state-metrics\n    dockerfile: Dockerfile\n")
	s := snap(t, root).WithSettings(onlyWorkspaceRules())
	g := For(s)
	l := g.LinkFor(image)
	if l == nil || relT(s, l.Dockerfile) != "Dockerfile" || l.Source != SourceConfig {
		t.Fatalf("link = %s", describe(s, l))
	}
	manifest := filepath.Join(s.Roots()[0], "examples/standard/deployment.yaml")
	if fs := s.Diagnose(context.Background(), manifest); len(fs) != 0 {
		t.Fatalf("findings with runAsUser 65534: %v", fs)
	}
	without := strings.Replace(string(dep), "runAsUser: 65534", "runAsGroup: 65534", 1)
	if without == string(dep) {
		t.Fatal("the corpus Deployment no longer sets runAsUser: 65534")
	}
	s = s.WithFile(manifest, 1, "yaml", without)
	fs := s.Diagnose(context.Background(), manifest)
	if len(fs) != 1 || fs[0].RuleID != "NR301" || !strings.Contains(fs[0].Message, "non-numeric user (nobody)") {
		t.Fatalf("findings without runAsUser: %v", fs)
	}
	if rel := fs[0].Related[0]; relT(s, rel.File) != "Dockerfile" || rel.Range.Start.Line != 13 {
		t.Errorf("related = %+v, want the USER nobody line of the Dockerfile", rel)
	}
}
