package kube

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"k8s.io/pod-security-admission/policy"
)

// Data is the payload of an NR2xx finding (Finding.Data), for the quick-fix planners.
type Data struct {
	Manifest  *Manifest
	Workload  *Workload
	Container *Container // nil for a pod-level finding
	Check     string     // the Pod Security Admission check that failed ("" for NR207–NR210)
	Field     *Field     // the offending field, when there is one
	Mount     *Mount     // NR207
	Volume    *Volume    // NR207, NR209
	Port      *Port      // NR210
}

var manifestKinds = []diagnostics.FileKind{diagnostics.KindManifest}

// eachWorkload calls fn for every workload of the pass's file and reports what fn adds,
// with the model in their Data. An NR2xx finding depends on its workload alone, so what fn
// adds is kept on the workload: when the next version of the file reuses the workload (its
// text unchanged and in the same place, see chunks.go), the findings are reported again
// without running fn. (What is kept does not point at the model, which holds the whole text
// of its version.)
func eachWorkload(pass *diagnostics.Pass, fn func(m *Manifest, w *Workload, out *findings)) {
	m := ForFile(pass.File)
	for _, w := range m.Workloads {
		for _, f := range w.found.get(pass.Rule.ID, func() findings {
			var out findings
			fn(m, w, &out)
			return out
		}) {
			if d, ok := f.Data.(*Data); ok {
				dd := *d
				dd.Manifest = m
				f.Data = &dd
			}
			pass.Report(f)
		}
	}
}

// findings are what a rule found on one workload.
type findings []diagnostics.Finding

func (out *findings) add(rng text.Range, d *Data, format string, args ...any) {
	*out = append(*out, diagnostics.Finding{Range: rng, Message: fmt.Sprintf(format, args...), Data: d})
}

// foundMemo keeps a workload's findings per rule.
type foundMemo struct {
	mu     sync.Mutex
	byRule map[string]findings
}

func (fm *foundMemo) get(rule string, fn func() findings) findings {
	fm.mu.Lock()
	fs, ok := fm.byRule[rule]
	fm.mu.Unlock()
	if ok {
		return fs
	}
	fs = fn()
	fm.mu.Lock()
	if fm.byRule == nil {
		fm.byRule = map[string]findings{}
	}
	fm.byRule[rule] = fs
	fm.mu.Unlock()
	return fs
}

// fieldRange is the range of f's value, or of the fallback.
func fieldRange(m *Manifest, f *Field, fallback text.Range) text.Range {
	if f != nil {
		return f.Range
	}
	return fallback
}

// podAnchor is where a pod-level finding lands: the pod securityContext key, else the spec key.
func podAnchor(m *Manifest, w *Workload) text.Range {
	if w.Pod.Key != nil {
		return Range(m.Lines, w.Pod.Key)
	}
	if w.SpecKey != nil {
		return Range(m.Lines, w.SpecKey)
	}
	return w.Object.KindRange
}

func objLabel(w *Workload) string {
	if w.Object.Name != "" {
		return fmt.Sprintf("%s %q", w.Object.Kind, w.Object.Name)
	}
	return w.Object.Kind
}

const psaSource = "Pod Security Standards, restricted profile (k8s.io/pod-security-admission): "

