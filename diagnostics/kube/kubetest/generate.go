// Package kubetest generates the Kubernetes manifests the benchmarks and cache tests edit.
package kubetest

import (
	"fmt"
	"strings"
)

// Generate returns about lines lines of Deployments (one document per 42 lines) after a
// comment line, each with a pod and a container securityContext that leave a few findings
// (the same file server/lspbench -manifests measures). The benchmarks edit line EditLine.
func Generate(lines int) string {
	var b strings.Builder
	b.WriteString("# nonroot-ls bench\n")
	for i, n := 0, 1; n < lines-1; i++ {
		if i > 0 {
			b.WriteString("---\n")
			n++
		}
		fmt.Fprintf(&b, deployment, i, i, i, i, i, i)
		n += strings.Count(deployment, "\n")
	}
	return b.String()
}

// EditLine is the line the benchmarks toggle a trailing space at (the leading comment).
const EditLine = 0

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-%d
  labels: {app: web-%d}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web-%d}
  template:
    metadata:
      labels: {app: web-%d}
    spec:
      securityContext:
        runAsNonRoot: true
        fsGroup: 10001
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: data-%d}
      containers:
        - name: app
          image: registry.example.com/web:%d
          ports:
            - containerPort: 8080
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: data
              mountPath: /data
        - name: sidecar
          image: registry.example.com/sidecar:1
          ports:
            - containerPort: 80
          securityContext:
            runAsUser: 0
      initContainers:
        - name: init
          image: busybox:1.36
          command: [sh, -c, "chown -R 10001 /data"]
`
