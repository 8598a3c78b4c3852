package openshift

import (
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	yaml "go.yaml.in/yaml/v3"
)

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
	Fix:      fixManifest(planNR504),
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
	rng := func(n *yaml.Node) text.Range { return yamlnode.Range(m.Lines, n) }
	reject := func(d *manifestData, rg text.Range, format string, args ...any) {
		pass.Report(diagnostics.Finding{Range: rg, Data: d, Message: "restricted-v2 rejects the pod: " + fmt.Sprintf(format, args...)})
	}
	for _, key := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		k, v := yamlnode.Get(w.Spec, key)
		if isTrue(v) {
			what := map[string]string{"hostNetwork": "Host network", "hostPID": "Host PID", "hostIPC": "Host IPC"}[key]
			reject(&manifestData{Manifest: m, Workload: w, Key: key, Holder: w.Spec, KeyNode: k, Value: v}, rng(v),
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
		reject(&manifestData{Manifest: m, Workload: w, Key: "volume", KeyNode: v.TypeKey}, rng(anchor),
			"spec.volumes[%d]: Invalid value: %q: %s volumes are not allowed to be used (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret)", i, v.Type, v.Type)
	}
	podSeccompBad := false
	if f := w.Pod.SeccompProfileType; f != nil && f.Value != "RuntimeDefault" && f.Value != "" {
		podSeccompBad = true
		reject(&manifestData{Manifest: m, Workload: w, Key: "seccompProfile.type", Holder: w.Pod.SeccompProfile.Node, KeyNode: f.Key, Value: f.Node}, f.Range,
			"spec.securityContext.seccompProfile.type: Invalid value: %q: only runtime/default is allowed", f.Value)
	}
	for _, c := range w.Containers {
		d := func(key string, holder *yaml.Node, f *kube.Field) *manifestData {
			return &manifestData{Manifest: m, Workload: w, Container: c, Key: key, Holder: holder, KeyNode: f.Key, Value: f.Node}
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
		_, ports := yamlnode.Get(c.Node, "ports")
		if ports != nil && ports.Kind == yaml.SequenceNode {
			for _, p := range ports.Content {
				k, v := yamlnode.Get(p, "hostPort")
				if v == nil || v.Kind != yaml.ScalarNode || v.Value == "0" {
					continue
				}
				reject(&manifestData{Manifest: m, Workload: w, Container: c, Key: "hostPort", Holder: p, KeyNode: k, Value: v}, rng(v),
					"spec.%s[%d].ports.hostPort: Invalid value: %s: Host ports are not allowed to be used", c.ListName(), c.Index, v.Value)
			}
		}
	}
}

// NR504: as the NR2xx fixes — remove privileged, hostNetwork/hostPID/hostIPC and hostPort,
// set allowPrivilegeEscalation: false and seccompProfile.type: RuntimeDefault; an added
// capability gets NR204's "Remove capability X" (not preferred: only the author knows whether
// the workload needs it). Volumes are the author's decision: no fix.
func planNR504(e *codeactions.YAMLEditor, d *manifestData) (manifestFix, error) {
	switch d.Key {
	case "privileged", "hostNetwork", "hostPID", "hostIPC", "hostPort":
		if d.Holder == nil {
			return manifestFix{}, codeactions.ErrYAMLShape
		}
		title := "Remove " + d.Key
		if ed, err := e.Remove(d.Holder, d.Key); err == nil {
			return manifestFix{title: title, edits: []text.Edit{ed}}, nil
		}
		if d.Key == "hostPort" || d.Value == nil {
			return manifestFix{}, codeactions.ErrYAMLShape
		}
		return manifestFix{title: title, edits: []text.Edit{e.SetScalar(d.Value, "false")}}, nil
	case "allowPrivilegeEscalation":
		if d.Value == nil {
			return manifestFix{}, codeactions.ErrYAMLShape
		}
		return manifestFix{title: "Set allowPrivilegeEscalation: false", edits: []text.Edit{e.SetScalar(d.Value, "false")}}, nil
	case "capabilities.add":
		if d.Container == nil || d.Value == nil {
			return manifestFix{}, codeactions.ErrYAMLShape
		}
		title, edits, err := kube.RemoveCapability(e, d.Container, d.Value)
		return manifestFix{title: title, edits: edits, notPreferred: true}, err
	case "seccompProfile.type":
		if d.Value == nil {
			return manifestFix{}, codeactions.ErrYAMLShape
		}
		edits := []text.Edit{e.SetScalar(d.Value, "RuntimeDefault")}
		if hasKey(d.Holder, "localhostProfile") {
			// localhostProfile is only valid with type Localhost.
			ed, err := e.Remove(d.Holder, "localhostProfile")
			if err != nil {
				return manifestFix{}, err
			}
			edits = append(edits, ed)
		}
		return manifestFix{title: "Set seccompProfile.type: RuntimeDefault", edits: edits}, nil
	}
	return manifestFix{}, codeactions.ErrYAMLShape
}
