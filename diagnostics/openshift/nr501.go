package openshift

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// nr501Data is the payload of an NR501 finding: the USER to rewrite.
type nr501Data struct {
	User  dockerfile.User
	Stage *dockerfile.Stage
}

// NR501 — USER without group 0.
var NR501 = &diagnostics.Rule{
	ID:       "NR501",
	Title:    "USER has no group 0",
	Severity: diagnostics.SeverityWarning,
	Profiles: openshiftOnly,
	Kinds:    []diagnostics.FileKind{diagnostics.KindDockerfile},
	FixTitle: "Use USER <uid>:0",
	Fix:      planNR501,
	Doc: diagnostics.Doc{
		Why:     "OpenShift ignores the image's USER and runs the container as an arbitrary uid whose group is 0. An image that runs elsewhere as `USER 1001:1001`, or as a user whose passwd entry (created by the build, or the base image's user) has another primary group, is tested with another group than the one it gets on OpenShift, so group-0 permission mistakes only show up there. A bare uid without a passwd entry already runs in group 0 everywhere: it is not reported.",
		Runtime: "On Docker, Podman and Kubernetes the process runs with the USER's group: the group after ':', else the passwd entry's primary group, else (no passwd entry) gid 0; on OpenShift always with gid 0. Files the build left writable for the USER's group are not writable on OpenShift (`Permission denied`).",
		Fix:     "Write the group explicitly as 0: `USER 1001:0`. The image then behaves the same everywhere, and the group-0 permissions it needs for OpenShift (NR502) are exercised on every run.",
		Source:  "\"Set the user and group ID of the user running the container process with the USER instruction. E.g., USER 3000:0.\" (Friends don't let friends run containers as root); " + sourceFact,
		Bad:     "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER 10001\n",
		Good:    "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER 10001:0\n",
	},
	Run: dockerfile.JudgeBuilt(func(pass *diagnostics.Pass, st *dockerfile.Stage) {
		u := st.User()
		if u.Instr == nil || (u.Source != dockerfile.SourceUSER && u.Source != dockerfile.SourceStage) || !u.NonRoot() {
			return // root is NR101/NR102's business; an inherited base-image user is not this file's
		}
		g := st.GroupOf(u)
		if !g.NonZero() {
			return // group 0 already, or not known to be another (a bare uid without passwd entry runs in group 0)
		}
		var msg string
		switch {
		case u.Group != "":
			msg = fmt.Sprintf("USER %s runs the process with group %s; OpenShift runs it as an arbitrary uid in group 0, so what works here with group %s fails there with \"Permission denied\"", u.Raw, u.Group, u.Group)
		default:
			msg = fmt.Sprintf("USER %s has no group: the process gets %s (%s), while OpenShift always runs it as an arbitrary uid in group 0; write USER %s:0 so every platform runs it the same way", u.Raw, g.Describe(), g.From, userPart(u))
		}
		pass.Report(diagnostics.Finding{Range: u.Range(), Message: msg, Data: &nr501Data{User: u, Stage: st}})
	}),
}

func userPart(u dockerfile.User) string {
	if u.Kind == dockerfile.KindNumeric && u.UID != nil {
		return strconv.Itoa(*u.UID)
	}
	if i := strings.IndexByte(u.Raw, ':'); i >= 0 {
		return u.Raw[:i]
	}
	return u.Raw
}

// NR501: rewrite the USER argument as <uid>:0 (the uid the Dockerfile gives a named user).
func planNR501(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr501Data)
	m := dockerfile.ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil || d.User.Instr.Stage.Model() != m {
		return nil
	}
	u := d.User
	user := u.Raw
	if i := strings.IndexByte(user, ':'); i >= 0 {
		user = user[:i]
	}
	switch {
	case u.UID != nil:
		user = strconv.Itoa(*u.UID)
	case u.Kind == dockerfile.KindNamed:
		if cu := d.Stage.CreatedUser(u.Name); cu != nil && cu.UID != nil {
			user = strconv.Itoa(*cu.UID)
		}
	}
	if user == "" || strings.ContainsAny(user, " \t") {
		return nil
	}
	arg := user + ":0"
	return diagnostics.Single(fmt.Sprintf("Use USER %s", arg), f.File, true, text.Edit{Range: u.Range(), NewText: arg})
}
