package dockerfile

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// nr107Data is the payload of an NR107 finding.
type nr107Data struct {
	Path  string
	User  User
	Stage *Stage
	Instr *Instruction // the VOLUME, RUN mkdir or install that names the path
}

// NR107 — a path the container writes is not writable.
var NR107 = &diagnostics.Rule{
	ID:       "NR107",
	Title:    "A path the container writes is not writable by its user",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	FixTitle: "Create it owned by the runtime user, group 0",
	Fix:      planNR107,
	Doc: diagnostics.Doc{
		Why:     "A VOLUME or a data directory the build creates as root stays owned by root. A non-root user cannot write it, and Docker creates a missing VOLUME path root-owned.",
		Runtime: "The app fails at startup or on first write with `permission denied` (`mkdir: can't create directory`, `could not open file ... Permission denied`).",
		Fix:     "Before USER: `RUN mkdir -p /data && chown 10001:0 /data && chmod g=u /data`. For FROM scratch, create it in a builder stage and `COPY --from=builder --chown=10001:0`.",
		Source:  "\"Due to the fact that Kubernetes mounts these volumes with the root user as the owner, the non-root containers don't have permissions to write to the persistent directory.\" (Bitnami, Non-Root Containers); \"only root has permission to create files and directories at `/`\" (SPIRE, Running Docker images as a non-root user)",
		Bad:     "FROM alpine:3.20\nVOLUME /data\nUSER 10001:0\n",
		Good:    "FROM alpine:3.20\nRUN mkdir -p /data && chown 10001:0 /data && chmod g=u /data\nVOLUME /data\nUSER 10001:0\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		u := st.User()
		if !u.NonRoot() {
			return
		}
		anc := st.Ancestry()
		root := anc[len(anc)-1]
		baseKnown := root.Scratch || root.Base != nil
		// Scripts the model cannot see into may create paths or change their owner: a path
		// such a command names (or any path, for "not created") is not judged.
		opaque := map[string]bool{}
		anyOpaque := false
		for _, s := range anc {
			for _, r := range s.Runs {
				for _, c := range r.Commands {
					if !c.Opaque() {
						continue
					}
					anyOpaque = true
					for _, a := range c.Args {
						if a.OK && strings.HasPrefix(a.Value, "/") {
							opaque[cleanPath(a.Value)] = true
						}
					}
				}
			}
		}
		mentioned := func(p string) bool {
			for q := range opaque {
				if q != "/" && under(p, q) {
					return true
				}
			}
			return false
		}
		seen := map[string]bool{}
		report := func(p string, rg text.Range, what string, in *Instruction) {
			if seen[p] || mentioned(p) {
				return
			}
			seen[p] = true
			acc, perm := st.WriteAccess(u, p)
			var msg string
			switch {
			case acc == AccessDenied:
				msg = fmt.Sprintf("%s %s is left owned by %s (%s on line %d) and not writable by %s: the app gets \"permission denied\" when it writes there", what, p, ownerOf(perm), perm.Op, perm.Range.Start.Line+1, u.Describe())
			case acc == AccessUnknown && perm == nil && baseKnown && !anyOpaque && what == "VOLUME":
				msg = fmt.Sprintf("VOLUME %s is not created by the build: the volume is mounted owned by root and %s cannot write it (\"permission denied\")", p, u.Describe())
			default:
				return
			}
			pass.Report(diagnostics.Finding{Range: rg, Message: msg, Data: &nr107Data{Path: p, User: u, Stage: st, Instr: in}})
		}
		for _, s := range reverse(anc) {
			for _, v := range s.Volumes {
				report(v.Value, v.Range, "VOLUME", v.Instr)
			}
		}
		for _, s := range reverse(anc) {
			for _, p := range s.Paths {
				if p.Op != "mkdir" && p.Op != "install" {
					continue
				}
				for _, d := range DataDirs {
					if under(p.Path, d) && p.Path != d {
						report(p.Path, p.Range, "data directory", p.Instr)
						break
					}
				}
			}
		}
	},
}

func ownerOf(p *PathPerm) string {
	if p == nil {
		return "root"
	}
	if p.owner == nil {
		return "root"
	}
	o := p.owner
	if o.Kind == KindRoot || o.Value == "" && o.UID == nil {
		return "root"
	}
	return o.Describe()
}

// NR107: create the path owned by the runtime user, group 0, before USER.
func planNR107(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr107Data)
	m := ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || d.Stage.Model() != m || d.Stage.Scratch {
		return nil
	}
	u := d.User
	if u.Instr == nil || u.Instr.Stage != d.Stage {
		return nil // the user comes from elsewhere: no place before it in this stage
	}
	owner := u.Name
	if u.UID != nil {
		owner = strconv.Itoa(*u.UID)
	}
	if owner == "" || strings.ContainsAny(d.Path, " \t'\"$") {
		return nil
	}
	p := d.Path
	line := fmt.Sprintf("RUN mkdir -p %s && chown %s:0 %s && chmod g=u %s", p, owner, p, p)
	before := u.Instr
	if in := d.Instr; in != nil && in.Cmd == "volume" && in.Stage == before.Stage && in.Index < before.Index {
		before = in // prepare the path before it is declared a volume
	}
	return diagnostics.Single(fmt.Sprintf("Create %s owned by %s:0 before USER", p, owner), f.File, true, before.InsertBefore(line))
}
