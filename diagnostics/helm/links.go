package helm

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/workspace"
)

// inspectLinks lists, for `inspect DIR`, the links the rendered manifests of the workspace's
// charts use (the workspace graph of the derived snapshot, where the NR3xx findings NR404
// carries come from), each reference given as the values key that sets the image, else the
// template line that writes it: the rendered files are never on disk.
func inspectLinks(s *diagnostics.Snapshot) any {
	out := []workspace.InspectLink{}
	seen := map[string]bool{}
	for _, p := range s.Walk() {
		if f, err := s.File(p); err != nil || f.Kind != diagnostics.KindHelmChart {
			continue
		}
		a := Analyze(context.Background(), s, p)
		if a == nil || a.Derived == nil || seen[a.Chart.Dir] {
			continue
		}
		seen[a.Chart.Dir] = true
		rendered := filepath.ToSlash(relTo(s, a.Chart.Abs(RenderedDir))) + "/"
		source := func(file string, line int) (workspace.InspectSource, bool) {
			tmpl, ok := strings.CutPrefix(file, rendered)
			if !ok {
				return workspace.InspectSource{}, false
			}
			o := a.imageSource(tmpl, line-1)
			return workspace.InspectSource{File: filepath.ToSlash(relTo(s, o.File(a.Chart))), Line: o.Range(a.Chart, s).Start.Line + 1}, true
		}
		for _, row := range workspace.Inspect(a.Derived) {
			var used []workspace.InspectUse
			for _, u := range row.UsedBy {
				if src, ok := source(u.File, u.Line); ok {
					used = append(used, workspace.InspectUse{File: src.File, Line: src.Line, Image: u.Image})
				}
			}
			if len(used) == 0 {
				continue
			}
			row.UsedBy = used
			if src, ok := source(row.From.File, row.From.Line); ok {
				row.From = src // a guess made by a rendered reference
			}
			out = append(out, row)
		}
	}
	return out
}

// imageSource is where the image of the container at a rendered template's line comes from.
func (a *Analysis) imageSource(tmpl string, line int) Origin {
	loc := locate(a.docs[tmpl], text.Pos{Line: line})
	if loc.Container != nil {
		if o, ok := a.imageOrigin(loc.Container); ok {
			return o
		}
	}
	return Origin{Template: tmpl, Line: a.templateLine(tmpl, loc, "")}
}

func relTo(s *diagnostics.Snapshot, p string) string {
	if root := s.Root(p); root != "" {
		if r, err := filepath.Rel(root, p); err == nil {
			return r
		}
	}
	return p
}
