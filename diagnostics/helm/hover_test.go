package helm

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func TestHoverValuesKey(t *testing.T) {
	dir, s := fixture(t, "NR401/bitnami-style")
	values := filepath.Join(dir, "values.yaml")
	// containerSecurityContext.runAsUser (line 8, 0-based 7).
	h := s.Hover(context.Background(), values, text.Pos{Line: 7, Col: 4})
	if h == nil {
		t.Fatal("no hover")
	}
	for _, want := range []string{"containerSecurityContext.runAsUser", `Deployment/release-name-nginx container "nginx"`, "templates/deployment.yaml", "securityContext.runAsUser = `1001`"} {
		if !strings.Contains(h.Markdown, want) {
			t.Errorf("hover lacks %q:\n%s", want, h.Markdown)
		}
	}
	if h.Range.Start.Line != 7 {
		t.Errorf("hover range %v", h.Range)
	}
	// A disabled context says so.
	h = s.Hover(context.Background(), values, text.Pos{Line: 20, Col: 4})
	if h == nil || !strings.Contains(h.Markdown, "No template renders") || !strings.Contains(h.Markdown, "enabled: false") {
		t.Errorf("metrics.securityContext hover: %v", h)
	}
	// Keys outside security contexts have no chart hover.
	if h := s.Hover(context.Background(), values, text.Pos{Line: 18, Col: 2}); h != nil {
		t.Errorf("hover on metrics.enabled: %s", h.Markdown)
	}
}

func TestInspectChart(t *testing.T) {
	dir, s := fixture(t, "NR401/subchart-library")
	v, err := s.Inspect(context.Background(), filepath.Join(dir, "Chart.yaml"))
	if err != nil || v == nil {
		t.Fatal(v, err)
	}
	ic := v.(InspectChart)
	if ic.RenderError != "" || len(ic.Containers) != 2 {
		t.Fatalf("%+v", ic)
	}
	js, _ := json.Marshal(ic)
	for _, want := range []string{
		`"runAsNonRoot":{"value":true,"level":"pod","from":"values.yaml key podSecurityContext.runAsNonRoot"}`,
		`"container":"worker"`,
	} {
		if !strings.Contains(string(js), want) {
			t.Errorf("inspect lacks %s:\n%s", want, js)
		}
	}
	// A subchart's own Chart.yaml is inspected as part of its parent: no render of its own.
	v, _ = s.Inspect(context.Background(), filepath.Join(dir, "charts", "worker", "Chart.yaml"))
	if sub := v.(InspectChart); len(sub.Containers) != 0 {
		t.Errorf("subchart rendered on its own: %+v", sub)
	}
}
