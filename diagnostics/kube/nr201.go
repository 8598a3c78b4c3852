package kube

import (
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
		Runtime: "The container runs as whatever user the image says, root for most official images. A namespace enforcing the `restricted` Pod Security Standard rejects the pod: `violates PodSecurity \"restricted:latest\": runAsNonRoot != true`.",
		Fix:     "Set `runAsNonRoot: true` in the pod's `securityContext` (it covers every container). With it, the kubelet refuses to start a container whose image runs as root instead of running it.",
		Source:  psaSource + "\"Containers must be required to run as non-root users\": spec.securityContext.runAsNonRoot must be true, or every container's securityContext.runAsNonRoot must be true. Pods with `hostUsers: false` are exempt from 1.35.",
		Bad:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n",
		Good:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: web\n    image: nginxinc/nginx-unprivileged\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachFailingContainer(pass, CheckRunAsNonRoot, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			if f := c.Own.RunAsNonRoot; f != nil {
				if b, ok := f.Bool(); ok && !b {
					return // explicitly false: NR202
				}
			}
			why := "runAsNonRoot is set at neither pod nor container level"
			if f := c.Effective.RunAsNonRoot; f != nil && placeholder.MatchString(f.Value) {
				why = "runAsNonRoot is not set to true"
			}
			out.add(c.Anchor(m.Lines), &data{Workload: w, Container: c, Check: CheckRunAsNonRoot},
				"%s of %s may run as root: %s, so the image's user decides; %s",
				c.Label(), objLabel(w), why, Violation(CheckRunAsNonRoot, r))
		})
	},
}

func planNR201(_ *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	return set(e, "Add runAsNonRoot: true to the pod securityContext", d.Workload.Spec, []string{"securityContext", "runAsNonRoot"}, codeactions.Scalar("true"))
}
