package kube

import (
	"context"
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	yaml "go.yaml.in/yaml/v3"
)

// fieldDocs explains each securityContext field (hover).
var fieldDocs = map[string]string{
	"runAsNonRoot":             "The kubelet checks the user the container would start as and refuses to start it if that is uid 0: `container has runAsNonRoot and image will run as root`. With no `runAsUser`, the image's `USER` must be numeric for the check to work (`image has non-numeric user (NAME), cannot verify user is non-root`). Container level overrides pod level.",
	"runAsUser":                "The uid the container's first process runs as, whatever the image's `USER` says. An explicit non-zero value skips the kubelet's image check. `0` is root (`container's runAsUser breaks non-root policy` with runAsNonRoot). Container level overrides pod level.",
	"runAsGroup":               "The primary gid of the container's processes (default: the image's group, else 0). Files the process creates get this group. Container level overrides pod level.",
	"fsGroup":                  "Pod level only. A supplementary group for every container; volumes that support ownership management (PVCs, emptyDir, configMap, secret…) are made group-owned by it and group-writable, so a non-root container can write them.",
	"supplementalGroups":       "Pod level only. Extra groups for the first process of every container.",
	"allowPrivilegeEscalation": "Whether a process can gain more privileges than its parent (setuid binaries such as sudo). `false` sets `no_new_privs`; the restricted Pod Security Standard requires it. Container level only.",
	"privileged":               "Runs the container with every capability and the host's devices: root in it is root on the node. Forbidden by the baseline Pod Security Standard. Container level only.",
	"capabilities":             "Linux capabilities added to or dropped from the runtime's default set. The restricted Pod Security Standard requires `drop: [ALL]` and allows adding back only `NET_BIND_SERVICE`. Container level only.",
	"add":                      "Capabilities added to the container's set. Only `NET_BIND_SERVICE` (bind ports below 1024) is allowed by the restricted Pod Security Standard.",
	"drop":                     "Capabilities removed from the container's set. `ALL` removes the runtime's defaults (CHOWN, DAC_OVERRIDE, SETUID, NET_RAW…), as the restricted Pod Security Standard requires.",
	"seccompProfile":           "The system-call filter. `RuntimeDefault` (the runtime's default profile) or `Localhost` satisfy the restricted Pod Security Standard; without one the container runs `Unconfined`. Container level overrides pod level.",
	"readOnlyRootFilesystem":   "Mounts the container's root filesystem read-only: the process can write only to volumes. Container level only.",
	"securityContext":          "Who the container runs as and what it may do. Pod-level fields apply to every container; a container's own fields override them.",
}

func hover(_ context.Context, _ *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) *diagnostics.Hover {
	m := ForFile(f)
	for _, w := range m.Workloads {
		// Pod-level securityContext keys.
		if w.Pod.Key != nil {
			if h := fieldHover(m, w, nil, w.Pod, pos); h != nil {
				return h
			}
		}
		for _, c := range w.Containers {
			if c.Own.Key != nil {
				if h := fieldHover(m, w, c, c.Own, pos); h != nil {
					return h
				}
			}
			if c.ImageKey != nil {
				r := yamlnode.Range(m.Lines, c.ImageKey)
				if c.ImageNode != nil {
					r.End = yamlnode.Range(m.Lines, c.ImageNode).End
				}
				if r.Contains(pos) {
					return &diagnostics.Hover{Range: r, Markdown: imageHover(c)}
				}
			}
		}
	}
	return nil
}

// fieldHover answers a hover on a key of a pod (c nil) or container securityContext.
func fieldHover(m *Manifest, w *Workload, c *Container, sc SecurityContext, pos text.Pos) *diagnostics.Hover {
	type entry struct {
		name string
		f    *Field
	}
	entries := []entry{{"securityContext", &Field{Key: sc.Key, KeyRange: yamlnode.Range(m.Lines, sc.Key)}},
		{"runAsNonRoot", sc.RunAsNonRoot}, {"runAsUser", sc.RunAsUser}, {"runAsGroup", sc.RunAsGroup},
		{"fsGroup", sc.FSGroup}, {"supplementalGroups", sc.SupplementalGroups},
		{"allowPrivilegeEscalation", sc.AllowPrivilegeEscalation}, {"privileged", sc.Privileged},
		{"readOnlyRootFilesystem", sc.ReadOnlyRootFilesystem}, {"capabilities", sc.Capabilities},
		{"add", sc.CapabilitiesAddKey}, {"drop", sc.CapabilitiesDropKey},
		{"seccompProfile", sc.SeccompProfile}, {"seccompProfile", sc.SeccompProfileType}}
	for _, e := range entries {
		if e.f == nil || e.f.Key == nil {
			continue
		}
		r := e.f.KeyRange
		if e.f.Node != nil && e.f.Node.Kind == yaml.ScalarNode && e.f.Range.Start.Line == r.Start.Line {
			r.End = e.f.Range.End
		}
		if !r.Contains(pos) {
			continue
		}
		var b strings.Builder
		where := "pod"
		if c != nil {
			where = c.Label()
		}
		fmt.Fprintf(&b, "**securityContext.%s** (%s of %s)\n\n%s\n", strings.TrimPrefix(hoverPath(e.name), "securityContext."), where, objLabel(w), fieldDocs[e.name])
		targets := w.Containers
		if c != nil {
			targets = []*Container{c}
		}
		if len(targets) > 0 {
			b.WriteString("\n**Effective:**\n")
			for _, t := range targets {
				fmt.Fprintf(&b, "- %s: %s\n", t.Label(), effectiveLine(t, e.name))
			}
		}
		return &diagnostics.Hover{Range: r, Markdown: b.String()}
	}
	return nil
}

