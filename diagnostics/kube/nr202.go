package kube

import (
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// NR202 — runAsUser: 0 or runAsNonRoot: false.
var NR202 = &diagnostics.Rule{
	ID:       "NR202",
	Title:    "Runs as root: runAsUser 0 or runAsNonRoot false",
	Severity: diagnostics.SeverityError,
	Kinds:    manifestKinds,
	FixTitle: "Set a non-root runAsUser / runAsNonRoot: true",
	Fix:      fix(planNR202),
	Field:    "runAsUser",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "runAsNonRoot", Scalar: "true"}, {Key: "runAsUser", Scalar: strconv.Itoa(uid), ReplaceOnly: "0", NoInsert: true}}
	},
	Doc: diagnostics.Doc{
		Why:     "`runAsUser: 0` runs the container as root whatever the image says; `runAsNonRoot: false` explicitly allows it.",
		Runtime: "With `runAsUser: 0` and `runAsNonRoot: true` the kubelet refuses to start the container: `container's runAsUser breaks non-root policy` (CreateContainerConfigError). Without runAsNonRoot the process runs as root. A namespace enforcing `restricted` rejects the pod (`runAsUser=0`, `runAsNonRoot != true`).",
		Fix:     "Set `runAsUser` to the image's non-root uid (or the default 10001), and `runAsNonRoot: true`.",
		Source:  "kubelet: `container's runAsUser breaks non-root policy`. " + psaSource + "runAsUser must not be 0; runAsNonRoot must not be false.",
		Bad: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsUser: 0
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
		Good: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsUser: 10001
    runAsNonRoot: true
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			v := w.Verdicts()
			if r := v.Pod[CheckRunAsNonRoot]; !r.Allowed && w.Pod.RunAsNonRoot != nil {
				out.add(w.Pod.RunAsNonRoot.Range, &data{Workload: w, Check: CheckRunAsNonRoot, Field: w.Pod.RunAsNonRoot},
					"runAsNonRoot: false in the pod securityContext of %s lets every container that does not override it run as root; %s",
					objLabel(w), Violation(CheckRunAsNonRoot, r))
			}
			if r := v.Pod[CheckRunAsUser]; !r.Allowed && w.Pod.RunAsUser != nil {
				out.add(w.Pod.RunAsUser.Range, &data{Workload: w, Check: CheckRunAsUser, Field: w.Pod.RunAsUser},
					"runAsUser: 0 in the pod securityContext of %s runs its containers as root (with runAsNonRoot: true the kubelet refuses to start them: \"container's runAsUser breaks non-root policy\"); %s",
					objLabel(w), Violation(CheckRunAsUser, r))
			}
			for i, c := range w.Containers {
				if r := v.Containers[i][CheckRunAsNonRoot]; !r.Allowed && c.Own.RunAsNonRoot != nil {
					if b, ok := c.Own.RunAsNonRoot.Bool(); ok && !b {
						out.add(c.Own.RunAsNonRoot.Range, &data{Workload: w, Container: c, Check: CheckRunAsNonRoot, Field: c.Own.RunAsNonRoot},
							"runAsNonRoot: false lets %s run as root; %s", c.Label(), Violation(CheckRunAsNonRoot, r))
					}
				}
				if r := v.Containers[i][CheckRunAsUser]; !r.Allowed && c.Own.RunAsUser != nil {
					out.add(c.Own.RunAsUser.Range, &data{Workload: w, Container: c, Check: CheckRunAsUser, Field: c.Own.RunAsUser},
						"runAsUser: 0 runs %s as root (with runAsNonRoot: true the kubelet refuses to start it: \"container's runAsUser breaks non-root policy\"); %s",
						c.Label(), Violation(CheckRunAsUser, r))
				}
			}
		})
	},
}

func planNR202(s *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	if d.Field == nil {
		return kubeFix{}, codeactions.ErrYAMLShape
	}
	if d.Check == CheckRunAsUser {
		cfg := s.ConfigFor(d.Manifest.Path)
		uid, _ := cfg.User()
		return kubeFix{title: fmt.Sprintf("Set runAsUser: %d", uid), edits: []text.Edit{e.SetScalar(d.Field.Node, strconv.Itoa(uid))}}, nil
	}
	return kubeFix{title: "Set runAsNonRoot: true", edits: []text.Edit{e.SetScalar(d.Field.Node, "true")}}, nil
}
