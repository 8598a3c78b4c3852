package workspace

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
)

// NR302 — runAsNonRoot with an image that runs as root.
var NR302 = &diagnostics.Rule{
	ID:       "NR302",
	Title:    "runAsNonRoot with an image that runs as root",
	Severity: diagnostics.SeverityError,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	FixTitle: "Add runAsUser to the container (or USER to the Dockerfile)",
	Fix:      planNR302,
	Field:    "runAsUser",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "runAsUser", Scalar: strconv.Itoa(uid), ReplaceOnly: "0"}}
	},
	Doc: diagnostics.Doc{
		Why:     "`runAsNonRoot: true` without `runAsUser` asks the kubelet to check the image's user, and the Dockerfile that builds the image leaves it as root (no USER, `USER root` or `USER 0`).",
		Runtime: "The container never starts: the pod shows `CreateContainerConfigError` with `container has runAsNonRoot and image will run as root`.",
		Fix:     "Add a non-root `USER <uid>:0` to the Dockerfile's built stage, or set `runAsUser` to a non-zero uid in the manifest.",
		Source:  kubeletSource + "image user 0 → \"container has runAsNonRoot and image will run as root\".",
		Bad: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/app
    dockerfile: Dockerfile
-- Dockerfile --
FROM debian:bookworm-slim
COPY app /usr/local/bin/app
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
FROM debian:bookworm-slim
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
			if !runAsNonRootWithoutUser(x.c) || x.im.user.Kind != dockerfile.KindRoot {
				continue
			}
			related := append([]diagnostics.Related{x.im.userRelated(pass.Snapshot)},
				fieldRelated(x.m, x.c.Effective.RunAsNonRoot, "runAsNonRoot: true is set here, runAsUser nowhere")...)
			pass.Report(diagnostics.Finding{
				Range: x.imageRange(),
				Message: fmt.Sprintf("%s will not start: runAsNonRoot is true, no runAsUser is set, and image %s (%s) runs as root (%s): \"container has runAsNonRoot and image will run as root\" (CreateContainerConfigError)",
					x.c.Label(), x.c.Image, x.im.origin(pass.Snapshot), x.im.userFrom()),
				Related: append(related, x.im.linkRelated(pass.Snapshot)...),
				Data:    x.data(pass),
			})
		}
	},
}

// NR302: runAsUser in the manifest; or a non-root USER in the Dockerfile's built stage.
func planNR302(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := wsData(s, f)
	if !ok {
		return nil
	}
	out := containerSet(s, d, runAsUserTitle(d), []string{"runAsUser"}, codeactions.Scalar(strconv.Itoa(d.UID)))
	if !d.Image.linked() {
		return out
	}
	cfg := s.ConfigFor(d.Image.df.Path)
	_, gid := cfg.User()
	return append(out, setUserInDockerfile(s, d, d.UID, gid, false)...)
}
