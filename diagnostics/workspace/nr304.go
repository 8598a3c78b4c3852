package workspace

import (
	"fmt"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// NR304 — the entrypoint drops privileges but the workload runs non-root.
var NR304 = &diagnostics.Rule{
	ID:       "NR304",
	Title:    "Entrypoint switches user but the workload runs non-root",
	Severity: diagnostics.SeverityError,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	Doc: diagnostics.Doc{
		Why:     "The image's entrypoint starts as root and then drops to another user (`gosu`, `su-exec`, `setpriv`, `runuser`, `su`, `chroot --userspec`) or chowns its data at start. The manifest runs the container as non-root, so the entrypoint never has root.",
		Runtime: "The container exits at start: `gosu: error: failed switching to \"app\": operation not permitted`, `su-exec: setgroups: Operation not permitted`, `chown: changing ownership of '/data': Operation not permitted`; the pod goes into CrashLoopBackOff.",
		Fix:     "Build the image to run as its user from the start (USER in the Dockerfile, ownership set at build time) and remove the privilege drop from the entrypoint, or drop runAsNonRoot/runAsUser for this container and accept that it starts as root.",
		Source:  "Seed articles: an entrypoint that calls gosu/su-exec \"must start as root\"; with a non-root securityContext those calls fail with \"operation not permitted\".",
		Bad: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/app
    dockerfile: Dockerfile
-- Dockerfile --
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gosu \
 && rm -rf /var/lib/apt/lists/* \
 && useradd -u 10001 app && mkdir /data
COPY app docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["app"]
-- docker-entrypoint.sh --
#!/bin/sh
set -e
chown -R app /data
exec gosu app "$@"
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
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
RUN useradd -u 10001 -g 0 app && mkdir /data \
 && chown 10001:0 /data && chmod g=u /data
COPY app docker-entrypoint.sh /usr/local/bin/
USER 10001:0
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["app"]
-- docker-entrypoint.sh --
#!/bin/sh
set -e
exec "$@"
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range judgedContainers(pass) {
			if !x.c.RunsNonRoot() || refused(x) {
				continue
			}
			drops := x.im.drops(pass.Snapshot, envSets(x.c.Node))
			if len(drops) == 0 {
				continue
			}
			f, how := x.c.Effective.RunAsUser, ""
			if v, ok := f.Int(); ok && v != 0 {
				how = fmt.Sprintf("runAsUser %d", v)
			} else {
				f, how = x.c.Effective.RunAsNonRoot, "runAsNonRoot: true"
			}
			rng := x.imageRange()
			if f != nil && f.Node != nil && f.Range.Start.Line >= 0 {
				rng = f.Range
			}
			d := drops[0]
			var related []diagnostics.Related
			for _, dr := range drops {
				related = append(related, dr.rel)
			}
			optIn := ""
			if d.env != "" {
				optIn = fmt.Sprintf(" because the container sets %s", d.env)
			}
			pass.Report(diagnostics.Finding{
				Range: rng,
				Message: fmt.Sprintf("%s runs non-root (%s), but the entrypoint of image %s switches user at runtime%s (%s in %s), which needs root: it fails at start with \"operation not permitted\" and the pod crash-loops",
					x.c.Label(), how, x.c.Image, optIn, d.tool, d.where),
				Related: append(related, x.im.linkRelated(pass.Snapshot)...),
				Data:    x.data(pass),
			})
		}
	},
}