func hoverPath(name string) string {
	switch name {
	case "add", "drop":
		return "capabilities." + name
	}
	return name
}

// effectiveLine describes one effective field of a container and where it comes from.
func effectiveLine(c *Container, name string) string {
	e := c.Effective
	var f *Field
	switch name {
	case "securityContext":
		return summary(c)
	case "runAsNonRoot":
		f = e.RunAsNonRoot
	case "runAsUser":
		f = e.RunAsUser
	case "runAsGroup":
		f = e.RunAsGroup
	case "fsGroup":
		f = e.FSGroup
	case "allowPrivilegeEscalation":
		f = e.AllowPrivilegeEscalation
	case "privileged":
		f = e.Privileged
	case "readOnlyRootFilesystem":
		f = e.ReadOnlyRootFilesystem
	case "seccompProfile":
		f = e.SeccompProfileType
	case "supplementalGroups":
		f = e.SupplementalGroups
	case "capabilities", "add", "drop":
		return fmt.Sprintf("drop %s, add %s", list(e.CapabilitiesDrop), list(e.CapabilitiesAdd))
	}
	return describe(f)
}

func describe(f *Field) string {
	if f == nil {
		return "not set"
	}
	v := f.Value
	if f.Node != nil {
		switch f.Node.Kind {
		case yaml.SequenceNode:
			var vs []string
			for _, it := range yamlnode.Items(f.Node) {
				vs = append(vs, yamlnode.Str(it))
			}
			v = "[" + strings.Join(vs, ", ") + "]"
		case yaml.MappingNode:
			v = "{…}"
		}
	}
	return fmt.Sprintf("`%s` (from the %s level, line %d)", v, f.Level, f.Range.Start.Line+1)
}

func list(fs []*Field) string {
	if len(fs) == 0 {
		return "nothing"
	}
	var vs []string
	for _, f := range fs {
		vs = append(vs, f.Value)
	}
	return "[" + strings.Join(vs, ", ") + "]"
}

// summary says who the container runs as.
func summary(c *Container) string {
	e := c.Effective
	u, uok := e.RunAsUser.Int()
	nr, nrok := e.RunAsNonRoot.Bool()
	switch {
	case uok && u == 0:
		return fmt.Sprintf("runs as root: runAsUser 0 (%s level)", e.RunAsUser.Level)
	case uok && nrok && nr:
		return fmt.Sprintf("runs as uid %d (%s level); runAsNonRoot is enforced", u, e.RunAsUser.Level)
	case uok:
		return fmt.Sprintf("runs as uid %d (%s level)", u, e.RunAsUser.Level)
	case nrok && nr:
		return fmt.Sprintf("runs as the image's USER, which must be a numeric non-zero uid: runAsNonRoot is true (%s level), so the kubelet refuses root or a named user", e.RunAsNonRoot.Level)
	case nrok && !nr:
		return fmt.Sprintf("runs as the image's USER, root allowed explicitly (runAsNonRoot: false, %s level)", e.RunAsNonRoot.Level)
	}
	return "runs as the image's USER (root for most images): neither runAsUser nor runAsNonRoot is set"
}

