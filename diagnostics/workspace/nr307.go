package workspace

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// rootUser reports whether a compose `user:` value is root: "0", "root", "0:…", "root:…".
func rootUser(v string) bool {
	u, _, _ := strings.Cut(strings.TrimSpace(v), ":")
	return u == "0" || u == "root"
}

// NR307 — a compose service that runs as root.
var NR307 = &diagnostics.Rule{
	ID:       "NR307",
	Title:    "Compose service runs as root",
	Severity: diagnostics.SeverityWarning,
	Kinds:    []diagnostics.FileKind{diagnostics.KindCompose},
	FixTitle: "Set user: \"<uid>:0\" on the service",
	Fix:      planNR307,
	Doc: diagnostics.Doc{
		Why:     "A compose service runs as the image's user unless `user:` says otherwise. Its image (built by a Dockerfile of the workspace, or a well-known image) runs as root and the service sets no `user:`, or the service sets `user: \"0\"`/`root` itself.",
		Runtime: "The container's processes run as uid 0: a compromised process owns the container and whatever it mounts from the host (bind mounts, the Docker socket).",
		Fix:     "Set `user: \"10001:0\"` on the service (the uid the Dockerfile creates, when it creates one), or add a non-root `USER` to the Dockerfile that builds the image.",
		Source:  "Compose specification: `user` overrides the user used to run the container process, which otherwise is the image's (Dockerfile USER, root by default).",
		Bad: `-- compose.yaml --
services:
  web:
    build: ./web
    ports:
      - "8080:8080"
-- web/Dockerfile --
FROM python:3.13-slim
WORKDIR /app
COPY . .
CMD ["python", "app.py"]
`,
		Good: `-- compose.yaml --
services:
  web:
    build: ./web
    user: "10001:0"
    ports:
      - "8080:8080"
-- web/Dockerfile --
FROM python:3.13-slim
WORKDIR /app
COPY . .
CMD ["python", "app.py"]
`,
	},
	Run: func(pass *diagnostics.Pass) {
		c := ComposeFor(pass.Snapshot, pass.File.Path)
		g := For(pass.Snapshot)
		uses := g.UsesIn(pass.File.Path)
		for _, svc := range c.Services {
			d := &data{Compose: c, Service: svc}
			d.UID, _ = pass.Config.User()
			if svc.HasUser {
				if !rootUser(svc.User) {
					continue
				}
				rng := svc.NameRange
				if svc.UserFile == pass.File.Path {
					rng = svc.UserRange
				}
				pass.Report(diagnostics.Finding{Range: rng, Data: d,
					Message: fmt.Sprintf("service %q sets user: %q: the container runs as root", svc.Name, svc.User)})
				continue
			}
			var link *Link
			for _, u := range uses {
				if u.Service == svc {
					link = u.Link
				}
			}
			rng := svc.NameRange
			switch {
			case svc.Build != nil && svc.Build.File == pass.File.Path:
				rng = svc.Build.Range
			case svc.ImageFile == pass.File.Path && svc.Image != "" && !svc.ImageInherited:
				rng = svc.ImageRange
			}
			var im *image
			switch {
			case link != nil:
				im = linkedImage(pass.Snapshot, link, pass.File.Path, svc.Image, rng)
			case svc.Image != "":
				im = imageOf(pass.Snapshot, pass.File.Path, svc.Image, rng)
			}
			if im == nil || im.user.Kind != dockerfile.KindRoot {
				continue
			}
			d.Image = im
			d.UID, d.Note = im.fixUID(pass.Config)
			what := fmt.Sprintf("its image, %s,", im.origin(pass.Snapshot))
			if !im.linked() {
				what = fmt.Sprintf("image %s (%s)", svc.Image, im.origin(pass.Snapshot))
			}
			runs := "the container runs as root"
			if sd := im.stepDown(); sd != nil {
				runs = "the container starts as root and its entrypoint " + sd.Describe()
			}
			pass.Report(diagnostics.Finding{Range: rng, Data: d,
				Message: fmt.Sprintf("service %q sets no user: and %s runs as root (%s): %s", svc.Name, what, im.userFrom(), runs),
				Related: append([]diagnostics.Related{im.userRelated(pass.Snapshot)}, im.linkRelated(pass.Snapshot)...),
			})
		}
	},
}

// NR307: user: "<uid>:0" on the compose service; or, for a service built by a Dockerfile of
// the workspace, a non-root USER in its built stage.
func planNR307(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := wsData(s, f)
	if !ok || d.Service == nil || d.Compose == nil {
		return nil
	}
	file, err := s.File(f.File)
	if err != nil || d.Service.File != f.File {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	_, gid := cfg.User()
	value := strconv.Quote(codeactions.Identity(d.UID, gid))
	title := fmt.Sprintf("Set user: %s on service %q", value, d.Service.Name)
	if d.Note != "" {
		title += " (" + d.Note + ")"
	}
	var out []diagnostics.Action
	if d.Service.HasUser && d.Service.UserFile == f.File {
		out = append(out, diagnostics.Action{Title: title, Preferred: true, Edits: []diagnostics.FileEdit{{Path: f.File, Edits: []text.Edit{{Range: d.Service.UserRange, NewText: value}}}}})
	} else if d.Service.Node != nil {
		e := &codeactions.YAMLEditor{Lines: file.Lines(), Style: codeactions.DetectYAMLStyle(file.Text, d.Compose.Docs)}
		if edits, err := e.Set(d.Service.Node, []string{"user"}, codeactions.Scalar(value)); err == nil && len(edits) > 0 {
			out = append(out, diagnostics.Action{Title: title, Preferred: true, Edits: []diagnostics.FileEdit{{Path: f.File, Edits: edits}}})
		}
	}
	return append(out, setUserInDockerfile(s, d, d.UID, gid, false)...)
}