// NR201 — runAsNonRoot: true is set at neither pod nor container level.
var NR201 = &diagnostics.Rule{
	ID:       "NR201",
	Title:    "runAsNonRoot is not set",
	Severity: diagnostics.SeverityError,
	Kinds:    manifestKinds,
	FixTitle: "Add runAsNonRoot: true to the pod securityContext",
	Doc: diagnostics.Doc{
		Why:     "Without `runAsNonRoot: true` nothing stops the container from running as root: the image's USER decides, and most images run as root.",
		Runtime: "The container runs as whatever user the image says, root for most official images. A namespace enforcing the `restricted` Pod Security Standard rejects the pod: `violates PodSecurity \"restricted:latest\": runAsNonRoot != true`.",
		Fix:     "Set `runAsNonRoot: true` in the pod's `securityContext` (it covers every container). With it, the kubelet refuses to start a container whose image runs as root instead of running it.",
		Source:  psaSource + "\"Containers must be required to run as non-root users\": spec.securityContext.runAsNonRoot must be true, or every container's securityContext.runAsNonRoot must be true. Pods with `hostUsers: false` are exempt from 1.35.",
		Bad:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n",
		Good:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: web\n    image: nginxinc/nginx-unprivileged\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachFailingContainer(pass, CheckRunAsNonRoot, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			if f := c.Own.RunAsNonRoot; f != nil {
				if b, ok := f.Bool(); ok && !b {
					return // explicitly false: NR202
				}
			}
			out.add(c.Anchor(m.Lines), &Data{Workload: w, Container: c, Check: CheckRunAsNonRoot},
				"%s of %s may run as root: runAsNonRoot is set at neither pod nor container level, so the image's user decides; %s",
				c.Label(), objLabel(w), Violation(CheckRunAsNonRoot, r))
		})
	},
}

// NR202 — runAsUser: 0 or runAsNonRoot: false.
var NR202 = &diagnostics.Rule{
	ID:       "NR202",
	Title:    "Runs as root: runAsUser 0 or runAsNonRoot false",
	Severity: diagnostics.SeverityError,
	Kinds:    manifestKinds,
	FixTitle: "Set a non-root runAsUser / runAsNonRoot: true",
	Doc: diagnostics.Doc{
		Why:     "`runAsUser: 0` runs the container as root whatever the image says; `runAsNonRoot: false` explicitly allows it.",
		Runtime: "With `runAsUser: 0` and `runAsNonRoot: true` the kubelet refuses to start the container: `container's runAsUser breaks non-root policy` (CreateContainerConfigError). Without runAsNonRoot the process runs as root. A namespace enforcing `restricted` rejects the pod (`runAsUser=0`, `runAsNonRoot != true`).",
		Fix:     "Set `runAsUser` to the image's non-root uid (or the default 10001), and `runAsNonRoot: true`.",
		Source:  "kubelet: `container's runAsUser breaks non-root policy` (SPEC §6). " + psaSource + "runAsUser must not be 0; runAsNonRoot must not be false.",
		Bad:     "spec:\n  securityContext:\n    runAsUser: 0\n  containers:\n  - name: app\n    image: app\n",
		Good:    "spec:\n  securityContext:\n    runAsUser: 10001\n    runAsNonRoot: true\n  containers:\n  - name: app\n    image: app\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			v := w.Verdicts()
			if r := v.Pod[CheckRunAsNonRoot]; !r.Allowed && w.Pod.RunAsNonRoot != nil {
				out.add(w.Pod.RunAsNonRoot.Range, &Data{Workload: w, Check: CheckRunAsNonRoot, Field: w.Pod.RunAsNonRoot},
					"runAsNonRoot: false in the pod securityContext of %s lets every container that does not override it run as root; %s",
					objLabel(w), Violation(CheckRunAsNonRoot, r))
			}
			if r := v.Pod[CheckRunAsUser]; !r.Allowed && w.Pod.RunAsUser != nil {
				out.add(w.Pod.RunAsUser.Range, &Data{Workload: w, Check: CheckRunAsUser, Field: w.Pod.RunAsUser},
					"runAsUser: 0 in the pod securityContext of %s runs its containers as root (with runAsNonRoot: true the kubelet refuses to start them: \"container's runAsUser breaks non-root policy\"); %s",
					objLabel(w), Violation(CheckRunAsUser, r))
			}
			for i, c := range w.Containers {
				if r := v.Containers[i][CheckRunAsNonRoot]; !r.Allowed && c.Own.RunAsNonRoot != nil {
					if b, ok := c.Own.RunAsNonRoot.Bool(); ok && !b {
						out.add(c.Own.RunAsNonRoot.Range, &Data{Workload: w, Container: c, Check: CheckRunAsNonRoot, Field: c.Own.RunAsNonRoot},
							"runAsNonRoot: false lets %s run as root; %s", c.Label(), Violation(CheckRunAsNonRoot, r))
					}
				}
				if r := v.Containers[i][CheckRunAsUser]; !r.Allowed && c.Own.RunAsUser != nil {
					out.add(c.Own.RunAsUser.Range, &Data{Workload: w, Container: c, Check: CheckRunAsUser, Field: c.Own.RunAsUser},
						"runAsUser: 0 runs %s as root (with runAsNonRoot: true the kubelet refuses to start it: \"container's runAsUser breaks non-root policy\"); %s",
						c.Label(), Violation(CheckRunAsUser, r))
				}
			}
		})
	},
}

