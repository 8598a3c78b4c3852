package kube

import (
	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"k8s.io/pod-security-admission/policy"
)

// NR203 — allowPrivilegeEscalation not false.
var NR203 = &diagnostics.Rule{
	ID:       "NR203",
	Title:    "allowPrivilegeEscalation is not false",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	FixTitle: "Add allowPrivilegeEscalation: false",
	Fix:      fix(planNR203),
	Field:    "allowPrivilegeEscalation",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "allowPrivilegeEscalation", Scalar: "false"}}
	},
	Doc: diagnostics.Doc{
		Why:     "Unless `allowPrivilegeEscalation` is `false`, a process in the container can gain more privileges than its parent (setuid binaries such as `sudo` or `su`), so a non-root user can become root again.",
		Runtime: "The container starts without `no_new_privs`: setuid-root binaries in the image work. A namespace enforcing `restricted` rejects the pod: `allowPrivilegeEscalation != false`.",
		Fix:     "Add `allowPrivilegeEscalation: false` to each container's `securityContext`.",
		Source:  psaSource + "\"Privilege escalation (such as via set-user-ID or set-group-ID file mode) should not be allowed\": containers[*].securityContext.allowPrivilegeEscalation must be false.",
		Bad: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
		Good: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    securityContext:
      allowPrivilegeEscalation: false
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachFailingContainer(pass, CheckAllowPrivilegeEscalation, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			f := c.Own.AllowPrivilegeEscalation
			what := "allowPrivilegeEscalation is not set"
			if f != nil {
				what = "allowPrivilegeEscalation: " + f.Value
			}
			out.add(fieldRange(m, f, c.Anchor(m.Lines)), &data{Workload: w, Container: c, Check: CheckAllowPrivilegeEscalation, Field: f},
				"%s: setuid binaries in %s can regain root; %s", what, c.Label(), Violation(CheckAllowPrivilegeEscalation, r))
		})
	},
}

func planNR203(_ *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	if d.Container == nil {
		return kubeFix{}, codeactions.ErrYAMLShape
	}
	return set(e, "Add allowPrivilegeEscalation: false", d.Container.Node, []string{"securityContext", "allowPrivilegeEscalation"}, codeactions.Scalar("false"))
}
