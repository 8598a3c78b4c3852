package kube

import (
	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"k8s.io/pod-security-admission/policy"
)

// NR205 — privileged: true.
var NR205 = &diagnostics.Rule{
	ID:       "NR205",
	Title:    "Privileged container",
	Severity: diagnostics.SeverityError,
	Kinds:    manifestKinds,
	FixTitle: "Remove privileged: true",
	Fix:      fix(planNR205),
	Field:    "privileged",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "privileged", Scalar: "false"}}
	},
	Doc: diagnostics.Doc{
		Why:     "A privileged container has every capability and access to all host devices: running it as non-root protects little, root in it is root on the node.",
		Runtime: "The container runs with all capabilities, no seccomp or AppArmor confinement and the host's /dev. Even the `baseline` Pod Security Standard rejects the pod: `privileged (container \"app\" must not set securityContext.privileged=true)`; OpenShift's restricted-v2 SCC too.",
		Fix:     "Remove `privileged: true`; add the one capability the workload really needs instead.",
		Source:  "Pod Security Standards, baseline profile (k8s.io/pod-security-admission): \"Privileged Pods disable most security mechanisms and must be disallowed.\"",
		Bad: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    securityContext:
      privileged: true
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
		eachFailingContainer(pass, CheckPrivileged, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			f := c.Own.Privileged
			out.add(fieldRange(m, f, c.Anchor(m.Lines)), &data{Workload: w, Container: c, Check: CheckPrivileged, Field: f},
				"privileged: true gives %s every capability and the host's devices: root in it is root on the node; %s", c.Label(), Violation(CheckPrivileged, r))
		})
	},
}

func planNR205(_ *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	c := d.Container
	if c == nil || c.Own.Node == nil || c.Own.Privileged == nil {
		return kubeFix{}, codeactions.ErrYAMLShape
	}
	if ed, err := e.Remove(c.Own.Node, "privileged"); err == nil {
		return kubeFix{title: "Remove privileged: true", edits: []text.Edit{ed}}, nil
	}
	// The only key of its securityContext: turn it off instead of leaving an empty mapping.
	return kubeFix{title: "Remove privileged: true", edits: []text.Edit{e.SetScalar(c.Own.Privileged.Node, "false")}}, nil
}