// NR203 — allowPrivilegeEscalation not false.
var NR203 = &diagnostics.Rule{
	ID:       "NR203",
	Title:    "allowPrivilegeEscalation is not false",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	FixTitle: "Add allowPrivilegeEscalation: false",
	Doc: diagnostics.Doc{
		Why:     "Unless `allowPrivilegeEscalation` is `false`, a process in the container can gain more privileges than its parent (setuid binaries such as `sudo` or `su`), so a non-root user can become root again.",
		Runtime: "The container starts without `no_new_privs`: setuid-root binaries in the image work. A namespace enforcing `restricted` rejects the pod: `allowPrivilegeEscalation != false`.",
		Fix:     "Add `allowPrivilegeEscalation: false` to each container's `securityContext`.",
		Source:  psaSource + "\"Privilege escalation (such as via set-user-ID or set-group-ID file mode) should not be allowed\": containers[*].securityContext.allowPrivilegeEscalation must be false.",
		Bad:     "containers:\n- name: app\n  image: app\n",
		Good:    "containers:\n- name: app\n  image: app\n  securityContext:\n    allowPrivilegeEscalation: false\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachFailingContainer(pass, CheckAllowPrivilegeEscalation, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			f := c.Own.AllowPrivilegeEscalation
			what := "allowPrivilegeEscalation is not set"
			if f != nil {
				what = "allowPrivilegeEscalation: " + f.Value
			}
			out.add(fieldRange(m, f, c.Anchor(m.Lines)), &Data{Workload: w, Container: c, Check: CheckAllowPrivilegeEscalation, Field: f},
				"%s: setuid binaries in %s can regain root; %s", what, c.Label(), Violation(CheckAllowPrivilegeEscalation, r))
		})
	},
}

