package openshift

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// ManifestData is the payload of NR503 and NR504 findings, for the quick-fix planners.
type ManifestData struct {
	Manifest  *kube.Manifest
	Workload  *kube.Workload
	Container *kube.Container // nil for a pod-level field
	// Key names what is at fault: runAsUser, runAsGroup, fsGroup, supplementalGroups,
	// hostNetwork, hostPID, hostIPC, hostPort, privileged, allowPrivilegeEscalation,
	// seccompProfile.type, capabilities.add, volume.
	Key string
	// Holder is the mapping that holds Key (a securityContext, the pod spec, a port); KeyNode
	// and Value are the key and its value.
	Holder  *yaml.Node
	KeyNode *yaml.Node
	Value   *yaml.Node
	// RunAsNonRoot reports whether runAsNonRoot: true is set in Holder (NR503's fix keeps it).
	RunAsNonRoot bool
}

func manifestKinds() []diagnostics.FileKind { return []diagnostics.FileKind{diagnostics.KindManifest} }

// fieldPath is the API path of a securityContext field of c (nil: the pod's).
func fieldPath(c *kube.Container, key string) string {
	if c == nil {
		return "spec.securityContext." + key
	}
	return fmt.Sprintf("spec.%s[%d].securityContext.%s", c.ListName(), c.Index, key)
}

func holderNonRoot(sc kube.SecurityContext) bool {
	v, ok := sc.RunAsNonRoot.Bool()
	return ok && v
}

// NR503 — hard-coded runAsUser/runAsGroup/fsGroup/supplementalGroups.
var NR503 = &diagnostics.Rule{
	ID:       "NR503",
	Title:    "Hard-coded runAsUser, runAsGroup, fsGroup or supplementalGroups",
	Severity: diagnostics.SeverityWarning,
	Profiles: openshiftOnly,
	Kinds:    manifestKinds(),
	FixTitle: "Remove the field (keep runAsNonRoot: true)",
	Doc: diagnostics.Doc{
		Why:     "restricted-v2 assigns the uid and fsGroup from the namespace's range (`openshift.io/sa.scc.uid-range`, `openshift.io/sa.scc.supplemental-groups`), and every project has its own range. A fixed `runAsUser`/`fsGroup` is only admitted in the one namespace whose range happens to contain it; a fixed `runAsGroup` replaces group 0, the group the image's permissions are prepared for.",
		Runtime: "Outside the range the API server rejects the pod: `unable to validate against any security context constraint: [... spec.containers[0].securityContext.runAsUser: Invalid value: 1000: must be in the ranges: [1000940000, 1000949999]]`, and the Deployment never gets a pod. With `runAsGroup: 1000` the process loses group 0 and gets `Permission denied` on the paths the image made group-0 writable.",
		Fix:     "Remove `runAsUser`, `runAsGroup`, `fsGroup` and `supplementalGroups` and keep `runAsNonRoot: true`: OpenShift fills in a uid and fsGroup from the namespace's range. Charts that need them elsewhere make them conditional (Bitnami: `global.compatibility.openshift.adaptSecurityContext`).",
		Source:  sourceFact + "; \"Openshift restricts with Security Context Constraints the range of allowed user IDs. And this range can be different for every environment. Hence, we have to assume the user ID is random.\" (Friends don't let friends run containers as root)",
		Bad:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n    fsGroup: 1000\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n",
		Good:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n",
	},
	Run: func(pass *diagnostics.Pass) {
		m := kube.ForFile(pass.File)
		if len(m.Workloads) == 0 {
			return
		}
		hint := chartHint(pass.Snapshot, pass.File.Path)
		for _, w := range m.Workloads {
			ns := NamespaceFor(pass.Snapshot, w.Object)
			check503(pass, m, w, nil, w.Pod, ns, hint)
			for _, c := range w.Containers {
				check503(pass, m, w, c, c.Own, ns, hint)
			}
		}
	},
}

