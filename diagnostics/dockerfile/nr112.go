package dockerfile

import (
	"context"
	"fmt"
	"slices"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// nr112Data is the payload of an NR112 finding: the built stage and the USER that does not
// reach it.
type nr112Data struct {
	Built *Stage
	User  User
}

// NR112 — USER only in a stage that is not built.
var NR112 = &diagnostics.Rule{
	ID:       "NR112",
	Title:    "USER is set only in a stage that is not built",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	FixTitle: "Set the USER in the built stage",
	Fix:      planNR112,
	Doc: diagnostics.Doc{
		Why:     "A stage starts from its own FROM: a USER in a builder stage does not carry over to a stage built FROM another image, even one that copies the builder's files. The built stage then runs as root although the Dockerfile looks like it sets a user.",
		Runtime: "The container runs as root (uid 0). Kubernetes with `runAsNonRoot: true` refuses it: `container has runAsNonRoot and image will run as root`.",
		Fix:     "Set USER in the stage that is built (after its steps that need root), or build the final stage FROM the stage that sets it.",
		Source:  "Docker: \"The USER instruction sets the user name (or UID) and optionally the user group (or GID) to use as the default user and group for the remainder of the current stage.\"",
		Bad:     "FROM golang:1.23 AS build\nRUN useradd -u 10001 app\nUSER 10001\nRUN go build -o /out/app .\n\nFROM debian:bookworm-slim\nCOPY --from=build /out/app /usr/local/bin/app\nENTRYPOINT [\"app\"]\n",
		Good:    "FROM golang:1.23 AS build\nRUN useradd -u 10001 app\nUSER 10001\nRUN go build -o /out/app .\n\nFROM debian:bookworm-slim\nCOPY --from=build /out/app /usr/local/bin/app\nUSER 10001\nENTRYPOINT [\"app\"]\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		if userFromFile(st.User()) {
			return
		}
		anc := st.Ancestry()
		if root := anc[len(anc)-1]; root.Base != nil && root.Base.NonRoot() {
			return // the built stage's base image runs as non-root anyway
		}
		for _, o := range st.model.Stages {
			if slices.Contains(anc, o) {
				continue
			}
			u := o.User()
			if u.Source != SourceUSER || u.Instr == nil || u.Instr.Stage != o {
				continue
			}
			pass.Report(diagnostics.Finding{Range: u.Range(), Data: &nr112Data{Built: st, User: u},
				Message: fmt.Sprintf("USER %s is set in stage %s, which is not the built image: a USER does not carry over to stage %s (FROM %s), which runs as root", u.Raw, o.Label(), st.Label(), st.BaseRaw)})
		}
	}),
}

// NR112: the same USER in the built stage, as a uid when the Dockerfile gives one.
func planNR112(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr112Data)
	m := ModelFor(s, f.File)
	if !ok || m == nil || d.Built.Model() != m || len(d.Built.Instructions) == 0 {
		return nil
	}
	user := d.User.Raw
	if d.User.UID != nil {
		user = fmt.Sprint(*d.User.UID)
		if d.User.GID != nil {
			user = codeactions.Identity(*d.User.UID, *d.User.GID)
		}
	}
	line := "USER " + user
	return diagnostics.Single(fmt.Sprintf("Add %q to stage %s", line, d.Built.Label()), f.File, true, insertUser(d.Built, line))
}