// NR204 — capabilities.drop lacks ALL, or add has more than NET_BIND_SERVICE.
var NR204 = &diagnostics.Rule{
	ID:       "NR204",
	Title:    "Capabilities not dropped",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	FixTitle: "Add capabilities.drop: [ALL]",
	Doc: diagnostics.Doc{
		Why:     "A container keeps the runtime's default capabilities (CHOWN, DAC_OVERRIDE, SETUID, NET_RAW…) unless it drops them; a process that regains root, or a file capability, can use them.",
		Runtime: "The process starts with the default capability set in its bounding set. A namespace enforcing `restricted` rejects the pod: `unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"])`; only `NET_BIND_SERVICE` may be added.",
		Fix:     "Add `capabilities: {drop: [ALL]}` to each container's `securityContext`; add back only `NET_BIND_SERVICE` if the process binds a port below 1024.",
		Source:  psaSource + "\"Containers must drop ALL capabilities, and are only permitted to add back the NET_BIND_SERVICE capability.\"",
		Bad:     "containers:\n- name: app\n  image: app\n  securityContext:\n    capabilities:\n      add: [SYS_ADMIN]\n",
		Good:    "containers:\n- name: app\n  image: app\n  securityContext:\n    capabilities:\n      drop: [ALL]\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachFailingContainer(pass, CheckCapabilities, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			d := &Data{Workload: w, Container: c, Check: CheckCapabilities}
			dropsAll := false
			for _, f := range c.Own.CapabilitiesDrop {
				if f.Value == "ALL" {
					dropsAll = true
				}
			}
			if !dropsAll {
				rng := c.Anchor(m.Lines)
				switch {
				case c.Own.CapabilitiesDropKey != nil:
					rng = c.Own.CapabilitiesDropKey.KeyRange
				case c.Own.Capabilities != nil:
					rng = c.Own.Capabilities.KeyRange
				}
				out.add(rng, d, "%s keeps the runtime's default capabilities (capabilities.drop lacks ALL); %s", c.Label(), Violation(CheckCapabilities, r))
			}
			for _, f := range c.Own.CapabilitiesAdd {
				if f.Value != "NET_BIND_SERVICE" {
					dd := *d
					dd.Field = f
					out.add(f.Range, &dd, "capability %s added to %s gives it privileges beyond NET_BIND_SERVICE; %s", f.Value, c.Label(), Violation(CheckCapabilities, r))
				}
			}
		})
	},
}

// NR205 — privileged: true.
var NR205 = &diagnostics.Rule{
	ID:       "NR205",
	Title:    "Privileged container",
	Severity: diagnostics.SeverityError,
	Kinds:    manifestKinds,
	FixTitle: "Remove privileged: true",
	Doc: diagnostics.Doc{
		Why:     "A privileged container has every capability and access to all host devices: running it as non-root protects little, root in it is root on the node.",
		Runtime: "The container runs with all capabilities, no seccomp or AppArmor confinement and the host's /dev. Even the `baseline` Pod Security Standard rejects the pod: `privileged (container \"app\" must not set securityContext.privileged=true)`; OpenShift's restricted-v2 SCC too.",
		Fix:     "Remove `privileged: true`; add the one capability the workload really needs instead.",
		Source:  "Pod Security Standards, baseline profile (k8s.io/pod-security-admission): \"Privileged Pods disable most security mechanisms and must be disallowed.\"",
		Bad:     "containers:\n- name: app\n  image: app\n  securityContext:\n    privileged: true\n",
		Good:    "containers:\n- name: app\n  image: app\n  securityContext:\n    allowPrivilegeEscalation: false\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachFailingContainer(pass, CheckPrivileged, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			f := c.Own.Privileged
			out.add(fieldRange(m, f, c.Anchor(m.Lines)), &Data{Workload: w, Container: c, Check: CheckPrivileged, Field: f},
				"privileged: true gives %s every capability and the host's devices: root in it is root on the node; %s", c.Label(), Violation(CheckPrivileged, r))
		})
	},
}

