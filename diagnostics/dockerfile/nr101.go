package dockerfile

import (
	"context"
	"fmt"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// nr101Data is the payload of an NR101 finding.
type nr101Data struct{ Stage *Stage }

// NR101 — no USER.
var NR101 = &diagnostics.Rule{
	ID:       "NR101",
	Title:    "The image runs as root: no USER",
	Severity: diagnostics.SeverityError,
	Kinds:    kinds,
	FixTitle: "Add USER <uid>:0",
	Fix:      planNR101,
	Doc: diagnostics.Doc{
		Why:     "Without a USER instruction the container's process runs as root (uid 0) unless the base image sets another user. A process that escapes the container, or abuses a mounted volume or socket, does so as root. An export stage (FROM scratch with only COPY, no ENTRYPOINT or CMD: the files `docker build --output` writes out) never runs and is not judged; when the workspace builds several targets of the Dockerfile, each is.",
		Runtime: "Docker and containerd start the entrypoint as uid 0. On Kubernetes, a pod with `runAsNonRoot: true` and no `runAsUser` is refused with `container has runAsNonRoot and image will run as root` (CreateContainerConfigError); OpenShift's restricted-v2 SCC runs it with a random uid instead, and whatever expected root then fails.",
		Fix:     "Add `USER <uid>:0` (a numeric uid, group 0) to the built stage after the steps that need root, before ENTRYPOINT/CMD. Make the paths the app writes owned by that uid and group 0 (`chown <uid>:0`, `chmod g=u`).",
		Source:  "\"By default, Docker containers are run as root users.\" (Bitnami, Non-Root Containers); kubelet: `container has runAsNonRoot and image will run as root`.",
		Bad:     "FROM alpine:3.20\nCOPY app /usr/local/bin/app\nENTRYPOINT [\"app\"]\n",
		Good:    "FROM alpine:3.20\nCOPY app /usr/local/bin/app\nUSER 10001:0\nENTRYPOINT [\"app\"]\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		u := st.User()
		if userFromFile(u) {
			return
		}
		root := st.Ancestry()[len(st.Ancestry())-1]
		if root.Base != nil && root.Base.NonRoot() {
			return
		}
		var msg string
		switch {
		case root.Scratch:
			msg = fmt.Sprintf("no USER in stage %s: the container runs as root (uid 0), Docker's default for an image built FROM scratch", st.Label())
		case root.Base != nil:
			msg = fmt.Sprintf("no USER in stage %s: the container runs as root (uid 0), like its base image %s", st.Label(), root.BaseName)
		default:
			img := root.BaseName
			if root.BaseUnresolved {
				img = root.BaseRaw
			}
			msg = fmt.Sprintf("no USER in stage %s and the base image %s is not known to run as non-root: the container runs as whatever user that image sets, root unless it sets one", st.Label(), img)
		}
		pass.Report(diagnostics.Finding{Range: st.BaseRange, Message: msg, Data: &nr101Data{Stage: st}})
	}),
}

// NR101: insert USER <uid>:0 before the ENTRYPOINT/CMD that follow the last RUN, else at the
// end of the stage.
func planNR101(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr101Data)
	m := ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || d.Stage == nil || d.Stage.Model() != m {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	uid, gid := FixUser(d.Stage, &cfg)
	line := "USER " + codeactions.Identity(uid, gid)
	return diagnostics.Single(fmt.Sprintf("Add %q", line), f.File, true, insertUser(d.Stage, line))
}

// insertUser is the edit that adds a USER line to a stage: before the ENTRYPOINT/CMD that
// follow its last RUN, else at its end.
func insertUser(st *Stage, line string) text.Edit {
	lastRun := -1
	for _, in := range st.Instructions {
		if in.Cmd == "run" {
			lastRun = in.Index
		}
	}
	for _, in := range st.Instructions {
		if (in.Cmd == "entrypoint" || in.Cmd == "cmd") && in.Index > lastRun {
			return in.InsertBefore(line)
		}
	}
	return st.Instructions[len(st.Instructions)-1].InsertAfter(line)
}