func imageHover(c *Container) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** `%s` (%s)\n\n", c.Label(), c.Image, objLabel(c.Workload))
	fmt.Fprintf(&b, "**Runs as:** %s.\n\n", summary(c))
	if g, ok := c.Effective.RunAsGroup.Int(); ok {
		fmt.Fprintf(&b, "**Group:** %d (%s level)", g, c.Effective.RunAsGroup.Level)
	} else {
		b.WriteString("**Group:** the image's group")
	}
	if g, ok := c.Effective.FSGroup.Int(); ok {
		fmt.Fprintf(&b, ", fsGroup %d", g)
	}
	b.WriteString(".\n\n**Effective securityContext:**\n")
	for _, n := range []string{"runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem", "capabilities", "seccompProfile"} {
		fmt.Fprintf(&b, "- `%s`: %s\n", n, effectiveLine(c, n))
	}
	return b.String()
}

// InspectField is one effective securityContext field for `nonroot-ls inspect`.
type InspectField struct {
	Value any   `json:"value"`
	From  Level `json:"from"`
	Line  int   `json:"line"` // 1-based
}

// InspectContainer is one container as `nonroot-ls inspect --format json` prints it.
type InspectContainer struct {
	Kind            string                   `json:"kind"`
	Name            string                   `json:"name"`
	Namespace       string                   `json:"namespace,omitempty"`
	Container       string                   `json:"container"`
	Init            bool                     `json:"init"`
	Ephemeral       bool                     `json:"ephemeral,omitempty"`
	Line            int                      `json:"line"` // 1-based line of the container
	Image           string                   `json:"image"`
	ImageIdentity   *diagnostics.ImageInfo   `json:"imageIdentity,omitempty"` // who the image runs as: a workspace link or the catalog
	RunsAs          string                   `json:"runsAs"`
	SecurityContext map[string]*InspectField `json:"securityContext"`
	Ports           []int64                  `json:"ports,omitempty"`
	Mounts          []InspectMount           `json:"mounts,omitempty"`
}

// InspectMount is one volume mount.
type InspectMount struct {
	Name       string `json:"name"`
	MountPath  string `json:"mountPath"`
	ReadOnly   bool   `json:"readOnly"`
	VolumeType string `json:"volumeType,omitempty"`
}

// Inspect describes every container of m with its effective securityContext.
func Inspect(m *Manifest) []InspectContainer {
	out := []InspectContainer{}
	for _, w := range m.Workloads {
		vols := map[string]string{}
		for _, v := range w.Volumes {
			vols[v.Name] = v.Type
		}
		for _, c := range w.Containers {
			ic := InspectContainer{Kind: w.Object.Kind, Name: w.Object.Name, Namespace: w.Object.Namespace, Container: c.Name,
				Init: c.Init, Ephemeral: c.Ephemeral, Line: yamlnode.Pos(m.Lines, c.Node).Line + 1, Image: c.Image, RunsAs: summary(c),
				SecurityContext: map[string]*InspectField{}}
			e := c.Effective
			put := func(name string, f *Field, v any) {
				if f != nil {
					ic.SecurityContext[name] = &InspectField{Value: v, From: f.Level, Line: f.Range.Start.Line + 1}
				}
			}
			scalar := func(f *Field) any {
				if f == nil {
					return nil
				}
				if b, ok := f.Bool(); ok {
					return b
				}
				if i, ok := f.Int(); ok {
					return i
				}
				return f.Value
			}
			put("runAsNonRoot", e.RunAsNonRoot, scalar(e.RunAsNonRoot))
			put("runAsUser", e.RunAsUser, scalar(e.RunAsUser))
			put("runAsGroup", e.RunAsGroup, scalar(e.RunAsGroup))
			put("fsGroup", e.FSGroup, scalar(e.FSGroup))
			put("allowPrivilegeEscalation", e.AllowPrivilegeEscalation, scalar(e.AllowPrivilegeEscalation))
			put("privileged", e.Privileged, scalar(e.Privileged))
			put("readOnlyRootFilesystem", e.ReadOnlyRootFilesystem, scalar(e.ReadOnlyRootFilesystem))
			put("seccompProfile", e.SeccompProfileType, scalar(e.SeccompProfileType))
			vals := func(fs []*Field) []string {
				out := []string{}
				for _, f := range fs {
					out = append(out, f.Value)
				}
				return out
			}
			put("capabilities.drop", e.CapabilitiesDropKey, vals(e.CapabilitiesDrop))
			put("capabilities.add", e.CapabilitiesAddKey, vals(e.CapabilitiesAdd))
			for _, p := range c.Ports {
				ic.Ports = append(ic.Ports, p.Port)
			}
			for _, mt := range c.Mounts {
				ic.Mounts = append(ic.Mounts, InspectMount{Name: mt.Name, MountPath: mt.MountPath, ReadOnly: mt.ReadOnly, VolumeType: vols[mt.Name]})
			}
			out = append(out, ic)
		}
	}
	return out
}
