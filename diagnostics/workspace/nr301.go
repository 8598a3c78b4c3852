package workspace

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// NR301 — runAsNonRoot with an image whose user is a name.
var NR301 = &diagnostics.Rule{
	ID:       "NR301",
	Title:    "runAsNonRoot cannot verify the image's named user",
	Severity: diagnostics.SeverityError,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	FixTitle: "Add runAsUser with the image user's uid (or make the Dockerfile's USER numeric)",
	Fix:      planNR301,
	Field:    "runAsUser",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "runAsUser", Scalar: strconv.Itoa(uid), ReplaceOnly: "0"}}
	},
	Doc: diagnostics.Doc{
		Why:     "With `runAsNonRoot: true` and no `runAsUser`, the kubelet must prove from the image that it does not run as root. An image whose USER is a name (`USER app`) gives it nothing to check: the name is resolved only inside the container.",
		Runtime: "The container never starts: the pod shows `CreateContainerConfigError` with `container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root`.",
		Fix:     "Set `runAsUser` to the user's uid in the manifest, or make the Dockerfile's `USER` numeric (`USER 10001:0`, the uid the Dockerfile gives that user).",
		Source:  kubeletSource + "image user a name → \"container has runAsNonRoot and image has non-numeric user (NAME), cannot verify user is non-root\"; an explicit non-zero runAsUser skips the image check.",
		Bad: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/app
    dockerfile: Dockerfile
-- Dockerfile --
FROM alpine:3.21
RUN adduser -D -u 10001 app
COPY app /usr/local/bin/app
USER app
ENTRYPOINT ["app"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
		Good: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/app
    dockerfile: Dockerfile
-- Dockerfile --
FROM alpine:3.21
RUN adduser -D -u 10001 app
COPY app /usr/local/bin/app
USER 10001:0
ENTRYPOINT ["app"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range judgedContainers(pass) {
			if !runAsNonRootWithoutUser(x.c) || x.im.user.Kind != dockerfile.KindNamed {
				continue
			}
			name := x.im.user.Name
			related := append([]diagnostics.Related{x.im.userRelated(pass.Snapshot)},
				fieldRelated(x.m, x.c.Effective.RunAsNonRoot, "runAsNonRoot: true is set here, runAsUser nowhere")...)
			pass.Report(diagnostics.Finding{
				Range: x.imageRange(),
				Message: fmt.Sprintf("%s will not start: runAsNonRoot is true, no runAsUser is set, and image %s (%s) runs as user %q, a name the kubelet cannot check: \"container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root\" (CreateContainerConfigError)",
					x.c.Label(), x.c.Image, x.im.origin(pass.Snapshot), name, name),
				Related: append(related, x.im.linkRelated(pass.Snapshot)...),
				Data:    x.data(pass),
			})
		}
	},
}

// NR301: runAsUser with the uid of the image's user in the manifest; or the Dockerfile's USER
// made numeric with that uid (when the Dockerfile gives the user one).
func planNR301(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := wsData(s, f)
	if !ok {
		return nil
	}
	out := containerSet(s, d, runAsUserTitle(d), []string{"runAsUser"}, codeactions.Scalar(strconv.Itoa(d.UID)))
	if u := d.Image.user; d.Image.linked() && u.Instr != nil && u.UID != nil && *u.UID > 0 {
		out = append(out, diagnostics.Action{
			Title: fmt.Sprintf("Make USER numeric in %s: %s → %d", dfName(s, d.Image.df.Path), u.Name, *u.UID),
			Edits: []diagnostics.FileEdit{{Path: d.Image.df.Path, Edits: []text.Edit{{Range: u.UserPartRange(), NewText: strconv.Itoa(*u.UID)}}}},
		})
	}
	return out
}

// runAsUserTitle is the title of the fix that sets runAsUser to d.UID, with the note saying
// why it is the configured default when the image has no uid of its own.
func runAsUserTitle(d *data) string {
	t := fmt.Sprintf("Add runAsUser: %d to %s", d.UID, d.Container.Label())
	if d.Note != "" {
		t += " (" + d.Note + ")"
	}
	return t
}
