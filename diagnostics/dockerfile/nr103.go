package dockerfile

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// NR103 — USER is a name.
var NR103 = &diagnostics.Rule{
	ID:       "NR103",
	Title:    "USER is a name, not a number",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	Hadolint: []string{"DL3066"},
	FixTitle: "Use the numeric uid",
	Fix:      planNR103,
	Doc: diagnostics.Doc{
		Why:     "Kubernetes can only verify `runAsNonRoot` from the image when its user is numeric: it does not read the image's /etc/passwd. A name also breaks on images without that passwd entry.",
		Runtime: "With `runAsNonRoot: true` and no `runAsUser`, the kubelet refuses to start the container: `container has runAsNonRoot and image has non-numeric user (NAME), cannot verify user is non-root` (CreateContainerConfigError).",
		Fix:     "Write the uid the Dockerfile gives the user (`USER 10001` or `USER 10001:0`); when `useradd`/`adduser` creates it without one, add `-u <uid>` so the number is fixed.",
		Source:  "kubelet: `container has runAsNonRoot and image has non-numeric user (NAME), cannot verify user is non-root`.",
		Bad:     "FROM debian:bookworm-slim\nRUN useradd -u 10001 app\nUSER app\n",
		Good:    "FROM debian:bookworm-slim\nRUN useradd -u 10001 app\nUSER 10001\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		u := st.User()
		if !userFromFile(u) || u.Kind != KindNamed {
			return
		}
		known := ""
		if u.UID != nil {
			known = fmt.Sprintf("; its uid is %d", *u.UID)
		}
		pass.Report(diagnostics.Finding{Range: u.UserPartRange(), Data: &userData{u, st},
			Message: fmt.Sprintf("USER %s is a name, not a number%s: with runAsNonRoot: true the kubelet refuses to start the container (\"image has non-numeric user (%s), cannot verify user is non-root\")", u.Name, known, u.Name)})
	}),
}

// NR103: replace the name with the uid the Dockerfile gives it; when created without one,
// add -u <uid> to the useradd/adduser too.
func planNR103(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*userData)
	m := ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil {
		return nil
	}
	lines := m.Lines()
	edits := []text.Edit{}
	var uid int
	switch created := d.Stage.CreatedUser(d.User.Name); {
	case created != nil && created.UID != nil:
		uid = *created.UID
	case created != nil && created.NameAt >= 0:
		cfg := s.ConfigFor(f.File)
		uid, _ = cfg.User()
		flag := "-u "
		if created.LongOpts {
			flag = "--uid "
		}
		p := lines.PosAt(created.NameAt)
		edits = append(edits, text.Edit{Range: text.Range{Start: p, End: p}, NewText: flag + strconv.Itoa(uid) + " "})
	case d.User.UID != nil:
		uid = *d.User.UID
	default:
		return nil // a user the image already has, with a uid this file does not say
	}
	edits = append(edits, text.Edit{Range: d.User.UserPartRange(), NewText: strconv.Itoa(uid)})
	return diagnostics.Single(fmt.Sprintf("Replace %s with uid %d", d.User.Name, uid), f.File, true, edits...)
}

// CreatedUser returns the last user named name the stage (or its ancestry) creates, or nil.
func (st *Stage) CreatedUser(name string) *CreatedUser {
	cs := st.CreatedUsers()
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}
