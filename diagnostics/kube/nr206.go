package kube

import (
	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// NR206 — seccompProfile.type not RuntimeDefault/Localhost.
var NR206 = &diagnostics.Rule{
	ID:       "NR206",
	Title:    "No seccomp profile",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	FixTitle: "Add seccompProfile: {type: RuntimeDefault} to the pod",
	Fix:      fix(planNR206),
	Field:    "seccompProfile",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "seccompProfile", Children: []diagnostics.Setting{{Key: "type", Scalar: "RuntimeDefault"}}}}
	},
	Doc: diagnostics.Doc{
		Why:     "Without a seccomp profile the container can make every system call, including the ones container escapes use.",
		Runtime: "Kubernetes runs containers `Unconfined` unless a profile is set (or the kubelet's SeccompDefault is on). A container's own profile overrides the pod's, but a pod-level `Unconfined` is rejected by admission even when every container sets `RuntimeDefault`. A namespace enforcing `restricted` rejects the pod: `seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")`.",
		Fix:     "Add `seccompProfile: {type: RuntimeDefault}` to the pod's `securityContext`.",
		Source:  psaSource + "\"Seccomp profile must be explicitly set to one of the allowed values. Both the Unconfined profile and the absence of a profile are prohibited.\"",
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
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			v := w.Verdicts()
			if r := v.Pod[CheckSeccomp]; !r.Allowed {
				f := w.Pod.SeccompProfileType
				rng := podAnchor(m, w)
				if f != nil {
					rng = f.Range
				} else if w.Pod.SeccompProfile != nil {
					rng = w.Pod.SeccompProfile.KeyRange
				}
				msg := "the pod seccomp profile of %s is not RuntimeDefault or Localhost: its containers can make every system call; %s"
				if everyContainerConfined(w) {
					msg = "the pod seccomp profile of %s is not RuntimeDefault or Localhost; every container sets its own, so they run confined, but admission rejects the pod for the pod-level value; %s"
				}
				out.add(rng, &data{Workload: w, Check: CheckSeccomp, Field: f}, msg, objLabel(w), Violation(CheckSeccomp, r))
			}
			for i, c := range w.Containers {
				r := v.Containers[i][CheckSeccomp]
				if r.Allowed {
					continue
				}
				f := c.Own.SeccompProfileType
				rng := c.Anchor(m.Lines)
				what := "no seccomp profile is set at pod or container level"
				if f != nil {
					rng, what = f.Range, "seccompProfile.type: "+f.Value
				} else if c.Own.SeccompProfile != nil {
					rng, what = c.Own.SeccompProfile.KeyRange, "seccompProfile has no valid type"
				}
				out.add(rng, &data{Workload: w, Container: c, Check: CheckSeccomp, Field: f},
					"%s: %s runs Unconfined and can make every system call; %s", what, c.Label(), Violation(CheckSeccomp, r))
			}
		})
	},
}

// everyContainerConfined reports whether every container of w sets its own seccomp profile
// type RuntimeDefault or Localhost (which overrides the pod's).
func everyContainerConfined(w *Workload) bool {
	for _, c := range w.Containers {
		if t := c.Own.SeccompProfileType; t == nil || t.Value != "RuntimeDefault" && t.Value != "Localhost" {
			return false
		}
	}
	return len(w.Containers) > 0
}

func planNR206(_ *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	if c := d.Container; c != nil && c.Own.SeccompProfile != nil {
		// The container sets its own (bad) profile: the pod level cannot override it.
		return set(e, "Set seccompProfile.type: RuntimeDefault", c.Node, []string{"securityContext", "seccompProfile", "type"}, codeactions.Scalar("RuntimeDefault"))
	}
	return set(e, "Add seccompProfile: {type: RuntimeDefault} to the pod", d.Workload.Spec, []string{"securityContext", "seccompProfile"}, codeactions.Map(codeactions.Entry("type", codeactions.Scalar("RuntimeDefault"))))
}
