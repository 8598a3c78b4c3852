package dockerfile

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// NR104 — system or nobody uid.
var NR104 = &diagnostics.Rule{
	ID:       "NR104",
	Title:    "USER uid is a system uid or nobody",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	FixTitle: "Use the default uid",
	Fix:      planNR104,
	Doc: diagnostics.Doc{
		Why:     "uids 1–999 belong to system accounts (daemon, www-data, the package's own users) and 65534/65535 are nobody/nfsnobody, shared by every service that runs as nobody and the uid NFS maps unknown users to.",
		Runtime: "The container shares its identity with system services on the host and in other containers: files they own are writable by it and the other way round; on NFS volumes its files are indistinguishable from squashed root.",
		Fix:     "Use a uid of 10000 or more that nothing else uses, e.g. `USER 10001:0`.",
		Source:  "\"The user ID you select can be any number equal or greater than 1000 ... Do not use user ID 65535, which is the nobody user. This user is reserved for nfs.\" (Friends don't let friends run containers as root)",
		Bad:     "FROM alpine:3.20\nUSER 100\n",
		Good:    "FROM alpine:3.20\nUSER 10001\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		u := st.User()
		if !userFromFile(u) || u.Kind != KindNumeric || u.UID == nil {
			return
		}
		id := *u.UID
		var why string
		switch {
		case id >= 1 && id <= 999:
			why = fmt.Sprintf("uid %d is in the system range (1–999): the container shares it with a system account, on the host and in other images", id)
		case id == 65534:
			why = "uid 65534 is nobody: the container shares it with every service that runs as nobody, and NFS maps unknown users to it"
		case id == 65535:
			why = "uid 65535 is nfsnobody (reserved for NFS) and is treated as an invalid uid by some tools"
		default:
			return
		}
		pass.Report(diagnostics.Finding{Range: u.UserPartRange(), Data: &userData{u, st}, Message: why})
	}),
}

// NR104: replace the uid with the configured default.
func planNR104(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*userData)
	m := ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || d.Stage.Model() != m || d.User.Instr == nil {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	uid, _ := cfg.User()
	return diagnostics.Single(fmt.Sprintf("Replace with uid %d", uid), f.File, true,
		text.Edit{Range: d.User.UserPartRange(), NewText: strconv.Itoa(uid)})
}
