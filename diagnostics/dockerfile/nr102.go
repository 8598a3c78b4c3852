package dockerfile

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// NR102 — USER root.
var NR102 = &diagnostics.Rule{
	ID:       "NR102",
	Title:    "The last USER is root",
	Severity: diagnostics.SeverityError,
	Kinds:    kinds,
	Hadolint: []string{"DL3002"},
	FixTitle: "Replace with a non-root uid",
	Fix:      planReplaceUser("NR102"),
	Doc: diagnostics.Doc{
		Why:     "The USER that is in force at the end of the built stage decides who the container runs as. `root`, `0`, `root:*`, `0:*` — or an ARG/ENV whose value is one of these — make it run as root.",
		Runtime: "The entrypoint runs as uid 0. Kubernetes with `runAsNonRoot: true` refuses the pod: `container has runAsNonRoot and image will run as root`.",
		Fix:     "Switch back to a non-root numeric user after the steps that need root: `USER 10001:0` (or the uid the Dockerfile creates).",
		Source:  "kubelet: `container has runAsNonRoot and image will run as root`; hadolint DL3002: \"Last USER should not be root\".",
		Bad:     "FROM debian:bookworm-slim\nUSER root\nCMD [\"app\"]\n",
		Good:    "FROM debian:bookworm-slim\nUSER 10001:0\nCMD [\"app\"]\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		u := st.User()
		if !userFromFile(u) || u.Kind != KindRoot {
			return
		}
		how := ""
		if u.Raw != u.Value && u.Value != "" {
			how = fmt.Sprintf(" (%s resolves to %q)", u.Raw, u.Value)
		}
		pass.Report(diagnostics.Finding{Range: u.Range(), Data: &userData{u, st},
			Message: fmt.Sprintf("USER %s%s runs the container as root (uid 0): with runAsNonRoot: true Kubernetes refuses it (\"container has runAsNonRoot and image will run as root\")", u.Raw, how)})
	},
}

// NR102, NR110: replace the USER argument (NR102) or its user part (NR110) with a non-root uid.
func planReplaceUser(rule string) func(context.Context, *diagnostics.Snapshot, diagnostics.Finding) []diagnostics.Action {
	return func(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
		d, ok := f.Data.(*userData)
		m := ModelFor(s, f.File)
		ok2 := m != nil
		if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil {
			return nil
		}
		cfg := s.ConfigFor(f.File)
		uid, gid := FixUser(d.Stage, &cfg)
		if rule == "NR102" {
			return diagnostics.Single(fmt.Sprintf("Replace with USER %s", codeactions.Identity(uid, gid)), f.File, true,
				text.Edit{Range: d.User.Range(), NewText: codeactions.Identity(uid, gid)})
		}
		// NR110: the named user's uid when the Dockerfile creates it (in any stage), else the default.
		for _, st := range m.Stages {
			for _, c := range st.Created {
				if c.Name == d.User.Name && c.UID != nil && *c.UID > 0 {
					uid = *c.UID
				}
			}
		}
		return diagnostics.Single(fmt.Sprintf("Replace %s with uid %d", d.User.Name, uid), f.File, true,
			text.Edit{Range: d.User.UserPartRange(), NewText: strconv.Itoa(uid)})
	}
}