// chartHint is what NR503 adds for a manifest rendered from a Helm chart: Bitnami-style
// charts drop the fixed ids themselves when told they run on OpenShift.
func chartHint(s *diagnostics.Snapshot, path string) string {
	if !strings.Contains(filepath.ToSlash(path), "/"+helm.RenderedDir+"/") {
		return ""
	}
	c := helm.Root(s, path)
	if c == nil {
		return ""
	}
	for _, v := range c.AllValues() {
		if v.File != nil && strings.Contains(v.File.Text, "adaptSecurityContext") {
			return "; this chart adapts to OpenShift: set global.compatibility.openshift.adaptSecurityContext to auto (the default, on a cluster with security.openshift.io/v1) or force and it leaves runAsUser, runAsGroup and fsGroup out"
		}
	}
	return "; make the field conditional in the chart (left out on OpenShift) rather than a fixed value"
}

func check503(pass *diagnostics.Pass, m *kube.Manifest, w *kube.Workload, c *kube.Container, sc kube.SecurityContext, ns *Namespace, hint string) {
	if sc.Node == nil {
		return
	}
	report := func(f diagnostics.Finding) {
		f.Message += hint
		pass.Report(f)
	}
	data := func(key string, f *kube.Field) *ManifestData {
		return &ManifestData{Manifest: m, Workload: w, Container: c, Key: key, Holder: sc.Node, KeyNode: f.Key, Value: f.Node, RunAsNonRoot: holderNonRoot(sc)}
	}
	nsDesc := func() string {
		return fmt.Sprintf("namespace %s (%s: %s)", ns.Name, AnnotationUIDRange, ns.Raw)
	}
	if f := sc.RunAsUser; f != nil {
		if v, ok := f.Int(); ok {
			switch {
			case ns == nil:
				report(diagnostics.Finding{Range: f.Range, Data: data("runAsUser", f), Message: fmt.Sprintf(
					"runAsUser: %d is hard-coded: restricted-v2 admits it only in a namespace whose %s contains it (each project has its own, e.g. %s); elsewhere the pod is rejected with \"must be in the ranges: [...]\"", v, AnnotationUIDRange, ExampleRange)})
			case !inRanges(ns.UIDs, v):
				report(diagnostics.Finding{Range: f.Range, Data: data("runAsUser", f), Message: fmt.Sprintf(
					"runAsUser: %d is outside %s: restricted-v2 rejects the pod (\"%s: Invalid value: %d: must be in the ranges: %s\")", v, nsDesc(), fieldPath(c, "runAsUser"), v, FormatRanges(ns.UIDs))})
			}
		}
	}
	if f := sc.RunAsGroup; f != nil {
		if v, ok := f.Int(); ok && v != 0 {
			report(diagnostics.Finding{Range: f.Range, Data: data("runAsGroup", f), Message: fmt.Sprintf(
				"runAsGroup: %d replaces group 0: OpenShift's arbitrary uid then lacks the group the image's writable paths are prepared for (\"Permission denied\")", v)})
		}
	}
	if f := sc.FSGroup; f != nil {
		if v, ok := f.Int(); ok {
			switch {
			case ns == nil:
				report(diagnostics.Finding{Range: f.Range, Data: data("fsGroup", f), Message: fmt.Sprintf(
					"fsGroup: %d is hard-coded: restricted-v2 (fsGroup MustRunAs) admits only a group from the namespace's %s range, different in each project; elsewhere the pod is rejected (\"%d is not an allowed group\")", v, AnnotationSupplementalGroups, v)})
			case !inRanges(ns.Groups, v):
				report(diagnostics.Finding{Range: f.Range, Data: data("fsGroup", f), Message: fmt.Sprintf(
					"fsGroup: %d is outside the groups of namespace %s %s: restricted-v2 rejects the pod (\"spec.securityContext.fsGroup: Invalid value: []int64{%d}: %d is not an allowed group\")", v, ns.Name, FormatRanges(ns.Groups), v, v)})
			}
		}
	}
	if f := sc.SupplementalGroups; f != nil && ns != nil && f.Node != nil && f.Node.Kind == yaml.SequenceNode {
		for _, it := range f.Node.Content {
			v, err := strconv.ParseInt(it.Value, 10, 64)
			if it.Kind != yaml.ScalarNode || err != nil || inRanges(ns.Groups, v) {
				continue
			}
			d := data("supplementalGroups", f)
			report(diagnostics.Finding{Range: kube.Range(m.Lines, it), Data: d, Message: fmt.Sprintf(
				"supplementalGroups: %d is outside the groups of namespace %s %s: restricted-v2 passes it through (RunAsAny), but an SCC whose supplementalGroups strategy is MustRunAs rejects the pod, and the gid means nothing to the image", v, ns.Name, FormatRanges(ns.Groups))})
		}
	}
}

