// Package kustomizetest writes the kustomize application the benchmarks edit (the Go
// benchmarks of package kustomize and server/lspbench -kustomize).
package kustomizetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteApp writes one application under dir: a base of resources Deployments (two
// containers each) and overlays env0, env1, … each patching the securityContext of every one
// of them (overlays/envN/security.yaml, [Patch]) and adding a name prefix.
func WriteApp(dir string, resources, overlays int) error {
	write := func(name, text string) error {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(text), 0o644)
	}
	var res strings.Builder
	res.WriteString("resources:\n")
	for i := range resources {
		fmt.Fprintf(&res, "  - deploy-%d.yaml\n", i)
		if err := write(fmt.Sprintf("base/deploy-%d.yaml", i), fmt.Sprintf(deployment, i, i, i, i, i)); err != nil {
			return err
		}
	}
	if err := write("base/kustomization.yaml", res.String()); err != nil {
		return err
	}
	for o := range overlays {
		k := fmt.Sprintf("namePrefix: env%d-\nresources:\n  - ../../base\npatches:\n  - path: security.yaml\n    target:\n      kind: Deployment\n", o)
		if err := write(fmt.Sprintf("overlays/env%d/kustomization.yaml", o), k); err != nil {
			return err
		}
		if err := write(fmt.Sprintf("overlays/env%d/security.yaml", o), Patch(o, "10001")); err != nil {
			return err
		}
	}
	return nil
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  labels:
    app: app-%d
spec:
  selector:
    matchLabels:
      app: app-%d
  template:
    metadata:
      labels:
        app: app-%d
    spec:
      containers:
        - name: app
          image: ghcr.io/example/app-%d:1.0
          ports:
            - containerPort: 8080
        - name: sidecar
          image: ghcr.io/example/sidecar:1.0
`

// Patch is overlay o's patch (overlays/envO/security.yaml) with runAsUser uid, on line
// [UIDLine] from column [UIDCol].
func Patch(o int, uid string) string {
	return fmt.Sprintf(`# env%d
apiVersion: apps/v1
kind: Deployment
metadata:
  name: any
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: %s
        seccompProfile:
          type: RuntimeDefault
`, o, uid)
}

// Where the uid is in [Patch] (0-based line, column).
const UIDLine, UIDCol uint32 = 10, uint32(len("        runAsUser: "))
