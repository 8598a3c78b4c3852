package helm_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/workspace"
)

// TestChartImageLinks checks that the images a chart's values name are linked like any
// manifest's, and that inspect lists each link the rendered manifests use, at the values key
// that sets the image.
func TestChartImageLinks(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "rules", "NR404", "values-image-linked"))
	if err != nil {
		t.Fatal(err)
	}
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	a := helm.Analyze(context.Background(), s, filepath.Join(dir, "charts", "web", "Chart.yaml"))
	if a == nil || a.Derived == nil {
		t.Fatal("the chart did not render")
	}
	var rows []workspace.InspectLink
	for _, v := range s.InspectWorkspace() {
		if r, ok := v.([]workspace.InspectLink); ok {
			rows = append(rows, r...)
		}
	}
	linked := 0
	for _, u := range workspace.For(a.Derived).Uses {
		if u.Link == nil || !strings.Contains(u.File, helm.RenderedDir) {
			continue
		}
		linked++
		found := false
		for _, r := range rows {
			if r.Image == u.Link.Image && r.Dockerfile == mustRel(t, dir, u.Link.Dockerfile) && len(r.UsedBy) > 0 && r.UsedBy[0].File == "charts/web/values.yaml" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s (%s) is not in inspect: %+v", u.Image, u.Link.Dockerfile, rows)
		}
	}
	if linked != 2 {
		t.Fatalf("%d rendered images linked, want 2 (web, sidecar)", linked)
	}
	for _, r := range rows {
		if r.Image == "ghcr.io/acme/sidecar:2.0" && (r.UsedBy[0].Line != 8 || r.From.Line != 8) {
			t.Errorf("sidecar row %+v, want values.yaml line 8 (sidecar.image.repository)", r)
		}
	}
}

func mustRel(t *testing.T, dir, p string) string {
	r, err := filepath.Rel(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(r)
}