// allowedVolumes are the volume types restricted-v2 allows.
var allowedVolumes = map[string]bool{"configMap": true, "csi": true, "downwardAPI": true, "emptyDir": true, "ephemeral": true, "image": true, "persistentVolumeClaim": true, "projected": true, "secret": true}

// NR504 — anything restricted-v2 forbids.
var NR504 = &diagnostics.Rule{
	ID:       "NR504",
	Title:    "restricted-v2 forbids this",
	Severity: diagnostics.SeverityError,
	Profiles: openshiftOnly,
	Kinds:    manifestKinds(),
	FixTitle: "Remove the forbidden setting",
	Doc: diagnostics.Doc{
		Why:     "restricted-v2 is the SCC every authenticated workload gets on OpenShift 4.11+. It forbids privileged containers, host network/PID/IPC, host ports, hostPath and other non-allowed volume types, privilege escalation, added capabilities other than NET_BIND_SERVICE, and seccomp profiles other than runtime/default. Settings it merely defaults (allowPrivilegeEscalation: false, drop ALL, RuntimeDefault) need not be written; settings that contradict it must go.",
		Runtime: "The API server refuses to create the pod: `unable to validate against any security context constraint: [provider restricted-v2: ...]` (e.g. `Privileged containers are not allowed`, `Host network is not allowed to be used`, `hostPath volumes are not allowed to be used`, `capability may not be added`). The ReplicaSet reports FailedCreate and no pod starts.",
		Fix:     "Remove the setting (`privileged`, `hostNetwork`, `hostPID`, `hostIPC`, `hostPort`), set `allowPrivilegeEscalation: false` and `seccompProfile.type: RuntimeDefault`, replace hostPath volumes by a PVC or emptyDir, and drop added capabilities the app can do without. A workload that truly needs them needs its own SCC granted to its service account.",
		Source:  "restricted-v2 (openshift/cluster-kube-apiserver-operator scc-restricted-v2.yaml): allowHostNetwork/HostPID/HostIPC/HostPorts/HostDirVolumePlugin: false, allowPrivilegedContainer: false, allowPrivilegeEscalation: false, allowedCapabilities: [NET_BIND_SERVICE], requiredDropCapabilities: [ALL], seccompProfiles: [runtime/default], volumes: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret; " + sourceFact,
		Bad:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  hostNetwork: true\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n    securityContext:\n      privileged: true\n",
		Good:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n    securityContext:\n      allowPrivilegeEscalation: false\n",
	},
	Run: func(pass *diagnostics.Pass) {
		m := kube.ForFile(pass.File)
		for _, w := range m.Workloads {
			check504(pass, m, w)
		}
	},
}

