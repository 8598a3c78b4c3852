package kube

import (
	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// NR210 — containerPort < 1024 in a non-root container without NET_BIND_SERVICE.
var NR210 = &diagnostics.Rule{
	ID:         "NR210",
	Title:      "Privileged port in a non-root container",
	Severity:   diagnostics.SeverityInfo,
	SeverityIn: map[diagnostics.Profile]diagnostics.Severity{diagnostics.ProfileOpenShift: diagnostics.SeverityWarning},
	Kinds:      manifestKinds,
	FixTitle:   "Add capabilities.add: [NET_BIND_SERVICE]",
	Fix:        fix(planNR210),
	Field:      "capabilities",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "capabilities", Children: []diagnostics.Setting{{Key: "add", Items: []string{"NET_BIND_SERVICE"}}}}}
	},
	Doc: diagnostics.Doc{
		Why:     "Ports below 1024 are privileged: binding one needs CAP_NET_BIND_SERVICE unless the runtime lowers `net.ipv4.ip_unprivileged_port_start`.",
		Runtime: "Docker ≥ 20.10 and containerd ≥ 2.0 set `net.ipv4.ip_unprivileged_port_start=0` in the pod, so the bind works there; CRI-O (OpenShift) does not, and the process fails with `bind: permission denied`.",
		Fix:     "Listen on a port ≥ 1024 (and map it in the Service), or add `NET_BIND_SERVICE` to `capabilities.add` (the only capability the restricted profile allows).",
		Source:  "Seed article (Bitnami): \"Do not make your application listen on any of the privileged port, that is a port between 1 and 1024.\" CRI-O (OpenShift) does not set net.ipv4.ip_unprivileged_port_start=0, unlike Docker ≥ 20.10 and containerd ≥ 2.0.",
		Bad: `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: ghcr.io/acme/web:1.0
    securityContext:
      runAsNonRoot: true
    ports:
    - containerPort: 80
`,
		Good: `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: ghcr.io/acme/web:1.0
    securityContext:
      runAsNonRoot: true
    ports:
    - containerPort: 8080
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			for _, c := range w.Containers {
				if !c.RunsNonRoot() {
					continue
				}
				if p, _ := c.Own.Privileged.Bool(); p {
					continue
				}
				hasCap := false
				for _, f := range c.Own.CapabilitiesAdd {
					if f.Value == "NET_BIND_SERVICE" || f.Value == "CAP_NET_BIND_SERVICE" {
						hasCap = true
					}
				}
				if hasCap {
					continue
				}
				for _, p := range c.Ports {
					if p.Port > 0 && p.Port < 1024 {
						out.add(yamlnode.Range(m.Lines, p.Node), &data{Workload: w, Container: c, Port: p},
							"non-root %s listens on privileged port %d without NET_BIND_SERVICE: it works where the runtime sets ip_unprivileged_port_start=0 (Docker, containerd ≥ 2.0) but fails with \"bind: permission denied\" on CRI-O (OpenShift)",
							c.Label(), p.Port)
					}
				}
			}
		})
	},
}

func planNR210(_ *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	if d.Container == nil {
		return kubeFix{}, codeactions.ErrYAMLShape
	}
	return set(e, "Add capabilities.add: [NET_BIND_SERVICE]", d.Container.Node, []string{"securityContext", "capabilities", "add"}, codeactions.Seq("NET_BIND_SERVICE"))
}
