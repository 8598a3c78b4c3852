package kube

import (
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/pod-security-admission/policy"
)

// NR204 — capabilities.drop lacks ALL, or add has more than NET_BIND_SERVICE.
var NR204 = &diagnostics.Rule{
	ID:       "NR204",
	Title:    "Capabilities not dropped",
	Severity: diagnostics.SeverityWarning,
	Kinds:    manifestKinds,
	FixTitle: "Add capabilities.drop: [ALL]",
	Fix:      fix(planNR204),
	Field:    "capabilities",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "capabilities", Children: []diagnostics.Setting{{Key: "drop", Items: []string{"ALL"}}}}}
	},
	Doc: diagnostics.Doc{
		Why:     "A container keeps the runtime's default capabilities (CHOWN, DAC_OVERRIDE, SETUID, NET_RAW…) unless it drops them; a process that regains root, or a file capability, can use them.",
		Runtime: "The process starts with the default capability set in its bounding set. A namespace enforcing `restricted` rejects the pod: `unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"])`; only `NET_BIND_SERVICE` may be added.",
		Fix:     "Add `capabilities: {drop: [ALL]}` to each container's `securityContext`; add back only `NET_BIND_SERVICE` if the process binds a port below 1024. Write them in upper case: containerd and CRI-O accept `drop: [all]`, Pod Security admission does not.",
		Source:  psaSource + "\"Containers must drop ALL capabilities, and are only permitted to add back the NET_BIND_SERVICE capability.\"",
		Bad: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    securityContext:
      capabilities:
        add: [SYS_ADMIN]
`,
		Good: `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:1.0
    securityContext:
      capabilities:
        drop: [ALL]
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachFailingContainer(pass, CheckCapabilities, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			d := &data{Workload: w, Container: c, Check: CheckCapabilities}
			dropsAll := false
			var lowerAll *Field // drop: [all]: the runtimes drop everything, admission wants ALL
			for _, f := range c.Own.CapabilitiesDrop {
				switch {
				case f.Value == "ALL":
					dropsAll = true
				case strings.EqualFold(f.Value, "ALL"):
					lowerAll = f
				}
			}
			if !dropsAll && lowerAll != nil {
				dd := *d
				dd.Field = lowerAll
				out.add(lowerAll.Range, &dd, "capabilities.drop of %s lists %s: containerd and CRI-O drop every capability with it (they compare case-insensitively), but Pod Security only accepts ALL — use ALL (upper case); %s", c.Label(), lowerAll.Value, Violation(CheckCapabilities, r))
			} else if !dropsAll {
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
				if f.Value != "NET_BIND_SERVICE" && strings.EqualFold(f.Value, "NET_BIND_SERVICE") {
					dd := *d
					dd.Field = f
					out.add(f.Range, &dd, "capabilities.add of %s lists %s: the runtimes add NET_BIND_SERVICE with it (they compare case-insensitively), but Pod Security only accepts NET_BIND_SERVICE — use upper case; %s", c.Label(), f.Value, Violation(CheckCapabilities, r))
				} else if f.Value != "NET_BIND_SERVICE" {
					dd := *d
					dd.Field = f
					out.add(f.Range, &dd, "capability %s added to %s gives it privileges beyond NET_BIND_SERVICE; %s", f.Value, c.Label(), Violation(CheckCapabilities, r))
				}
			}
		})
	},
}

func planNR204(_ *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	if d.Container == nil {
		return kubeFix{}, codeactions.ErrYAMLShape
	}
	if f := d.Field; f != nil && (strings.EqualFold(f.Value, "ALL") || strings.EqualFold(f.Value, "NET_BIND_SERVICE")) {
		up := strings.ToUpper(f.Value)
		return kubeFix{title: "Write " + up + " in upper case", edits: []text.Edit{e.SetScalar(f.Node, up)}}, nil
	}
	if d.Field != nil {
		title, edits, err := RemoveCapability(e, d.Container, d.Field.Node)
		return kubeFix{title: title, edits: edits, notPreferred: true}, err
	}
	return set(e, "Add capabilities.drop: [ALL]", d.Container.Node, []string{"securityContext", "capabilities", "drop"}, codeactions.Seq("ALL"))
}

// RemoveCapability plans the removal of an added capability (item, an item of the
// container's capabilities.add). Such a fix is not preferred: only the author knows whether
// the workload needs it.
func RemoveCapability(e *codeactions.YAMLEditor, c *Container, item *yaml.Node) (string, []text.Edit, error) {
	own := c.Own
	if own.CapabilitiesAddKey == nil || own.Capabilities == nil || item == nil {
		return "", nil, codeactions.ErrYAMLShape
	}
	title := "Remove capability " + item.Value
	seq := own.CapabilitiesAddKey.Node
	for i, it := range seq.Content {
		if it != item {
			continue
		}
		if ed, err := e.RemoveItem(seq, i); err == nil {
			return title, []text.Edit{ed}, nil
		}
		// The only capability added: drop the add key.
		ed, err := e.Remove(own.Capabilities.Node, "add")
		return title, []text.Edit{ed}, err
	}
	return "", nil, codeactions.ErrYAMLShape
}
