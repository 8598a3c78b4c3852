package workspace

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
)

// NR306 — the image EXPOSEs a privileged port and the container runs non-root without
// NET_BIND_SERVICE.
var NR306 = &diagnostics.Rule{
	ID:         "NR306",
	Title:      "Image listens below 1024 but the container runs non-root without NET_BIND_SERVICE",
	Severity:   diagnostics.SeverityInfo,
	SeverityIn: map[diagnostics.Profile]diagnostics.Severity{diagnostics.ProfileOpenShift: diagnostics.SeverityWarning},
	Profiles:   clusterProfiles,
	Kinds:      manifestKinds,
	FixTitle:   "Add NET_BIND_SERVICE to the container's capabilities",
	Fix:        planNR306,
	Field:      "capabilities",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "capabilities", Children: []diagnostics.Setting{{Key: "add", Items: []string{"NET_BIND_SERVICE"}}}}}
	},
	Doc: diagnostics.Doc{
		Why:     "The Dockerfile EXPOSEs a port below 1024, and the container runs as a non-root user without the NET_BIND_SERVICE capability, which binding such a port needs unless the runtime lowers `net.ipv4.ip_unprivileged_port_start`.",
		Runtime: "Docker ≥ 20.10 and containerd ≥ 2.0 set `net.ipv4.ip_unprivileged_port_start=0`, so it works there; on CRI-O (OpenShift) and older runtimes the server fails to start: `bind: permission denied`.",
		Fix:     "Listen on a port ≥ 1024 (and map the Service port), or add `NET_BIND_SERVICE` to `capabilities.add` (the only capability restricted PSS allows), or `setcap cap_net_bind_service=+ep` on the binary in the Dockerfile.",
		Source:  "Linux capabilities(7): CAP_NET_BIND_SERVICE \"Bind a socket to Internet domain privileged ports (port numbers less than 1024)\"; Docker ≥ 20.10 and containerd ≥ 2.0 allow binding them unprivileged, CRI-O (OpenShift) does not.",
		Bad: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/web
    dockerfile: Dockerfile
-- Dockerfile --
FROM alpine:3.21
COPY web /usr/local/bin/web
ENV PORT=80
EXPOSE 80
USER 10001:0
ENTRYPOINT ["web"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: web
    image: ghcr.io/acme/web:1.0
`,
		Good: `-- .nonroot-ls.yaml --
images:
  - image: ghcr.io/acme/web
    dockerfile: Dockerfile
-- Dockerfile --
FROM alpine:3.21
COPY web /usr/local/bin/web
ENV PORT=8080
EXPOSE 8080
USER 10001:0
ENTRYPOINT ["web"]
-- deploy/pod.yaml --
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: web
    image: ghcr.io/acme/web:1.0
`,
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range judgedContainers(pass) {
			if !runsNonRoot(x.c, x.im.user) || hasCap(x.c, "NET_BIND_SERVICE") || x.im.bindsLowPorts() || refused(x) {
				continue
			}
			low := x.im.lowPorts()
			if len(low) == 0 {
				continue
			}
			var nums []string
			var related []diagnostics.Related
			for _, p := range low {
				nums = append(nums, strconv.Itoa(p.number))
				related = append(related, p.rel)
			}
			pass.Report(diagnostics.Finding{
				Range: x.imageRange(),
				Message: fmt.Sprintf("image %s EXPOSEs port %s and %s runs non-root without NET_BIND_SERVICE: binding it fails with \"permission denied\" on runtimes that keep net.ipv4.ip_unprivileged_port_start at 1024 (CRI-O/OpenShift); Docker ≥ 20.10 and containerd ≥ 2.0 allow it",
					x.c.Image, strings.Join(nums, ", "), x.c.Label()),
				Related: related,
				Data:    x.data(pass),
			})
		}
	},
}

func hasCap(c *kube.Container, name string) bool {
	for _, f := range c.Effective.CapabilitiesAdd {
		v := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(f.Value), "CAP_"))
		if v == name || v == "ALL" {
			return true
		}
	}
	return false
}

// NR306: NET_BIND_SERVICE in the container's capabilities.add.
func planNR306(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := wsData(s, f)
	if !ok {
		return nil
	}
	return containerSet(s, d, fmt.Sprintf("Add NET_BIND_SERVICE to the capabilities of %s", d.Container.Label()),
		[]string{"capabilities", "add"}, codeactions.Seq("NET_BIND_SERVICE"))
}
