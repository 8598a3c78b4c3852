package dockerfile

import (
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// nr109Data is the payload of an NR109 finding.
type nr109Data struct{ Drops []PrivilegeDrop }

// NR109 — the entrypoint drops privileges at runtime.
var NR109 = &diagnostics.Rule{
	ID:       "NR109",
	Title:    "The entrypoint switches user or chowns at runtime: it must start as root",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	Doc: diagnostics.Doc{
		Why:     "An entrypoint that steps down with gosu, su-exec, setpriv, runuser, su or `chroot --userspec`, or chowns files at start, only works when the container starts as root.",
		Runtime: "Started as non-root (USER, `runAsUser`, OpenShift's random uid) the step-down fails with `operation not permitted` or is skipped, and the runtime chown fails with `Operation not permitted`. Kubernetes' restricted Pod Security Standard and OpenShift's restricted-v2 therefore cannot run the image as it is meant to run.",
		Fix:     "Prepare ownership at build time (`COPY --chown`, `chown <uid>:0` + `chmod g=u` before USER), set a numeric USER, and make the entrypoint work without the step-down when it is not root; use `fsGroup` for volumes.",
		Source:  "\"The approach I've come to like is where the entire image is built as root, and the chmod only occurs as a final step inside entrypoint.sh ... Gosu is a non-forking version of sudo\" (Mastering Docker: Running Containers as Non-Root Users); kubelet: `container has runAsNonRoot and image will run as root`.",
		Bad: `-- Dockerfile --
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
`,
		Good: `-- Dockerfile --
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
`,
	},
	Run: func(pass *diagnostics.Pass) {
		m, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		drops := m.PrivilegeDrops(pass.Snapshot, st)
		byTool := map[string][]PrivilegeDrop{}
		var order []string
		for _, d := range drops {
			if !d.Mandatory() {
				continue // only when started as root, or when the operator opts in: the image runs without it
			}
			if byTool[d.Tool] == nil {
				order = append(order, d.Tool)
			}
			byTool[d.Tool] = append(byTool[d.Tool], d)
		}
		for _, tool := range order {
			ds := byTool[tool]
			d := ds[0]
			rng := d.Range
			where := fmt.Sprintf("line %d", d.Line+1)
			if d.File != m.Path {
				rng = d.Instr.ArgsRange()
				where = fmt.Sprintf("%s line %d", baseName(d.File), d.Line+1)
			}
			var related []diagnostics.Related
			for _, x := range ds {
				related = append(related, diagnostics.Related{File: x.File, Range: x.Range, Message: x.Tool + ": " + x.Text})
			}
			var msg string
			if tool == "chown" || tool == "chgrp" {
				msg = fmt.Sprintf("the entrypoint runs `%s` at startup (%s): only root may change ownership, so the container must start as root; started as non-root it fails with \"Operation not permitted\"", tool, where)
			} else {
				msg = fmt.Sprintf("the entrypoint switches user at runtime with %s (%s): it must start as root, so runAsNonRoot, a non-root USER or OpenShift's random uid break it (\"operation not permitted\")", tool, where)
			}
			pass.Report(diagnostics.Finding{Range: rng, Message: msg, Related: related, Data: &nr109Data{Drops: ds}})
		}
	},
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