// NR206 — seccompProfile.type not RuntimeDefault/Localhost.
var NR206 = &diagnostics.Rule{
	ID:       "NR206",
	Title:    "No seccomp profile",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	FixTitle: "Add seccompProfile: {type: RuntimeDefault} to the pod",
	Doc: diagnostics.Doc{
		Why:     "Without a seccomp profile the container can make every system call, including the ones container escapes use.",
		Runtime: "Kubernetes runs containers `Unconfined` unless a profile is set (or the kubelet's SeccompDefault is on). A namespace enforcing `restricted` rejects the pod: `seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")`.",
		Fix:     "Add `seccompProfile: {type: RuntimeDefault}` to the pod's `securityContext`.",
		Source:  psaSource + "\"Seccomp profile must be explicitly set to one of the allowed values. Both the Unconfined profile and the absence of a profile are prohibited.\"",
		Bad:     "spec:\n  containers:\n  - name: app\n    image: app\n",
		Good:    "spec:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n  containers:\n  - name: app\n    image: app\n",
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
				out.add(rng, &Data{Workload: w, Check: CheckSeccomp, Field: f},
					"the pod seccomp profile of %s is not RuntimeDefault or Localhost: its containers can make every system call; %s", objLabel(w), Violation(CheckSeccomp, r))
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
				out.add(rng, &Data{Workload: w, Container: c, Check: CheckSeccomp, Field: f},
					"%s: %s runs Unconfined and can make every system call; %s", what, c.Label(), Violation(CheckSeccomp, r))
			}
		})
	},
}

// NR207 — a PVC/ephemeral volume mounted writable into a non-root container without fsGroup.
var NR207 = &diagnostics.Rule{
	ID:       "NR207",
	Title:    "Writable volume without fsGroup",
	Severity: diagnostics.SeverityWarning,
	Profiles: []diagnostics.Profile{diagnostics.ProfileKubernetes},
	Kinds:    manifestKinds,
	FixTitle: "Add fsGroup to the pod securityContext",
	Doc: diagnostics.Doc{
		Why:     "A freshly provisioned persistent volume is usually owned by root with mode 755. A non-root container cannot write it unless the kubelet gives the pod's `fsGroup` group ownership and write access.",
		Runtime: "The application fails with `permission denied` the first time it writes to the mount (database init, uploads, caches). With `fsGroup` set, the kubelet chowns the volume to that group and makes it group-writable, and adds the group to every container's supplementary groups.",
		Fix:     "Set `fsGroup` in the pod's `securityContext` (the container's group, e.g. the default 10001 or the image's gid). On OpenShift the SCC assigns fsGroup from the namespace range, so this rule does not run in the openshift profile.",
		Source:  "Kubernetes: \"fsGroup: A special supplemental group that applies to all containers in a pod. Some volume types allow the Kubelet to change the ownership of that volume to be owned by the pod\". Seed article (Bitnami, non-root containers): \"Use Pod Security Policies to specify the user ID and the FSGroup that will own the pod volumes.\"",
		Bad:     "spec:\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 10001\n  containers:\n  - name: db\n    image: db\n    volumeMounts:\n    - name: data\n      mountPath: /data\n  volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: data\n",
		Good:    "spec:\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 10001\n    fsGroup: 10001\n  containers:\n  - name: db\n    image: db\n    volumeMounts:\n    - name: data\n      mountPath: /data\n  volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: data\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			if w.Pod.FSGroup != nil {
				return
			}
			vols := map[string]*Volume{}
			for _, v := range w.Volumes {
				if v.Type == "persistentVolumeClaim" || v.Type == "ephemeral" {
					vols[v.Name] = v
				}
			}
			if len(vols) == 0 {
				return
			}
			for _, c := range w.Containers {
				if !c.RunsNonRoot() {
					continue
				}
				for _, mt := range c.Mounts {
					v := vols[mt.Name]
					if v == nil || mt.ReadOnly {
						continue
					}
					at := mt.MountPathNode
					if at == nil {
						at = mt.NameNode
					}
					out.add(Range(m.Lines, at), &Data{Workload: w, Container: c, Mount: mt, Volume: v},
						"%s volume %q is mounted writable at %s in non-root %s, but the pod sets no fsGroup: the volume stays root-owned and writes fail with \"permission denied\"",
						v.Type, v.Name, mt.MountPath, c.Label())
				}
			}
		})
	},
}

var chownRE = regexp.MustCompile(`(^|[\s;&|/(])(chown|chmod|chgrp)(\s|$)`)

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
		Source:  "SPEC §3: \"the init container is rejected by restricted PSS and OpenShift\". " + psaSource + "runAsNonRoot must be true for init containers too.",
		Bad:     "initContainers:\n- name: fix-perms\n  image: busybox\n  command: [sh, -c, chown -R 10001 /data]\n  volumeMounts:\n  - name: data\n    mountPath: /data\n",
		Good:    "securityContext:\n  fsGroup: 10001\n  fsGroupChangePolicy: OnRootMismatch\n",
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			for _, c := range w.Containers {
				if !c.Init || !c.RunsAsRoot() || len(c.Mounts) == 0 {
					continue
				}
				for _, a := range c.Command {
					if mm := chownRE.FindStringSubmatch(a.Value); mm != nil {
						out.add(Range(m.Lines, a), &Data{Workload: w, Container: c},
							"%s runs as root only to %s a volume: a namespace enforcing \"restricted\" and OpenShift's restricted-v2 reject the pod; set fsGroup in the pod securityContext instead", c.Label(), mm[2])
						break
					}
				}
			}
		})
	},
}

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
		Bad:     "volumes:\n- name: logs\n  hostPath:\n    path: /var/log\n",
		Good:    "volumes:\n- name: logs\n  emptyDir: {}\n",
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
				out.add(Range(m.Lines, v.TypeKey), &Data{Workload: w, Volume: v},
					"hostPath volume %q mounts the node's %s: its files are owned by the node's root, so a non-root container cannot write them; %s",
					v.Name, path, Violation(CheckHostPath, w.Verdicts().Pod[CheckHostPath]))
			}
		})
	},
}

// NR210 — containerPort < 1024 in a non-root container without NET_BIND_SERVICE.
var NR210 = &diagnostics.Rule{
	ID:         "NR210",
	Title:      "Privileged port in a non-root container",
	Severity:   diagnostics.SeverityInfo,
	SeverityIn: map[diagnostics.Profile]diagnostics.Severity{diagnostics.ProfileOpenShift: diagnostics.SeverityWarning},
	Kinds:      manifestKinds,
	FixTitle:   "Add capabilities.add: [NET_BIND_SERVICE]",
	Doc: diagnostics.Doc{
		Why:     "Ports below 1024 are privileged: binding one needs CAP_NET_BIND_SERVICE unless the runtime lowers `net.ipv4.ip_unprivileged_port_start`.",
		Runtime: "Docker ≥ 20.10 and containerd ≥ 2.0 set `net.ipv4.ip_unprivileged_port_start=0` in the pod, so the bind works there; CRI-O (OpenShift) does not, and the process fails with `bind: permission denied`.",
		Fix:     "Listen on a port ≥ 1024 (and map it in the Service), or add `NET_BIND_SERVICE` to `capabilities.add` (the only capability the restricted profile allows).",
		Source:  "Seed article (Bitnami): \"Do not make your application listen on any of the privileged port, that is a port between 1 and 1024.\" SPEC §3 NR108: CRI-O does not set ip_unprivileged_port_start.",
		Bad:     "containers:\n- name: web\n  image: web\n  securityContext:\n    runAsNonRoot: true\n  ports:\n  - containerPort: 80\n",
		Good:    "containers:\n- name: web\n  image: web\n  securityContext:\n    runAsNonRoot: true\n  ports:\n  - containerPort: 8080\n",
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
						out.add(Range(m.Lines, p.Node), &Data{Workload: w, Container: c, Port: p},
							"non-root %s listens on privileged port %d without NET_BIND_SERVICE: it works where the runtime sets ip_unprivileged_port_start=0 (Docker, containerd ≥ 2.0) but fails with \"bind: permission denied\" on CRI-O (OpenShift)",
							c.Label(), p.Port)
					}
				}
			}
		})
	},
}

func init() {
	diagnostics.Register(NR201, NR202, NR203, NR204, NR205, NR206, NR207, NR208, NR209, NR210)
	diagnostics.RegisterParseCheck(diagnostics.KindManifest, func(_ *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
		return ForFile(f).Problems
	})
	diagnostics.RegisterOpenShiftDetector(HasOpenShiftObjects)
}

// OpenShiftKinds are the kinds whose presence in a workspace turns the openshift profile on.
var OpenShiftKinds = map[string]bool{"Route": true, "DeploymentConfig": true, "SecurityContextConstraints": true, "ImageStream": true, "BuildConfig": true}

// HasOpenShiftObjects reports whether a manifest holds an OpenShift object (Route,
// DeploymentConfig, SecurityContextConstraints, ImageStream, BuildConfig), Template objects
// included. The snapshot keeps its answer per file ([diagnostics.RegisterOpenShiftDetector]).
func HasOpenShiftObjects(f *diagnostics.File) bool {
	if !strings.Contains(f.Text, "kind") {
		return false
	}
	for _, o := range ForFile(f).Objects {
		if OpenShiftKinds[o.Kind] {
			return true
		}
	}
	return false
}

// eachFailingContainer calls fn for every container of the pass's workloads whose own
// pod-security-admission verdict on check fails.
func eachFailingContainer(pass *diagnostics.Pass, check string, fn func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings)) {
	eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
		v := w.Verdicts()
		for i, c := range w.Containers {
			if r := v.Containers[i][check]; !r.Allowed {
				fn(m, w, c, r, out)
			}
		}
	})
}
