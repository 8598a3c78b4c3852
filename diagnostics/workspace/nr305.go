package workspace

import (
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"go.yaml.in/yaml/v3"
)

// NR305 — a read-only, root-owned volume over a path the image writes.
var NR305 = &diagnostics.Rule{
	ID:       "NR305",
	Title:    "configMap/secret volume mounted over a path the image writes",
	Severity: diagnostics.SeverityWarning,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	Doc: diagnostics.Doc{
		Why:     "configMap, secret, projected and downwardAPI volumes are mounted read-only and owned by root. Mounted over a directory the image prepared for its user to write, they hide it.",
		Runtime: "The application's writes there fail with `Read-only file system` (or `Permission denied`), typically at start when it writes a cache, a pid file or generated config.",
		Fix:     "Mount the volume on a path the image only reads (or a single file with `subPath`), and keep the writable directory separate (an emptyDir if it must be shared).",
		Source:  "Kubernetes: configMap and secret volumes are always mounted read-only (since 1.9.6, \"atomic writer\" volumes); their files are owned by root unless fsGroup is set.",
		Bad: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/app
    dockerfile: Dockerfile
-- Dockerfile --
FROM alpine:3.21
COPY app /usr/local/bin/app
RUN mkdir -p /app/conf && chown 10001:0 /app/conf
USER 10001:0
ENTRYPOINT ["app", "--config-dir", "/app/conf"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    volumeMounts:
    - name: config
      mountPath: /app/conf
  volumes:
  - name: config
    configMap:
      name: app-config
`,
		Good: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/app
    dockerfile: Dockerfile
-- Dockerfile --
FROM alpine:3.21
COPY app /usr/local/bin/app
RUN mkdir -p /app/conf && chown 10001:0 /app/conf
USER 10001:0
ENTRYPOINT ["app", "--config-dir", "/app/conf"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    volumeMounts:
    - name: config
      mountPath: /app/conf/app.yaml
      subPath: app.yaml
  volumes:
  - name: config
    configMap:
      name: app-config
`,
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range judgedContainers(pass) {
			if len(x.c.Mounts) == 0 {
				continue
			}
			vols := map[string]*kube.Volume{}
			for _, v := range x.c.Workload.Volumes {
				vols[v.Name] = v
			}
			paths := x.im.writes()
			for _, mt := range x.c.Mounts {
				v := vols[mt.Name]
				if v == nil || mt.MountPathNode == nil || hasSubPath(mt.Node) {
					continue
				}
				switch v.Type {
				case "configMap", "secret", "projected", "downwardAPI":
				default:
					continue
				}
				mp := strings.TrimSuffix(mt.MountPath, "/")
				for _, p := range paths {
					if p.Path != mp && !strings.HasPrefix(p.Path, mp+"/") {
						continue
					}
					what := "writes"
					if p.Op == "VOLUME" || !x.im.linked() && isVolume(x.im, p.Path) {
						what = "declares as a VOLUME"
					}
					pass.Report(diagnostics.Finding{
						Range: yamlnode.Range(x.m.Lines, mt.MountPathNode),
						Message: fmt.Sprintf("%s mounts %s volume %q over %s, which image %s %s (%s): the mount is read-only and owned by root, so writes there fail with \"Read-only file system\"",
							x.c.Label(), v.Type, v.Name, mt.MountPath, x.c.Image, what, x.im.pathWhere(pass.Snapshot, p)),
						Related: []diagnostics.Related{x.im.pathRelated(p, fmt.Sprintf("the image prepares %s for writing here", p.Path))},
						Data:    x.data(pass),
					})
					break
				}
			}
		}
	},
}

// isVolume reports whether the catalog lists path as a VOLUME of the image.
func isVolume(im *image, path string) bool {
	for _, p := range im.cat.Entry.Paths {
		if p.Path == path {
			return p.Volume
		}
	}
	return false
}

func hasSubPath(n *yaml.Node) bool {
	for _, p := range yamlnode.Pairs(n) {
		if p.Key.Value == "subPath" || p.Key.Value == "subPathExpr" {
			return true
		}
	}
	return false
}
