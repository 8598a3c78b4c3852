package dockerfile

import (
	"context"
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// hover explains, on USER, FROM, VOLUME and EXPOSE lines, the effective user and where it
// comes from.
func hover(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) *diagnostics.Hover {
	if f.Binary() {
		return nil
	}
	m := Of(f)
	in := m.InstructionAt(pos.Line)
	if in == nil || in.Stage == nil {
		return nil
	}
	st := in.Stage
	var b strings.Builder
	switch in.Cmd {
	case "user":
		u := in.userAfter()
		fmt.Fprintf(&b, "**USER** `%s`", u.Raw)
		if u.Value != u.Raw {
			fmt.Fprintf(&b, " → `%s`", u.Value)
		}
		fmt.Fprintf(&b, "\n\nFrom here on, stage `%s` runs as **%s** (%s).", st.Label(), u.Describe(), u.Kind)
		if out := u.OutOfScope(); len(out) > 0 {
			fmt.Fprintf(&b, " The ARG %s declared before the first FROM is not in scope here (a global ARG only serves FROM lines until the stage declares it again with `ARG %s`): it expands to nothing.", strings.Join(out, ", "), strings.Join(out, " "))
		}
		if u.NonRoot() {
			g := st.GroupOf(u)
			fmt.Fprintf(&b, " Its group: **%s** (%s); OpenShift runs it in group 0 whatever USER says.", g.Describe(), g.From)
		}
		if u.Windows {
			b.WriteString("\n\nThis is a Windows user: Linux rules do not apply.")
		}
		prev := in.User()
		fmt.Fprintf(&b, "\n\nBefore this line: %s, from %s.", prev.Describe(), prev.From())
	case "from":
		fmt.Fprintf(&b, "**FROM** `%s`", st.BaseName)
		if st.Name != "" {
			fmt.Fprintf(&b, " (stage `%s`)", st.Name)
		}
		b.WriteString("\n\n")
		switch {
		case st.Parent != nil:
			fmt.Fprintf(&b, "Starts from stage `%s`, as %s.", st.Parent.Label(), st.Initial.Describe())
		case st.Scratch:
			b.WriteString("An empty image: no shell, no /etc/passwd. Runs as root (uid 0) unless USER says otherwise, and USER must be numeric.")
		case st.Windows:
			b.WriteString("A Windows image: Linux rules do not apply.")
		case st.Base != nil && st.Base.Entry != nil:
			fmt.Fprintf(&b, "Known base image: runs as **%s**.\n\n%s", st.Initial.Describe(), imagecatalog.Lookup(st.BaseName).Markdown())
		case st.Base != nil:
			fmt.Fprintf(&b, "Known base image: runs as **%s**. %s.", st.Initial.Describe(), st.Base.Why)
		default:
			b.WriteString("Base image not known to nonroot-ls: the user it runs as is inherited and unknown.")
		}
		u := st.User()
		fmt.Fprintf(&b, "\n\nAt the end of this stage the user is **%s**, from %s.", u.Describe(), u.From())
		if st == m.Built(TargetFor(s, f.Path)) {
			b.WriteString(" This is the stage that is built: the container runs as this user.")
		}
	case "volume", "expose":
		fmt.Fprintf(&b, "**%s** — the container runs as **%s**, from %s.", strings.ToUpper(in.Cmd), st.User().Describe(), st.User().From())
		if in.Cmd == "volume" {
			for _, v := range st.Volumes {
				if v.Instr != in {
					continue
				}
				acc, perm := st.WriteAccess(st.User(), v.Value)
				switch acc {
				case AccessWritable:
					fmt.Fprintf(&b, "\n\n`%s` is writable by that user.", v.Value)
				case AccessDenied:
					fmt.Fprintf(&b, "\n\n`%s` is owned by %s (%s, line %d) and not writable by that user.", v.Value, ownerOf(perm), perm.Op, perm.Range.Start.Line+1)
				default:
					fmt.Fprintf(&b, "\n\nThe build does not set the owner of `%s`: a volume mounted there is owned by root unless the pod sets `fsGroup`.", v.Value)
				}
			}
		} else {
			for _, p := range st.Ports {
				if p.Instr == in && p.Number > 0 && p.Number < 1024 {
					fmt.Fprintf(&b, "\n\nPort %d is privileged: a non-root process needs CAP_NET_BIND_SERVICE (or a runtime with ip_unprivileged_port_start=0, as Docker ≥ 20.10 and containerd ≥ 2.0 set; CRI-O does not).", p.Number)
				}
			}
		}
	default:
		return nil
	}
	return &diagnostics.Hover{Range: in.KeywordRange(), Markdown: b.String()}
}
