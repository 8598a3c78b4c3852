package workspace

import (
	"fmt"
	"path/filepath"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Cross-file fixes of the workspace rules: the fix in the file the finding is reported in
// comes first (preferred), the fix in the other file second, as one action editing that file.

// wsData returns the finding's payload when the files it was computed from are unchanged.
func wsData(s *diagnostics.Snapshot, f diagnostics.Finding) (*data, bool) {
	d, ok := f.Data.(*data)
	if !ok || d == nil {
		return nil, false
	}
	if d.Manifest != nil {
		if file, err := s.File(d.Manifest.Path); err != nil || file.Text != d.Manifest.Lines.Source() {
			return nil, false
		}
	}
	if d.Image != nil && d.Image.linked() {
		if file, err := s.File(d.Image.df.Path); err != nil || file.Text != d.Image.df.Source() {
			return nil, false
		}
	}
	return d, true
}

// containerSet plans setting path (under the container's securityContext) to v in the manifest.
func containerSet(s *diagnostics.Snapshot, d *data, title string, path []string, v codeactions.YAMLValue) []diagnostics.Action {
	if d.Manifest == nil || d.Container == nil || d.Container.Node == nil {
		return nil
	}
	file, err := s.File(d.Manifest.Path)
	if err != nil {
		return nil
	}
	e := &codeactions.YAMLEditor{Lines: d.Manifest.Lines, Style: codeactions.DetectYAMLStyle(file.Text, d.Manifest.Docs)}
	edits, err := e.Set(d.Container.Node, append([]string{"securityContext"}, path...), v)
	if err != nil || len(edits) == 0 {
		return nil
	}
	return []diagnostics.Action{{Title: title, Preferred: true, Edits: []diagnostics.FileEdit{{Path: d.Manifest.Path, Edits: edits}}}}
}

func dfName(s *diagnostics.Snapshot, p string) string {
	if root := s.Root(p); root != "" {
		if r, err := filepath.Rel(root, p); err == nil {
			return filepath.ToSlash(r)
		}
	}
	return filepath.Base(p)
}

// setUserInDockerfile plans `USER <uid>:0` for the built stage: replacing its own USER
// argument, else inserting a USER line before its ENTRYPOINT/CMD (or after its last line).
func setUserInDockerfile(s *diagnostics.Snapshot, d *data, uid, gid int, preferred bool) []diagnostics.Action {
	if d.Image == nil || !d.Image.linked() {
		return nil
	}
	m, st, u := d.Image.df, d.Image.st, d.Image.user
	id := codeactions.Identity(uid, gid)
	title := fmt.Sprintf("Set USER %s in %s", id, dfName(s, m.Path))
	if u.Instr != nil && u.Instr.Stage == st {
		return []diagnostics.Action{{Title: title, Preferred: preferred, Edits: []diagnostics.FileEdit{{Path: m.Path, Edits: []text.Edit{{Range: u.Range(), NewText: id}}}}}}
	}
	var before *dockerfile.Instruction
	for _, in := range []*dockerfile.Instruction{st.Entrypoint, st.Cmd} {
		if in != nil && (before == nil || in.Start < before.Start) {
			before = in
		}
	}
	var edit text.Edit
	switch {
	case before != nil:
		edit = before.InsertBefore("USER " + id)
	case len(st.Instructions) > 0:
		edit = st.Instructions[len(st.Instructions)-1].InsertAfter("USER " + id)
	default:
		return nil
	}
	return []diagnostics.Action{{Title: title, Preferred: preferred, Edits: []diagnostics.FileEdit{{Path: m.Path, Edits: []text.Edit{edit}}}}}
}
