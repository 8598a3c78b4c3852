package openshift

import (
	"context"
	"fmt"

	yaml "go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// manifestData is the payload of NR503 and NR504 findings, for the quick-fix planners.
type manifestData struct {
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

// manifestFix is what an NR503/NR504 fix decides.
type manifestFix struct {
	title string
	edits []text.Edit
	// notPreferred marks a fix fix-all does not apply.
	notPreferred bool
}

// fixManifest adapts an NR503/NR504 plan to a Rule.Fix.
func fixManifest(plan func(e *codeactions.YAMLEditor, d *manifestData) (manifestFix, error)) func(context.Context, *diagnostics.Snapshot, diagnostics.Finding) []diagnostics.Action {
	return func(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
		d, ok := f.Data.(*manifestData)
		if !ok || d == nil || d.Manifest == nil {
			return nil
		}
		file, err := s.File(f.File)
		if err != nil || file.Text != d.Manifest.Lines.Source() {
			return nil
		}
		fx, err := plan(kube.EditorFor(d.Manifest), d)
		if err != nil || len(fx.edits) == 0 {
			return nil
		}
		return []diagnostics.Action{{Title: fx.title, Preferred: !fx.notPreferred, Edits: []diagnostics.FileEdit{{Path: f.File, Edits: fx.edits}}}}
	}
}

func hasKey(m *yaml.Node, key string) bool {
	if m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}
