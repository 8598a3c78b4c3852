package dockerfile

import (
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// NR110 — FROM scratch with a named USER.
var NR110 = &diagnostics.Rule{
	ID:       "NR110",
	Title:    "Named USER in an image built FROM scratch",
	Severity: diagnostics.SeverityError,
	Kinds:    kinds,
	FixTitle: "Use the numeric uid",
	Fix:      planReplaceUser("NR110"),
	Doc: diagnostics.Doc{
		Why:     "An image built FROM scratch has no /etc/passwd, so the runtime cannot turn a user name into a uid.",
		Runtime: "The container fails to start: `unable to find user app: no matching entries in passwd file`.",
		Fix:     "Use a numeric uid (`USER 10001:0`), or copy an /etc/passwd that defines the name from a builder stage.",
		Source:  "\"you can specify a user ID for example with: USER 1000. This is especially useful for images without an OS such as scratch.\" (Docker without root)",
		Bad:     "FROM scratch\nCOPY app /app\nUSER app\nENTRYPOINT [\"/app\"]\n",
		Good:    "FROM scratch\nCOPY app /app\nUSER 10001:0\nENTRYPOINT [\"/app\"]\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		if !st.Scratch {
			return
		}
		u := st.User()
		if !userFromFile(u) || u.Kind == KindUnknown || u.Kind == KindNumeric {
			return
		}
		name, _, _ := strings.Cut(u.Value, ":")
		if isDigits(name) {
			return
		}
		for _, s := range st.Ancestry() {
			for _, c := range s.Copies {
				d := strings.TrimSuffix(c.Dest, "/")
				if d == "" || d == "/etc" || d == "/etc/passwd" {
					return // an /etc/passwd (or a whole root filesystem) is copied in
				}
			}
		}
		pass.Report(diagnostics.Finding{Range: u.UserPartRange(), Data: &userData{u, st},
			Message: fmt.Sprintf("USER %s in an image built FROM scratch: there is no /etc/passwd, so the container fails to start (\"unable to find user %s: no matching entries in passwd file\")", name, name)})
	}),
}
