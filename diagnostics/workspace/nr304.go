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
		Bad:     "# docker-entrypoint.sh\nchown -R app /data\nexec gosu app \"$@\"\n---\n# pod.yaml\nspec:\n  securityContext:\n    runAsUser: 999\n",
		Good:    "# Dockerfile\nRUN install -d -o 999 -g 0 -m 775 /data\nUSER 999:0\nENTRYPOINT [\"/app\"]\n---\n# pod.yaml\nspec:\n  securityContext:\n    runAsUser: 999\n",
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
