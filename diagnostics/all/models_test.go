package all_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kbuild"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Dropping the models of files that are not open changes nothing: every workspace and rule
// fixture gives the same findings, hovers, definitions, references and links when each
// file's models are dropped as soon as another file's are computed (and computed again when
// needed) as with the model cache.
func TestModelCacheDropsChangeNoResult(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/workspaces/*")
	cases, _ := filepath.Glob("../../testdata/rules/*/*")
	dirs = append(dirs, cases...)
	if len(dirs) < 50 {
		t.Fatalf("only %d fixture folders found", len(dirs))
	}
	for _, dir := range dirs {
		abs, _ := filepath.Abs(dir)
		cached := results(t, alltest.Engine(), abs)
		dropped := results(t, all.New(all.Options{HelmRender: helmrender.Render, KustomizeBuild: kbuild.Build, ModelCacheBudget: -1}), abs)
		if cached != dropped {
			t.Errorf("%s: results differ when models are dropped\ncached:\n%s\ndropped:\n%s", dir, cached, dropped)
		}
	}
}

// results indexes a fresh snapshot of dir and describes what the engine answers for it.
func results(t *testing.T, e *diagnostics.Engine, dir string) string {
	s := e.NewSnapshot([]string{dir}, diagnostics.Config{})
	s.Index(context.Background(), nil)
	var b strings.Builder
	add := func(what string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", what, data)
	}
	add("links", s.InspectWorkspace())
	for _, p := range s.Walk() {
		f, err := s.File(p)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(dir, p)
		fds := s.Diagnose(context.Background(), p)
		add(rel+" findings", fds)
		var at []text.Pos
		for _, fd := range fds {
			at = append(at, fd.Range.Start)
		}
		for n := range f.Lines().Count() {
			line := f.Lines().Line(n)
			if i := len(line) - len(strings.TrimLeft(line, " \t-")); i < len(line) {
				at = append(at, text.Pos{Line: n, Col: i}, text.Pos{Line: n, Col: len(line) - 1})
			}
		}
		for _, pos := range at {
			add(fmt.Sprintf("%s %d:%d hover", rel, pos.Line, pos.Col), s.Hover(context.Background(), p, pos))
			add(fmt.Sprintf("%s %d:%d definition", rel, pos.Line, pos.Col), s.Definition(context.Background(), p, pos))
			add(fmt.Sprintf("%s %d:%d references", rel, pos.Line, pos.Col), s.References(context.Background(), p, pos))
		}
	}
	return b.String()
}
