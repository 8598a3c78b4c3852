// Package workspacetest generates the workspaces the cold-index and re-publication benchmarks
// (diagnostics/workspace and `lspbench -workspace`) index.
package workspacetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Generate writes a workspace of n files under dir: n/10 services, each a folder
// services/svcNNNNN with a Dockerfile, and 9 Deployments per service under deploy/svcNNNNN/
// that run its image (with a registry and port, a tag and, for every third, a digest), so the
// heuristic links each of them to its Dockerfile.
func Generate(dir string, n int) error {
	for i := 0; i < n/10; i++ {
		name := fmt.Sprintf("svc%05d", i)
		if err := write(dir, filepath.Join("services", name, "Dockerfile"),
			"FROM alpine:3.21 AS build\nRUN adduser -D -u 10001 app\nFROM alpine:3.21\nCOPY --from=build /etc/passwd /etc/passwd\nUSER app\nENTRYPOINT [\"/app\"]\n"); err != nil {
			return err
		}
		for j := 0; j < 9; j++ {
			ref := "registry.example.com:5000/acme/" + name + ":v" + strconv.Itoa(j)
			if j%3 == 0 {
				ref += "@sha256:" + strings.Repeat("ab", 32)
			}
			if err := write(dir, filepath.Join("deploy", name, fmt.Sprintf("deploy-%d.yaml", j)),
				"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "+name+"\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: app\n          image: "+ref+"\n          ports:\n            - containerPort: 8080\n"); err != nil {
				return err
			}
		}
	}
	return nil
}

// HotDockerfile is the Dockerfile [GenerateHot] writes, with user as its USER.
func HotDockerfile(user string) string {
	return "FROM alpine:3.21\nRUN adduser -D -u 10001 app\nUSER " + user + "\n"
}

// GenerateHot adds the service the re-publication benchmarks edit: services/hot/Dockerfile
// (HotDockerfile("app"), a named user: NR301 in every manifest running it) and 5 Deployments
// deploy/hot/deploy-N.yaml that run its image with runAsNonRoot. It returns the Dockerfile's
// path and the manifests'.
func GenerateHot(dir string) (string, []string, error) {
	df := filepath.Join(dir, "services", "hot", "Dockerfile")
	if err := write(dir, "services/hot/Dockerfile", HotDockerfile("app")); err != nil {
		return "", nil, err
	}
	var manifests []string
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("deploy/hot/deploy-%d.yaml", i)
		if err := write(dir, name,
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hot\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: app\n          image: ghcr.io/acme/hot:v"+strconv.Itoa(i)+"\n"); err != nil {
			return "", nil, err
		}
		manifests = append(manifests, filepath.Join(dir, filepath.FromSlash(name)))
	}
	return df, manifests, nil
}

func write(dir, name, content string) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}
