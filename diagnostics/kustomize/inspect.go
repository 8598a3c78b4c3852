package kustomize

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// InspectKustomization is `nonroot-ls inspect` of a kustomization.
type InspectKustomization struct {
	Root bool `json:"buildRoot"`
	// BuiltBy are the build roots that use it (for a base or component).
	BuiltBy   []string          `json:"builtBy,omitempty"`
	Error     string            `json:"error,omitempty"`
	Left      []string          `json:"notBuilt,omitempty"` // entries left out (remote bases, Helm charts)
	Workloads []InspectWorkload `json:"workloads,omitempty"`
}

// InspectWorkload is one built workload.
type InspectWorkload struct {
	Object     string             `json:"object"` // Deployment "api"
	From       string             `json:"from,omitempty"`
	Containers []InspectContainer `json:"containers"`
}

// InspectContainer is a built container with its effective securityContext, each field with
// where it was set (file:line, relative to the workspace root).
type InspectContainer struct {
	Name            string         `json:"name"`
	Image           string         `json:"image,omitempty"`
	SecurityContext []InspectField `json:"securityContext"`
}

// InspectField is one effective securityContext field.
type InspectField struct {
	Field string `json:"field"`
	Value string `json:"value"`
	Level string `json:"level"` // pod or container
	From  string `json:"from,omitempty"`
}

func inspect(ctx context.Context, s *diagnostics.Snapshot, f *diagnostics.File) any {
	x := For(s)
	out := &InspectKustomization{}
	if r := x.res[f.Path]; r != nil {
		for _, l := range r.left {
			out.Left = append(out.Left, fmt.Sprintf("line %d: %s", l.Node.Line, l.Reason))
		}
	}
	if !x.IsRoot(f.Path) {
		for root, reads := range x.Reads {
			for _, p := range reads {
				if p == f.Path {
					out.BuiltBy = append(out.BuiltBy, relPath(s, root))
				}
			}
		}
		sort.Strings(out.BuiltBy)
		return out
	}
	out.Root = true
	if p := x.unbuilt[f.Path]; p.Message != "" {
		out.Error = p.Message
		return out
	}
	b := Analyze(ctx, s, f.Path)
	if b == nil || b.Result == nil {
		return out
	}
	if b.Result.Err != "" {
		out.Error = b.Result.Err
		return out
	}
	for _, w := range b.Objects.Workloads {
		if w.Object.Parent != nil {
			continue
		}
		iw := InspectWorkload{Object: w.Object.Kind + " " + fmt.Sprintf("%q", w.Object.Name)}
		origin := b.OriginOf(w.Object)
		if origin != "" {
			iw.From = relPath(s, origin)
		}
		srcs := b.sources(w.Object, origin)
		for _, c := range w.Containers {
			ic := InspectContainer{Name: c.Name, Image: c.Image, SecurityContext: []InspectField{}}
			for _, fl := range fields(c) {
				where := ""
				line := fl.f.Key.Line - 1
				keys, ptr := pathAt(w.Object.Node, line)
				for i := len(srcs) - 1; i >= 0; i-- {
					if src, n, _ := srcs[i].find(keys, ptr); n != nil {
						where = fmt.Sprintf("%s:%d", relPath(s, src.file), n.Line)
						break
					}
				}
				ic.SecurityContext = append(ic.SecurityContext, InspectField{Field: fl.name, Value: value(fl.f.Node), Level: string(fl.f.Level), From: where})
			}
			iw.Containers = append(iw.Containers, ic)
		}
		out.Workloads = append(out.Workloads, iw)
	}
	return out
}

type namedField struct {
	name string
	f    *kube.Field
}

// fields are a container's effective securityContext fields that are set.
func fields(c *kube.Container) []namedField {
	e := c.Effective
	var out []namedField
	for _, nf := range []namedField{
		{"runAsNonRoot", e.RunAsNonRoot}, {"runAsUser", e.RunAsUser}, {"runAsGroup", e.RunAsGroup}, {"fsGroup", e.FSGroup},
		{"allowPrivilegeEscalation", e.AllowPrivilegeEscalation}, {"privileged", e.Privileged},
		{"readOnlyRootFilesystem", e.ReadOnlyRootFilesystem}, {"seccompProfile.type", e.SeccompProfileType},
		{"capabilities.drop", e.CapabilitiesDropKey}, {"capabilities.add", e.CapabilitiesAddKey},
	} {
		if nf.f != nil && nf.f.Key != nil {
			out = append(out, nf)
		}
	}
	return out
}

// value is a field's value as text (a sequence as [a, b]).
func value(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.SequenceNode {
		var items []string
		for _, it := range yamlnode.Items(n) {
			items = append(items, yamlnode.Str(it))
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return n.Value
}
