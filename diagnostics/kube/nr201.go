package kube

import (
	"fmt"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"k8s.io/pod-security-admission/policy"
)

// NR201 — runAsNonRoot: true is set at neither pod nor container level.
var NR201 = &diagnostics.Rule{
	ID:       "NR201",
	Title:    "runAsNonRoot is not set",
	Severity: diagnostics.SeverityError,
	Kinds:    manifestKinds,
	FixTitle: "Add runAsNonRoot: true to the pod securityContext",
	Fix:      fix(planNR201),
	Field:    "runAsNonRoot",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "runAsNonRoot", Scalar: "true"}}
	},
	Doc: diagnostics.Doc{
		Why:     "Without `runAsNonRoot: true` nothing stops the container from running as root: the image's USER decides, and most images run as root.",
		Runtime: "The container runs as whatever user the image says, root for most official images. A container that sets `runAsUser` > 0, or whose image runs as a non-root user, does not run as root, but nothing enforces it (another image or `runAsUser: 0` would). Either way, a namespace enforcing the `restricted` Pod Security Standard rejects the pod: `violates PodSecurity \"restricted:latest\": runAsNonRoot != true`.",
		Fix:     "Set `runAsNonRoot: true` in the pod's `securityContext` (it covers every container). With it, the kubelet refuses to start a container whose image runs as root instead of running it.",
		Source:  psaSource + "\"Containers must be required to run as non-root users\": spec.securityContext.runAsNonRoot must be true, or every container's securityContext.runAsNonRoot must be true. Pods with `hostUsers: false` are exempt from 1.35.",
		Bad:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n",
		Good:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: web\n    image: nginxinc/nginx-unprivileged\n",
	},
	Run: func(pass *diagnostics.Pass) {
		// What the workload alone says is kept with it; what the Dockerfile its image is
		// linked to says is looked up on every run (then): the Dockerfile may change.
		then := func(f diagnostics.Finding) diagnostics.Finding {
			d, ok := f.Data.(*data)
			if !ok || d.Container == nil || d.Container.Effective.RunAsUser != nil {
				return f
			}
			if iu := pass.Snapshot.ImageUser(pass.File.Path, d.Container.Image); iu.NonRoot {
				who := iu.Name
				if iu.UID != nil {
					who = fmt.Sprintf("uid %d", *iu.UID)
				}
				f.Message = notEnforced(d.Container, d.Workload, fmt.Sprintf("%s (the image's user, %s)", who, iu.From), d.Workload.containerVerdict(d.Container, CheckRunAsNonRoot))
			}
			return f
		}
		eachWorkloadThen(pass, failing(CheckRunAsNonRoot, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			if f := c.Own.RunAsNonRoot; f != nil {
				if b, ok := f.Bool(); ok && !b {
					return // explicitly false: NR202
				}
			}
			d := &data{Workload: w, Container: c, Check: CheckRunAsNonRoot}
			if uid, ok := c.Effective.RunAsUser.Int(); ok && uid > 0 {
				out.add(c.Anchor(m.Lines), d, "%s", notEnforced(c, w, fmt.Sprintf("uid %d (runAsUser)", uid), r))
				return
			}
			out.add(c.Anchor(m.Lines), d,
				"%s of %s may run as root: runAsNonRoot is set at neither pod nor container level, so the image's user decides; %s",
				c.Label(), objLabel(w), Violation(CheckRunAsNonRoot, r))
		}), then)
	},
}

// notEnforced is NR201's message for a container known to run as a non-root user (who):
// nothing enforces it, and admission rejects the pod.
func notEnforced(c *Container, w *Workload, who string, r policy.CheckResult) string {
	return fmt.Sprintf("%s of %s runs as %s, but runAsNonRoot is set at neither pod nor container level: the pod is not enforced non-root (nothing stops a root image or runAsUser: 0 from running), and restricted admission rejects it; %s",
		c.Label(), objLabel(w), who, Violation(CheckRunAsNonRoot, r))
}

func planNR201(_ *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	return set(e, "Add runAsNonRoot: true to the pod securityContext", d.Workload.Spec, []string{"securityContext", "runAsNonRoot"}, codeactions.Scalar("true"))
}
