package dockerfile

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"

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
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		u := st.User()
		if !userFromFile(u) || u.Kind != KindRoot {
			return
		}
		how := ""
		if u.Raw != u.Value && u.Value != "" {
			how = fmt.Sprintf(" (%s resolves to %q)", u.Raw, u.Value)
		}
		msg := fmt.Sprintf("USER %s%s runs the container as root (uid 0): with runAsNonRoot: true Kubernetes refuses it (\"container has runAsNonRoot and image will run as root\")", u.Raw, how)
		if out := u.OutOfScope(); len(out) > 0 {
			msg = fmt.Sprintf("USER %s expands to %q: the ARG %s declared before the first FROM is not in scope in stage %s (a global ARG only serves FROM lines until a stage declares it again), so BuildKit sets no user and the container runs as root (uid 0); add `ARG %s` to the stage",
				u.Raw, u.Value, strings.Join(out, ", "), u.Instr.Stage.Label(), strings.Join(out, " "))
		}
		pass.Report(diagnostics.Finding{Range: u.Range(), Data: &userData{u, st}, Message: msg})
	}),
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
			replace := diagnostics.Single(fmt.Sprintf("Replace with USER %s", codeactions.Identity(uid, gid)), f.File, true,
				text.Edit{Range: d.User.Range(), NewText: codeactions.Identity(uid, gid)})
			if a := declareGlobals(f, d.User); a != nil {
				replace[0].Preferred = false
				return append(a, replace...)
			}
			return replace
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

// declareGlobals brings the global ARGs a USER uses into its stage (`ARG UID` after the
// FROM) when their defaults then make it a non-root user; nil otherwise.
func declareGlobals(f diagnostics.Finding, u User) []diagnostics.Action {
	out := u.OutOfScope()
	if len(out) == 0 {
		return nil
	}
	st := u.Instr.Stage
	env := slices.Clone(st.env[:u.Instr.envLen])
	for _, k := range out {
		v, ok := envView{st.model.MetaArgs}.Get(k)
		env = append(env, Var{Name: k, Value: v, Set: ok, Arg: true})
	}
	val, unresolved := expand(shell.NewLex(st.model.Escape), u.Raw, envView{env})
	if unresolved != "" || !parseUserString(val).NonRoot() {
		return nil
	}
	line := "ARG " + strings.Join(out, " ")
	return diagnostics.Single(fmt.Sprintf("Add %q to stage %s (USER %s is then %s)", line, st.Label(), u.Raw, val), f.File, true, st.From.InsertAfter(line))
}
