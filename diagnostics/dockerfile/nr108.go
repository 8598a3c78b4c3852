package dockerfile

import (
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// NR108 — privileged port.
var NR108 = &diagnostics.Rule{
	ID:         "NR108",
	Title:      "EXPOSE of a privileged port (< 1024) while running as non-root",
	Severity:   diagnostics.SeverityInfo,
	SeverityIn: map[diagnostics.Profile]diagnostics.Severity{diagnostics.ProfileOpenShift: diagnostics.SeverityWarning},
	Kinds:      kinds,
	Doc: diagnostics.Doc{
		Why:     "Binding a port below 1024 needs CAP_NET_BIND_SERVICE unless the runtime lowers `net.ipv4.ip_unprivileged_port_start`.",
		Runtime: "Docker ≥ 20.10 and containerd ≥ 2.0 set `net.ipv4.ip_unprivileged_port_start=0`, so the bind works there. CRI-O (OpenShift) and older runtimes do not: the server fails with `bind: permission denied`.",
		Fix:     "Listen on a port ≥ 1024 (8080, 8443) and map it in the Service; or `setcap cap_net_bind_service=+ep` on the binary and add NET_BIND_SERVICE to the container's capabilities; or set the sysctl in the pod.",
		Source:  "\"Do not make your application listen on any of the privileged port ... Otherwise it will fail binding its port by default since your container will running without root.\" (Docker without root)",
		Bad:     "FROM nginx:1.27\nUSER 101\nEXPOSE 80\n",
		Good:    "FROM nginx:1.27\nUSER 101\nEXPOSE 8080\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		u := st.User()
		if !u.NonRoot() {
			return
		}
		for _, s := range st.model.Stages {
			for _, sc := range s.Setcaps {
				if strings.Contains(strings.ToLower(sc.Caps), "cap_net_bind_service") {
					return
				}
			}
		}
		for _, s := range reverse(st.Ancestry()) {
			for _, p := range s.Ports {
				if p.Number > 0 && p.Number < 1024 {
					pass.Reportf(p.Range, "EXPOSE %s: %s cannot bind a port below 1024 without CAP_NET_BIND_SERVICE; it works on Docker ≥ 20.10 and containerd ≥ 2.0 (ip_unprivileged_port_start=0) but fails with \"permission denied\" on CRI-O/OpenShift", p.Value, u.Describe())
				}
			}
		}
	}),
}
