package kube

import (
	"context"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	yaml "go.yaml.in/yaml/v3"
)

// Rules are the Kubernetes workload rules, NR201–NR210.
var Rules = []*diagnostics.Rule{
	NR201,
	NR202,
	NR203,
	NR204,
	NR205,
	NR206,
	NR207,
	NR208,
	NR209,
	NR210,
}

// Group is the Kubernetes workload model: manifests' parse problems, hovers on
// securityContext keys, `inspect`, and which manifests hold OpenShift objects.
var Group = &diagnostics.Group{
	Name: "kube",
	Parse: map[diagnostics.FileKind]diagnostics.ParseFunc{
		diagnostics.KindManifest: func(_ context.Context, _ *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
			return ForFile(f).Problems
		},
	},
	Hover: map[diagnostics.FileKind]diagnostics.HoverFunc{diagnostics.KindManifest: hover},
	Inspect: map[diagnostics.FileKind]diagnostics.InspectFunc{
		diagnostics.KindManifest: func(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File) any {
			out := Inspect(ForFile(f))
			for i := range out {
				out[i].ImageIdentity = s.Image(f.Path, out[i].Image)
			}
			return out
		},
	},
	OpenShift: HasOpenShiftObjects,
}

// kubeFix is what a fix decides: a title and the edits to the finding's file.
type kubeFix struct {
	title        string
	edits        []text.Edit
	notPreferred bool // not applied by fix-all
}

// fix adapts a plan on the finding's manifest to a Rule.Fix. It plans nothing when the
// finding comes from another version of the file.
func fix(plan func(s *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error)) func(context.Context, *diagnostics.Snapshot, diagnostics.Finding) []diagnostics.Action {
	return func(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
		d, ok := f.Data.(*data)
		if !ok || d == nil || d.Manifest == nil || d.Workload == nil {
			return nil
		}
		file, err := s.File(f.File)
		if err != nil || file.Text != d.Manifest.Lines.Source() {
			return nil
		}
		e := EditorFor(d.Manifest)
		fx, err := plan(s, e, d)
		if err != nil || len(fx.edits) == 0 {
			return nil
		}
		return []diagnostics.Action{{Title: fx.title, Preferred: !fx.notPreferred, Edits: []diagnostics.FileEdit{{Path: f.File, Edits: fx.edits}}}}
	}
}

// EditorFor returns a YAML editor for the manifest's text, in its style.
func EditorFor(m *Manifest) *codeactions.YAMLEditor {
	return &codeactions.YAMLEditor{Lines: m.Lines, Style: codeactions.DetectYAMLStyle(m.Lines.Source(), m.Docs)}
}

func set(e *codeactions.YAMLEditor, title string, m *yaml.Node, path []string, v codeactions.YAMLValue) (kubeFix, error) {
	eds, err := e.Set(m, path, v)
	return kubeFix{title: title, edits: eds}, err
}
