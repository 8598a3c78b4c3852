package codeactions

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/workspace"
)

// Cross-file fixes of the workspace rules: the fix in the file the finding is reported in
// comes first (preferred), the fix in the other file second, as one action editing that file.

func init() {
	Register("NR301", planNR301)
	Register("NR302", planNR302)
	Register("NR306", planNR306)
	Register("NR307", planNR307)
}

// wsData returns the finding's payload when the files it was computed from are unchanged.
func wsData(s *diagnostics.Snapshot, f diagnostics.Finding) (*workspace.Data, bool) {
	d, ok := f.Data.(*workspace.Data)
	if !ok || d == nil {
		return nil, false
	}
	if d.Manifest != nil {
		if file, err := s.File(d.Manifest.Path); err != nil || file.Text != d.Manifest.Lines.Source() {
			return nil, false
		}
	}
	if d.Model != nil {
		if file, err := s.File(d.Model.Path); err != nil || file.Text != d.Model.Source() {
			return nil, false
		}
	}
	return d, true
}

// containerSet plans setting path (under the container's securityContext) to v in the manifest.
func containerSet(s *diagnostics.Snapshot, d *workspace.Data, title string, path []string, v YAMLValue) []Action {
	if d.Manifest == nil || d.Container == nil || d.Container.Node == nil {
		return nil
	}
	file, err := s.File(d.Manifest.Path)
	if err != nil {
		return nil
	}
	e := &YAMLEditor{Lines: d.Manifest.Lines, Style: DetectYAMLStyle(file.Text, d.Manifest.Docs)}
	edits, err := e.Set(d.Container.Node, append([]string{"securityContext"}, path...), v)
	if err != nil || len(edits) == 0 {
		return nil
	}
	return []Action{{Title: title, Preferred: true, Edits: []FileEdit{{Path: d.Manifest.Path, Edits: edits}}}}
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
func setUserInDockerfile(s *diagnostics.Snapshot, d *workspace.Data, uid, gid int, preferred bool) []Action {
	if d.Model == nil || d.Stage == nil {
		return nil
	}
	m, st := d.Model, d.Stage
	id := identity(uid, gid)
	title := fmt.Sprintf("Set USER %s in %s", id, dfName(s, m.Path))
	if d.User.Instr != nil && d.User.Instr.Stage == st {
		return []Action{{Title: title, Preferred: preferred, Edits: []FileEdit{{Path: m.Path, Edits: []text.Edit{{Range: d.User.Range(), NewText: id}}}}}}
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
		edit = insertLineBefore(m, before, "USER "+id)
	case len(st.Instructions) > 0:
		edit = insertLineAfter(m, st.Instructions[len(st.Instructions)-1], "USER "+id)
	default:
		return nil
	}
	return []Action{{Title: title, Preferred: preferred, Edits: []FileEdit{{Path: m.Path, Edits: []text.Edit{edit}}}}}
}

// NR301: runAsUser with the uid of the image's user in the manifest; or the Dockerfile's USER
// made numeric with that uid (when the Dockerfile gives the user one).
func planNR301(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := wsData(s, f)
	if !ok {
		return nil
	}
	out := containerSet(s, d, fmt.Sprintf("Add runAsUser: %d to %s", d.UID, d.Container.Label()), []string{"runAsUser"}, Scalar(strconv.Itoa(d.UID)))
	if u := d.User; u.Instr != nil && u.UID != nil && *u.UID > 0 {
		out = append(out, Action{
			Title: fmt.Sprintf("Make USER numeric in %s: %s → %d", dfName(s, d.Model.Path), u.Name, *u.UID),
			Edits: []FileEdit{{Path: d.Model.Path, Edits: []text.Edit{{Range: u.UserPartRange(), NewText: strconv.Itoa(*u.UID)}}}},
		})
	}
	return out
}

// NR302: runAsUser in the manifest; or a non-root USER in the Dockerfile's built stage.
func planNR302(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := wsData(s, f)
	if !ok {
		return nil
	}
	out := containerSet(s, d, fmt.Sprintf("Add runAsUser: %d to %s", d.UID, d.Container.Label()), []string{"runAsUser"}, Scalar(strconv.Itoa(d.UID)))
	cfg := s.ConfigFor(d.Model.Path)
	_, gid := cfg.User()
	return append(out, setUserInDockerfile(s, d, d.UID, gid, false)...)
}

// NR306: NET_BIND_SERVICE in the container's capabilities.add.
func planNR306(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := wsData(s, f)
	if !ok {
		return nil
	}
	return containerSet(s, d, fmt.Sprintf("Add NET_BIND_SERVICE to the capabilities of %s", d.Container.Label()),
		[]string{"capabilities", "add"}, Seq("NET_BIND_SERVICE"))
}

// NR307: user: "<uid>:0" on the compose service; or, for a service built by a Dockerfile of
// the workspace, a non-root USER in its built stage.
func planNR307(s *diagnostics.Snapshot, f diagnostics.Finding) []Action {
	d, ok := wsData(s, f)
	if !ok || d.Service == nil || d.Compose == nil {
		return nil
	}
	file, err := s.File(f.File)
	if err != nil || d.Service.File != f.File {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	_, gid := cfg.User()
	value := strconv.Quote(identity(d.UID, gid))
	title := fmt.Sprintf("Set user: %s on service %q", value, d.Service.Name)
	var out []Action
	if d.Service.HasUser && d.Service.UserFile == f.File {
		out = append(out, Action{Title: title, Preferred: true, Edits: []FileEdit{{Path: f.File, Edits: []text.Edit{{Range: d.Service.UserRange, NewText: value}}}}})
	} else if d.Service.Node != nil {
		e := &YAMLEditor{Lines: file.Lines(), Style: DetectYAMLStyle(file.Text, d.Compose.Docs)}
		if edits, err := e.Set(d.Service.Node, []string{"user"}, Scalar(value)); err == nil && len(edits) > 0 {
			out = append(out, Action{Title: title, Preferred: true, Edits: []FileEdit{{Path: f.File, Edits: edits}}})
		}
	}
	return append(out, setUserInDockerfile(s, d, d.UID, gid, false)...)
}