func isTrue(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && (n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
}

func check504(pass *diagnostics.Pass, m *kube.Manifest, w *kube.Workload) {
	rng := func(n *yaml.Node) text.Range { return kube.Range(m.Lines, n) }
	reject := func(d *ManifestData, rg text.Range, format string, args ...any) {
		pass.Report(diagnostics.Finding{Range: rg, Data: d, Message: "restricted-v2 rejects the pod: " + fmt.Sprintf(format, args...)})
	}
	for _, key := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		k, v := getKey(w.Spec, key)
		if isTrue(v) {
			what := map[string]string{"hostNetwork": "Host network", "hostPID": "Host PID", "hostIPC": "Host IPC"}[key]
			reject(&ManifestData{Manifest: m, Workload: w, Key: key, Holder: w.Spec, KeyNode: k, Value: v}, rng(v),
				"spec.%s: Invalid value: true: %s is not allowed to be used", key, what)
		}
	}
	for i, v := range w.Volumes {
		if v.Type == "" || allowedVolumes[v.Type] {
			continue
		}
		anchor := v.TypeKey
		if anchor == nil {
			anchor = v.NameNode
		}
		if anchor == nil {
			continue
		}
		reject(&ManifestData{Manifest: m, Workload: w, Key: "volume", KeyNode: v.TypeKey}, rng(anchor),
			"spec.volumes[%d]: Invalid value: %q: %s volumes are not allowed to be used (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret)", i, v.Type, v.Type)
	}
	podSeccompBad := false
	if f := w.Pod.SeccompProfileType; f != nil && f.Value != "RuntimeDefault" && f.Value != "" {
		podSeccompBad = true
		reject(&ManifestData{Manifest: m, Workload: w, Key: "seccompProfile.type", Holder: w.Pod.SeccompProfile.Node, KeyNode: f.Key, Value: f.Node}, f.Range,
			"spec.securityContext.seccompProfile.type: Invalid value: %q: only runtime/default is allowed", f.Value)
	}
	for _, c := range w.Containers {
		d := func(key string, holder *yaml.Node, f *kube.Field) *ManifestData {
			return &ManifestData{Manifest: m, Workload: w, Container: c, Key: key, Holder: holder, KeyNode: f.Key, Value: f.Node}
		}
		sc := c.Own
		if f := sc.Privileged; f != nil && isTrue(f.Node) {
			reject(d("privileged", sc.Node, f), f.Range, "%s: Invalid value: true: Privileged containers are not allowed", fieldPath(c, "privileged"))
		}
		if f := sc.AllowPrivilegeEscalation; f != nil && isTrue(f.Node) {
			reject(d("allowPrivilegeEscalation", sc.Node, f), f.Range, "%s: Invalid value: true: Allowing privilege escalation for containers is not allowed", fieldPath(c, "allowPrivilegeEscalation"))
		}
		for _, f := range sc.CapabilitiesAdd {
			name := strings.TrimPrefix(strings.ToUpper(f.Value), "CAP_")
			if name == "NET_BIND_SERVICE" {
				continue
			}
			reject(d("capabilities.add", nil, f), f.Range, "%s: Invalid value: %q: capability may not be added", fieldPath(c, "capabilities.add"), f.Value)
		}
		if f := sc.SeccompProfileType; f != nil && f.Value != "RuntimeDefault" && f.Value != "" && !(podSeccompBad && f == w.Pod.SeccompProfileType) {
			var holder *yaml.Node
			if sc.SeccompProfile != nil {
				holder = sc.SeccompProfile.Node
			}
			reject(d("seccompProfile.type", holder, f), f.Range, "%s: Invalid value: %q: only runtime/default is allowed", fieldPath(c, "seccompProfile.type"), f.Value)
		}
		_, ports := getKey(c.Node, "ports")
		if ports != nil && ports.Kind == yaml.SequenceNode {
			for _, p := range ports.Content {
				k, v := getKey(p, "hostPort")
				if v == nil || v.Kind != yaml.ScalarNode || v.Value == "0" {
					continue
				}
				reject(&ManifestData{Manifest: m, Workload: w, Container: c, Key: "hostPort", Holder: p, KeyNode: k, Value: v}, rng(v),
					"spec.%s[%d].ports.hostPort: Invalid value: %s: Host ports are not allowed to be used", c.ListName(), c.Index, v.Value)
			}
		}
	}
}
