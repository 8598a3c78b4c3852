package codeactions

import (
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	yaml "go.yaml.in/yaml/v3"
)

// Quick-fixes for NR201–NR210 (SPEC §3): minimal edits to the manifest's text.

func init() {
	Register("NR201", kubePlanner(planNR201))
	Register("NR202", kubePlanner(planNR202))
	Register("NR203", kubePlanner(planNR203))
	Register("NR204", kubePlanner(planNR204))
	Register("NR205", kubePlanner(planNR205))
	Register("NR206", kubePlanner(planNR206))
	Register("NR207", kubePlanner(planNR207))
	Register("NR210", kubePlanner(planNR210))
}

// kubeFix is what a planner decides: a title and the edits to the finding's file.
type kubeFix struct {
	title        string
	edits        []text.Edit
	notPreferred bool // not applied by fix-all
}

func kubePlanner(plan func(s *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error)) Planner {
	return func(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
		d, ok := f.Data.(*kube.Data)
		if !ok || d == nil || d.Manifest == nil || d.Workload == nil {
			return nil
		}
		file, err := s.File(f.File)
		if err != nil || file.Text != d.Manifest.Lines.Source() {
			return nil // the finding is from another version of the file
		}
		e := &YAMLEditor{Lines: d.Manifest.Lines, Style: DetectYAMLStyle(file.Text, d.Manifest.Docs)}
		fix, err := plan(s, e, d)
		if err != nil || len(fix.edits) == 0 {
			return nil
		}
		return []Action{{Title: fix.title, Preferred: !fix.notPreferred, Edits: []FileEdit{{Path: f.File, Edits: fix.edits}}}}
	}
}

func set(e *YAMLEditor, title string, m *yaml.Node, path []string, v YAMLValue) (kubeFix, error) {
	eds, err := e.Set(m, path, v)
	return kubeFix{title: title, edits: eds}, err
}

func planNR201(_ *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	return set(e, "Add runAsNonRoot: true to the pod securityContext", d.Workload.Spec, []string{"securityContext", "runAsNonRoot"}, Scalar("true"))
}

func planNR202(s *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	if d.Field == nil {
		return kubeFix{}, ErrYAMLShape
	}
	if d.Check == kube.CheckRunAsUser {
		cfg := s.ConfigFor(d.Manifest.Path)
		uid, _ := cfg.User()
		return kubeFix{title: fmt.Sprintf("Set runAsUser: %d", uid), edits: []text.Edit{e.SetScalar(d.Field.Node, strconv.Itoa(uid))}}, nil
	}
	return kubeFix{title: "Set runAsNonRoot: true", edits: []text.Edit{e.SetScalar(d.Field.Node, "true")}}, nil
}

func planNR203(_ *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	if d.Container == nil {
		return kubeFix{}, ErrYAMLShape
	}
	return set(e, "Add allowPrivilegeEscalation: false", d.Container.Node, []string{"securityContext", "allowPrivilegeEscalation"}, Scalar("false"))
}

func planNR204(_ *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	if d.Container == nil {
		return kubeFix{}, ErrYAMLShape
	}
	if d.Field != nil {
		return removeCapability(e, d)
	}
	return set(e, "Add capabilities.drop: [ALL]", d.Container.Node, []string{"securityContext", "capabilities", "drop"}, Seq("ALL"))
}

// removeCapability plans the removal of an added capability (d.Field, an item of
// capabilities.add). It is not preferred: only the author knows whether the workload needs it.
func removeCapability(e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	own := d.Container.Own
	if own.CapabilitiesAddKey == nil || own.Capabilities == nil {
		return kubeFix{}, ErrYAMLShape
	}
	title := "Remove capability " + d.Field.Value
	seq := own.CapabilitiesAddKey.Node
	for i, it := range seq.Content {
		if it != d.Field.Node {
			continue
		}
		if ed, err := e.RemoveItem(seq, i); err == nil {
			return kubeFix{title: title, edits: []text.Edit{ed}, notPreferred: true}, nil
		}
		// The only capability added: drop the add key.
		ed, err := e.Remove(own.Capabilities.Node, "add")
		return kubeFix{title: title, edits: []text.Edit{ed}, notPreferred: true}, err
	}
	return kubeFix{}, ErrYAMLShape
}

func planNR205(_ *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	c := d.Container
	if c == nil || c.Own.Node == nil || c.Own.Privileged == nil {
		return kubeFix{}, ErrYAMLShape
	}
	if ed, err := e.Remove(c.Own.Node, "privileged"); err == nil {
		return kubeFix{title: "Remove privileged: true", edits: []text.Edit{ed}}, nil
	}
	// The only key of its securityContext: turn it off instead of leaving an empty mapping.
	return kubeFix{title: "Remove privileged: true", edits: []text.Edit{e.SetScalar(c.Own.Privileged.Node, "false")}}, nil
}

func planNR206(_ *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	if c := d.Container; c != nil && c.Own.SeccompProfile != nil {
		// The container sets its own (bad) profile: the pod level cannot override it.
		return set(e, "Set seccompProfile.type: RuntimeDefault", c.Node, []string{"securityContext", "seccompProfile", "type"}, Scalar("RuntimeDefault"))
	}
	return set(e, "Add seccompProfile: {type: RuntimeDefault} to the pod", d.Workload.Spec, []string{"securityContext", "seccompProfile"}, Map(Entry("type", Scalar("RuntimeDefault"))))
}

func planNR207(s *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	gid := int64(-1)
	if d.Container != nil {
		if g, ok := d.Container.Effective.RunAsGroup.Int(); ok && g > 0 {
			gid = g
		}
	}
	if gid < 0 {
		cfg := s.ConfigFor(d.Manifest.Path)
		uid, g := cfg.User()
		// fsGroup 0 would hand the volume to root's group; the default identity's gid is 0,
		// so use its uid as the group (the kubelet creates no group entry either way).
		gid = int64(g)
		if g == 0 {
			gid = int64(uid)
		}
	}
	return set(e, fmt.Sprintf("Add fsGroup: %d to the pod securityContext", gid), d.Workload.Spec, []string{"securityContext", "fsGroup"}, Scalar(strconv.FormatInt(gid, 10)))
}

func planNR210(_ *diagnostics.Snapshot, e *YAMLEditor, d *kube.Data) (kubeFix, error) {
	if d.Container == nil {
		return kubeFix{}, ErrYAMLShape
	}
	return set(e, "Add capabilities.add: [NET_BIND_SERVICE]", d.Container.Node, []string{"securityContext", "capabilities", "add"}, Seq("NET_BIND_SERVICE"))
}
