package dockerfile

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// nr105Data is the payload of an NR105 finding.
type nr105Data struct {
	User *Instruction // the USER instruction to move
	Run  *Instruction // the RUN that needs root
	Last *Instruction // the last RUN needing root after that USER (where to move it)
}

// NR105 — RUN needs root after a non-root USER.
var NR105 = &diagnostics.Rule{
	ID:       "NR105",
	Title:    "RUN needs root after a non-root USER",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	FixTitle: "Move the USER after this RUN",
	Fix:      planNR105,
	Doc: diagnostics.Doc{
		Why:     "Every RUN after a USER runs as that user. Package managers, useradd/groupadd, chown, setcap and writes under /etc, /usr, /var/lib or /opt need root.",
		Runtime: "The build fails: `E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)`, `ERROR: Unable to lock database: Permission denied`, `chown: changing ownership: Operation not permitted`.",
		Fix:     "Do the root steps first and put USER after them, just before ENTRYPOINT/CMD.",
		Source:  "\"You should have your `USER` instruction at the end since it will prevent you from running commands requiring `root` such as package manager instructions.\" (Docker without root)",
		Bad:     "FROM debian:bookworm-slim\nUSER 10001\nRUN apt-get update && apt-get install -y curl\n",
		Good:    "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nUSER 10001\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		for _, s := range buildSet(st) {
			if s.Windows {
				continue
			}
			// The last RUN needing root after each USER, for the fix.
			type hit struct {
				r      *Run
				c      *Command
				reason string
			}
			var hits []hit
			lastFor := map[*Instruction]*Instruction{}
			for _, r := range s.Runs {
				if !r.User().NonRoot() || !userFromFile(r.User()) {
					continue
				}
				for _, c := range r.Commands {
					if reason := NeedsRoot(r, c); reason != "" {
						hits = append(hits, hit{r, c, reason})
						lastFor[r.User().Instr] = r.Instr
					}
				}
			}
			for _, h := range hits {
				ui := h.r.User().Instr
				pass.Report(diagnostics.Finding{Range: h.c.NameRange(), Data: &nr105Data{User: ui, Run: h.r.Instr, Last: lastFor[ui]},
					Message: fmt.Sprintf("%s, but this RUN runs as %s (USER on line %d): the build fails with \"permission denied\"", h.reason, h.r.User().Describe(), ui.Line()+1)})
			}
		}
	},
}

var packageManagers = map[string][]string{
	"apt-get":  {"install", "update", "upgrade", "dist-upgrade", "remove", "purge", "autoremove", "clean", "autoclean", "build-dep"},
	"apt":      {"install", "update", "upgrade", "full-upgrade", "remove", "purge", "autoremove", "clean", "reinstall"},
	"aptitude": {"install", "update", "upgrade", "remove", "purge"},
	"apk":      {"add", "del", "update", "upgrade", "fix"},
	"yum":      {"install", "update", "upgrade", "remove", "erase", "reinstall", "clean", "makecache", "groupinstall", "localinstall", "module"},
	"dnf":      {"install", "update", "upgrade", "remove", "erase", "reinstall", "clean", "makecache", "groupinstall", "module", "distro-sync"},
	"microdnf": {"install", "update", "upgrade", "remove", "reinstall", "clean", "makecache", "module"},
	"tdnf":     {"install", "update", "upgrade", "remove", "erase", "reinstall", "clean", "makecache"},
	"zypper":   {"install", "in", "update", "up", "remove", "rm", "refresh", "ref", "dist-upgrade", "dup", "patch", "clean"},
}

// NeedsRoot says why command c of RUN r needs root ("" when it does not, as far as can be told).
func NeedsRoot(r *Run, c *Command) string {
	if sub, ok := packageManagers[c.Name]; ok {
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "-") {
				continue
			}
			for _, s := range sub {
				if a.Value == s {
					return fmt.Sprintf("`%s %s` needs root", c.Name, s)
				}
			}
			break
		}
		return ""
	}
	switch c.Name {
	case "dpkg":
		for _, a := range c.Args {
			switch a.Value {
			case "-i", "--install", "-r", "--remove", "-P", "--purge", "--configure", "--unpack":
				return "`dpkg " + a.Value + "` needs root"
			}
		}
		return ""
	case "rpm":
		for _, a := range c.Args {
			if v := a.Value; strings.HasPrefix(v, "-i") || strings.HasPrefix(v, "-U") || strings.HasPrefix(v, "-e") || strings.HasPrefix(v, "-F") || v == "--install" || v == "--upgrade" || v == "--erase" || v == "--import" {
				return "`rpm " + v + "` needs root"
			}
		}
		return ""
	case "pacman":
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "-S") || strings.HasPrefix(a.Value, "-U") || strings.HasPrefix(a.Value, "-R") {
				return "`pacman " + a.Value + "` needs root"
			}
		}
		return ""
	case "install_packages", "apt-install", "xbps-install":
		return "`" + c.Name + "` (package installation) needs root"
	case "useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod", "userdel", "groupdel", "chpasswd":
		return "`" + c.Name + "` (user and group management) needs root"
	case "chown":
		return "`chown` needs root"
	case "setcap":
		return "`setcap` needs root"
	}
	// Writes under system paths.
	var targets []Arg
	switch c.Name {
	case "mkdir", "touch", "rm", "rmdir", "tee":
		_, pos := parseOpts(c.Args, "m")
		targets = pos
	case "cp", "mv", "ln", "install":
		_, pos := parseOpts(c.Args, "tSogm")
		if len(pos) >= 2 {
			targets = pos[len(pos)-1:]
		}
	case "sed":
		opts, pos := parseOpts(c.Args, "ef")
		if opts.get("i") != "" || opts.get("in-place") != "" {
			if opts.get("e") == "" && opts.get("f") == "" && len(pos) > 0 {
				pos = pos[1:]
			}
			targets = pos
		}
	}
	for _, t := range targets {
		if reason := systemWrite(r, t); reason != "" {
			return fmt.Sprintf("`%s` %s", c.Name, reason)
		}
	}
	return ""
}

// systemWrite says why writing path a needs root ("" when it does not, as far as can be told).
func systemWrite(r *Run, a Arg) string {
	if !a.OK {
		return ""
	}
	p := joinPath(r.Workdir, a.Value)
	for _, dir := range []string{"/etc", "/usr", "/var/lib", "/opt"} {
		if !under(p, dir) {
			continue
		}
		if acc, _ := r.Stage.WriteAccess(r.User(), p); acc == AccessWritable {
			return ""
		}
		if acc, _ := r.Stage.WriteAccess(r.User(), path.Dir(p)); acc == AccessWritable {
			return ""
		}
		return "writes " + p + ", which only root may write"
	}
	return ""
}

// NR105: move the USER after the last RUN that needs root.
func planNR105(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr105Data)
	m := ModelFor(s, f.File)
	ok2 := m != nil
	if !ok || !ok2 || d.User == nil || d.Last == nil || d.User.Stage != d.Last.Stage || d.User.Stage.Model() != m || d.User.Index > d.Last.Index {
		return nil
	}
	if d.User.Node.EndLine != d.User.Node.StartLine {
		return nil
	}
	lines := m.Lines()
	userLine := lines.Line(d.User.Line())
	edits := []text.Edit{d.User.Delete(), d.Last.InsertAfter(userLine)}
	return diagnostics.Single(fmt.Sprintf("Move USER after the RUN on line %d", d.Last.Node.EndLine), f.File, true, edits...)
}
