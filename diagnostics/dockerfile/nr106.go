package dockerfile

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// nr106Data is the payload of an NR106 finding.
type nr106Data struct {
	Run    *Run
	Cmd    *Command
	Copies []*Copy
	// Exact is true when every path of the command is a COPY destination (or inside one), so
	// the command can be replaced by --chown/--chmod on the COPY.
	Exact bool
}

// NR106 — chown/chmod after COPY.
var NR106 = &diagnostics.Rule{
	ID:       "NR106",
	Title:    "RUN chown/chmod on files an earlier COPY added",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	FixTitle: "Use COPY --chown/--chmod instead",
	Fix:      planNR106,
	Doc: diagnostics.Doc{
		Why:     "Image layers are copies: changing the owner or mode of files that an earlier COPY/ADD added stores every such file a second time, in the RUN's layer. Only the built stage and the stages it is FROM are judged: a builder stage's layers do not reach the image.",
		Runtime: "The image is larger (by the size of the files changed) and slower to pull; the running container is the same.",
		Fix:     "Set the owner and mode in the COPY itself: `COPY --chown=10001:0 --chmod=0755 app /app`, and drop the RUN (or the path from it).",
		Source:  "\"note that running `chown` or `chmod` will double the size of the `/usr/local/bin/app` if you run it in a different layer in the final image.\" (Docker without root)",
		Bad:     "FROM alpine:3.20\nCOPY app /app\nRUN chown -R 10001:0 /app\n",
		Good:    "FROM alpine:3.20\nCOPY --chown=10001:0 app /app\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
		// Only the layers of the built stage and its FROM parents reach the image: a builder
		// stage's layers are not stored in it, so nothing is stored twice there.
		for _, s := range st.Ancestry() {
			for _, r := range s.Runs {
				for _, c := range r.Commands {
					if c.Name != "chown" && c.Name != "chmod" {
						continue
					}
					opts, pos := parseOpts(c.Args, "", "reference", "from")
					if len(pos) < 2 || opts.get("reference") != "" {
						continue
					}
					recursive := opts.get("R") != "" || opts.get("recursive") != ""
					var copies []*Copy
					exact := true
					for _, a := range pos[1:] {
						if !a.OK {
							exact = false
							continue
						}
						p := joinPath(r.Workdir, a.Value)
						var hit *Copy
						for _, cp := range s.Copies {
							if cp.Instr.Index > r.Instr.Index {
								break
							}
							dest := strings.TrimSuffix(cp.Dest, "/")
							if dest == "" {
								dest = "/"
							}
							switch {
							case p == dest || under(p, dest) && dest != "/":
								hit = cp
							case recursive && under(dest, p) && p != "/":
								hit = cp
								exact = false
							}
						}
						if hit == nil {
							exact = false
							continue
						}
						if len(copies) == 0 || copies[len(copies)-1] != hit {
							copies = append(copies, hit)
						}
					}
					if len(copies) == 0 {
						continue
					}
					var lines []string
					for _, cp := range copies {
						lines = append(lines, fmt.Sprintf("%s on line %d", strings.ToUpper(cp.Instr.Cmd), cp.Instr.Line()+1))
					}
					pass.Report(diagnostics.Finding{Range: c.Range(), Data: &nr106Data{Run: r, Cmd: c, Copies: copies, Exact: exact},
						Message: fmt.Sprintf("`%s` changes files that %s added: they are stored twice, in the COPY's layer and again in this RUN's layer", c.Name, strings.Join(lines, " and "))})
				}
			}
		}
	}),
}

// NR106: put --chown/--chmod on the COPY and drop the command from the RUN.
func planNR106(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr106Data)
	m := ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || !d.Exact || d.Run.Stage.Model() != m {
		return nil
	}
	c := d.Cmd
	var pos []Arg
	for _, a := range c.Args {
		if !strings.HasPrefix(a.Value, "-") {
			pos = append(pos, a)
		}
	}
	if len(pos) < 2 || !pos[0].OK {
		return nil
	}
	spec := pos[0].Value
	flag := "--chown"
	if c.Name == "chmod" {
		flag = "--chmod"
		if _, err := strconv.ParseUint(spec, 8, 32); err != nil {
			return nil // COPY --chmod takes octal modes
		}
	} else if strings.ContainsAny(spec, " \t'\"") {
		return nil
	}
	lines := m.Lines()
	var edits []text.Edit
	for _, cp := range d.Copies {
		in := cp.Instr
		if in.Stage != d.Run.Stage {
			return nil
		}
		edits = append(edits, in.SetFlag(flag, spec))
	}
	switch {
	case d.Run.Single && !d.Run.Instr.hasCommentLines():
		edits = append(edits, d.Run.Instr.Delete())
	case c.RemoveEnd > c.RemoveStart:
		edits = append(edits, text.Edit{Range: lines.RangeOf(c.RemoveStart, c.RemoveEnd)})
	default:
		return nil
	}
	return diagnostics.Single(fmt.Sprintf("Use COPY %s=%s and drop the %s", flag, spec, c.Name), f.File, true, edits...)
}
