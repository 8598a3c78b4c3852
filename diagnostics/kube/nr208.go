package kube

import (
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// NR208 — an init container runs as root only to chown/chmod a volume.
var NR208 = &diagnostics.Rule{
	ID:       "NR208",
	Title:    "Root init container to fix volume permissions",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	Doc: diagnostics.Doc{
		Why:     "An init container that runs as root just to `chown`/`chmod` a volume makes the whole pod need root: the restricted Pod Security Standard and OpenShift's restricted-v2 SCC reject it, so the pod cannot be deployed there at all.",
		Runtime: "On a cluster enforcing `restricted` (or on OpenShift) the pod is rejected before it starts. Elsewhere it works, but every pod start runs a root process with write access to the volume.",
		Fix:     "Delete the init container and set `fsGroup` in the pod's `securityContext`: the kubelet makes the volume group-owned and group-writable for the pod (`fsGroupChangePolicy: OnRootMismatch` keeps restarts fast).",
		Source:  "\"the init container is rejected by restricted PSS and OpenShift\". " + psaSource + "runAsNonRoot must be true for init containers too.",
		Bad: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
spec:
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      initContainers:
      - name: fix-perms
        image: busybox:1.37
        command: [sh, -c, chown -R 10001 /var/lib/db]
        securityContext:
          runAsUser: 0
        volumeMounts:
        - name: data
          mountPath: /var/lib/db
      containers:
      - name: db
        image: ghcr.io/acme/db:1.0
        securityContext:
          runAsNonRoot: true
          runAsUser: 10001
        volumeMounts:
        - name: data
          mountPath: /var/lib/db
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: db-data
`,
		Good: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
spec:
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      securityContext:
        fsGroup: 10001
        fsGroupChangePolicy: OnRootMismatch
      containers:
      - name: db
        image: ghcr.io/acme/db:1.0
        securityContext:
          runAsNonRoot: true
          runAsUser: 10001
        volumeMounts:
        - name: data
          mountPath: /var/lib/db
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: db-data
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			for _, c := range w.Containers {
				if !c.Init || !c.RunsAsRoot() || len(c.Mounts) == 0 {
					continue
				}
				for _, a := range c.Command {
					if mm := chownRE.FindStringSubmatch(a.Value); mm != nil {
						out.add(yamlnode.Range(m.Lines, a), &data{Workload: w, Container: c},
							"%s runs as root only to %s a volume: a namespace enforcing \"restricted\" and OpenShift's restricted-v2 reject the pod; set fsGroup in the pod securityContext instead", c.Label(), mm[2])
						break
					}
				}
			}
		})
	},
}
