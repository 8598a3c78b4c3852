package helm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// benchChart returns a chart folder: the corpus copy when present, else the project's own
// helm-create fixture.
func benchChart(b *testing.B, corpusRel, fallback string) string {
	if c := corpusPath(corpusRel); c != "" {
		return c
	}
	if fallback == "" {
		b.Skip("corpus not present")
	}
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "rules", fallback))
	return dir
}

func corpusPath(rel string) string {
	dir, _ := filepath.Abs(".")
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
		dir = filepath.Dir(dir)
	}
	c, err := filepath.EvalSymlinks(filepath.Join(dir, "..", "shared", "corpus", rel))
	if err != nil {
		return ""
	}
	return c
}

// benchEdit measures what the editor pays after a values.yaml edit: a new snapshot with the
// edited buffer, the chart rendered twice (plain and marked), the rendered manifests
// diagnosed and traced back, and values.yaml's findings.
func benchEdit(b *testing.B, dir string) {
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	values := filepath.Join(dir, "values.yaml")
	f, err := s.File(values)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A different comment each time: the render cache (keyed by content) cannot help.
		s2 := s.WithFile(values, int32(i+1), "yaml", f.Text+fmt.Sprintf("\n# edit %d\n", nextEdit()))
		_ = s2.Diagnose(context.Background(), values)
	}
}

func BenchmarkHelmCreateValuesEdit(b *testing.B) {
	benchEdit(b, benchChart(b, "helm/helm-create-default", "NR401/helm-create"))
}

func BenchmarkBitnamiNginxValuesEdit(b *testing.B) {
	benchEdit(b, benchChart(b, "helm/bitnami-nginx", ""))
}

// BenchmarkBitnamiNginxFirstOpen is the first diagnostics of values.yaml in a fresh
// snapshot: every chart file read from disk, the chart rendered twice, the manifests
// diagnosed and traced.
func BenchmarkBitnamiNginxFirstOpen(b *testing.B) {
	dir := benchChart(b, "helm/bitnami-nginx", "")
	values := filepath.Join(dir, "values.yaml")
	data, err := os.ReadFile(values)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
		s = s.WithFile(values, 1, "yaml", string(data)+fmt.Sprintf("\n# open %d\n", nextEdit()))
		_ = s.Diagnose(context.Background(), values)
	}
}

var edits int

// nextEdit numbers edits across runs, so -count>1 never hits the render cache.
func nextEdit() int { edits++; return edits }
