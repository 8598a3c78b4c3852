package kube

import (
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// NR209 — hostPath volume.
var NR209 = &diagnostics.Rule{
	ID:       "NR209",
	Title:    "hostPath volume",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	Doc: diagnostics.Doc{
		Why:     "A hostPath volume mounts a directory of the node. Its files belong to the node's users (usually root), so a non-root container cannot write them, and a root one can change the node.",
		Runtime: "Writes from a non-root container fail with `permission denied`; the `baseline` Pod Security Standard rejects the pod (`hostPath volumes`), and so does OpenShift's restricted-v2 SCC.",
		Fix:     "Use a persistentVolumeClaim, an emptyDir or a CSI driver instead. Node agents that really need the host need a dedicated, privileged namespace.",
		Source:  "Pod Security Standards, baseline profile (k8s.io/pod-security-admission): \"HostPath volumes must be forbidden.\" Seed article (SPIRE): \"the use of a hostPath volume in the SPIRE Agent container is still needed\" — node agents are the exception.",
		Bad: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
  volumes:
  - name: logs
    hostPath:
      path: /var/log/app
`,
		Good: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
  volumes:
  - name: logs
    emptyDir: {}
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			if w.Verdicts().Pod[CheckHostPath].Allowed {
				return
			}
			for _, v := range w.Volumes {
				if v.Type != "hostPath" {
					continue
				}
				path := v.HostPath
				if path == "" {
					path = "(no path)"
				}
				out.add(yamlnode.Range(m.Lines, v.TypeKey), &data{Workload: w, Volume: v},
					"hostPath volume %q mounts the node's %s: its files are owned by the node's root, so a non-root container cannot write them; %s",
					v.Name, path, Violation(CheckHostPath, w.Verdicts().Pod[CheckHostPath]))
			}
		})
	},
}
