package workspace

import (
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
)

// NR303 — the manifest's uid/gid cannot write what the image prepared for its own user.
var NR303 = &diagnostics.Rule{
	ID:       "NR303",
	Title:    "Runtime uid/gid cannot write the paths the image prepared for its user",
	Severity: diagnostics.SeverityWarning,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	Field:    "runAsGroup",
	Doc: diagnostics.Doc{
		Why:     "The Dockerfile gives a path (a data or cache directory) to its own user: `chown 10001 /data` with mode 755. The manifest runs the container as another uid (`runAsUser`, or OpenShift's arbitrary uid with gid 0) whose group has no write access there.",
		Runtime: "The application fails when it first writes: `Permission denied` on the path, often as a crash loop.",
		Fix:     "Run as the image's uid, set `runAsGroup`/`fsGroup` to the owning gid, or make the path group-owned by 0 and group-writable in the Dockerfile (`chgrp -R 0 P && chmod -R g=u P`), which works for any uid in group 0.",
		Source:  "OpenShift restricted-v2: the uid comes from the namespace range, gid 0 is a supplementary group; images should `chgrp -R 0` and `chmod -R g=u` the paths they write.",
		Bad: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/app
    dockerfile: Dockerfile
-- Dockerfile --
FROM alpine:3.21
COPY app /usr/local/bin/app
RUN mkdir /data && chown 10001 /data && chmod 755 /data
USER 10001
ENTRYPOINT ["app"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 20000
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
COPY app /usr/local/bin/app
RUN mkdir /data && chown 10001:0 /data && chmod 775 /data
USER 10001
ENTRYPOINT ["app"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 20000
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range judgedContainers(pass) {
			uid := x.im.runUID()
			if uid == 0 || refused(x) {
				continue
			}
			id, ok := identityOf(x.c, pass.Profile)
			if !ok || id.uid == uid || id.uid == 0 {
				continue
			}
			for _, p := range x.im.writes() {
				if p.Op == "VOLUME" || !ownedBy(p, x.im.user, uid) || x.im.canWrite(p.Path, id) {
					continue
				}
				rng := x.imageRange()
				if id.field != nil {
					rng = id.field.Range
				}
				pass.Report(diagnostics.Finding{
					Range: rng,
					Message: fmt.Sprintf("%s runs as %s (gid %d), not as the image's uid %d, and %s is owned by uid %d without write access for its groups (%s): writes there fail with \"Permission denied\"",
						x.c.Label(), id.what, id.gid, uid, p.Path, uid, x.im.pathWhere(pass.Snapshot, p)),
					Related: []diagnostics.Related{x.im.pathRelated(p, fmt.Sprintf("%s gets owner %s, mode %s here", p.Path, ownerOf(p), modeOf(p))),
						x.im.userRelated(pass.Snapshot)},
					Data: x.data(pass),
				})
				break
			}
		}
	},
}

// ownedBy reports whether the build leaves p owned by the image's user (uid its uid).
func ownedBy(p dockerfile.PathPerm, u dockerfile.User, uid int) bool {
	if p.UID != nil {
		return *p.UID == uid
	}
	return p.Owner != "" && (p.Owner == u.Name || p.Owner == strconv.Itoa(uid))
}

func ownerOf(p dockerfile.PathPerm) string {
	o := p.Owner
	if o == "" {
		o = "unchanged"
	}
	if p.Group != "" {
		o += ":" + p.Group
	}
	return o
}

func modeOf(p dockerfile.PathPerm) string {
	if p.Mode == "" {
		return "default"
	}
	return p.Mode
}
