package helm

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
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

// namedUser is a container a values security context applies to whose image is built by a
// workspace Dockerfile that runs as a user name: with runAsNonRoot and no runAsUser, the
// kubelet refuses to start it.
type namedUser struct {
	where, image, dockerfile string
	user                     dockerfile.User
}

// namedUsers returns the containers the values security context (source index, dotted path)
// lands on, in the real render, whose linked image runs as a named user and that set no
// runAsUser.
func (a *Analysis) namedUsers(ctx context.Context, src int, dotted string) []namedUser {
	if a.Derived == nil {
		return nil
	}
	g := workspace.For(a.Derived)
	var out []namedUser
	for _, u := range a.UsesOf(ctx, src, dotted) {
		ctrs := []*Container{u.Container}
		if u.Pod && u.PodSpec != nil {
			ctrs = u.PodSpec.Containers()
		}
		path := a.RenderedPath(u.Template)
		f, err := a.Derived.File(path)
		if err != nil {
			continue
		}
		for _, c := range ctrs {
			if c == nil || c.Pod == nil || mapGet(c.SecurityContext(), "runAsUser") != nil || mapGet(c.Pod.SecurityContext(), "runAsUser") != nil {
				continue
			}
			img := mapGet(c.Node, "image")
			if img == nil {
				continue
			}
			use, ok := g.UseAt(path, f.Lines().FromRunes(img.Line-1, img.Column-1))
			if !ok || use.Link == nil {
				continue
			}
			m, err := dockerfile.For(a.Derived, use.Link.Dockerfile)
			if err != nil || m.Fatal {
				continue
			}
			if st := m.Built(use.Link.Target); st != nil {
				if usr := st.User(); usr.Kind == dockerfile.KindNamed {
					out = append(out, namedUser{where: c.Where(), image: use.Image, dockerfile: filepath.ToSlash(relTo(a.Derived, use.Link.Dockerfile)), user: usr})
				}
			}
		}
	}
	return out
}
