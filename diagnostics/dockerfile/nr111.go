package dockerfile

import (
	"context"
	"fmt"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// NR111 — sudo in RUN.
var NR111 = &diagnostics.Rule{
	ID:       "NR111",
	Title:    "sudo in RUN",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	Hadolint: []string{"DL3004"},
	FixTitle: "Remove sudo",
	Fix:      planNR111,
	Doc: diagnostics.Doc{
		Why:     "RUN already runs as root before USER; after a non-root USER, sudo needs to be installed and configured without a password, which leaves a root escalation path in the image.",
		Runtime: "Without sudo in the image the build fails with `sudo: not found`; with it, it may hang waiting for a password or fail with `no tty present`. A sudo-enabled runtime user can become root in the container.",
		Fix:     "Remove sudo and run the step before USER (as root).",
		Source:  "hadolint DL3004: \"Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root\".",
		Bad:     "FROM debian:bookworm-slim\nRUN sudo apt-get update\n",
		Good:    "FROM debian:bookworm-slim\nRUN apt-get update\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		for _, s := range buildSet(st) {
			for _, r := range s.RunsAndTriggers() {
				for _, c := range r.Commands {
					if !c.Sudo {
						continue
					}
					lines := r.Stage.model.lines
					rg := lines.RangeOf(c.SudoStart, c.SudoStart+len("sudo"))
					as := "as root already: sudo is not needed"
					if r.User().NonRoot() {
						as = fmt.Sprintf("as %s: sudo must be installed and passwordless for this to work, and it leaves a way back to root", r.User().Describe())
					}
					what := "this RUN runs"
					if r.Onbuild {
						what = fmt.Sprintf("this ONBUILD RUN runs in the images built FROM stage %s,", s.Label())
					}
					pass.Report(diagnostics.Finding{Range: rg, Data: c,
						Message: fmt.Sprintf("sudo %s: %s %s", c.Name, what, as)})
				}
			}
		}
	}),
}

// NR111: remove sudo (and its options).
func planNR111(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	c, ok := f.Data.(*Command)
	ok2 := ModelFor(s, f.File) != nil
	if !ok || !ok2 || !c.Sudo {
		return nil
	}
	return diagnostics.Single("Remove sudo", f.File, true, text.Edit{Range: c.SudoRange()})
}
