package dockerfile

import (
	"context"
	"fmt"
	"path"
	"slices"
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
		Why:     "Every RUN after a USER runs as that user. Package managers, useradd/groupadd, chown, setcap, update-ca-certificates, writes under /etc, /usr, /var/lib or /opt (`ln -s … /usr/local/bin`), and language installers writing system directories — `pip install` without `--user` or a virtualenv, `npm install -g`, `gem install` into a root-owned GEM_HOME, `go install` with GOBIN under /usr/local, `make install` to /usr/local — need root.",
		Runtime: "The build fails: `E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)`, `ERROR: Unable to lock database: Permission denied`, `chown: changing ownership: Operation not permitted`.",
		Fix:     "Do the root steps first and put USER after them, just before ENTRYPOINT/CMD. An `ONBUILD RUN` runs in the images built FROM this one, as its final user wherever the USER is: do the step in those images before their USER, or not as a trigger.",
		Source:  "\"You should have your `USER` instruction at the end since it will prevent you from running commands requiring `root` such as package manager instructions.\" (Docker without root)",
		Bad:     "FROM debian:bookworm-slim\nUSER 10001\nRUN apt-get update && apt-get install -y curl\n",
		Good:    "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nUSER 10001\n",
	},
	Run: JudgeBuilt(func(pass *diagnostics.Pass, st *Stage) {
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
			for _, r := range s.RunsAndTriggers() {
				if !r.User().NonRoot() || !userFromFile(r.User()) {
					continue
				}
				for _, c := range r.Commands {
					if reason := NeedsRoot(r, c); reason != "" {
						hits = append(hits, hit{r, c, reason})
						if !r.Onbuild {
							lastFor[r.User().Instr] = r.Instr
						}
					}
				}
			}
			for _, h := range hits {
				ui := h.r.User().Instr
				outcome := "the build fails with \"permission denied\""
				if _, pip := pipArgs(h.c); pip {
					outcome = "pip fails with \"Permission denied\", or with a writable home falls back to installing into the user's ~/.local"
				}
				f := diagnostics.Finding{Range: h.c.NameRange(), Message: fmt.Sprintf("%s, but this RUN runs as %s (USER on line %d): %s", h.reason, h.r.User().Describe(), ui.Line()+1, outcome), Data: &nr105Data{User: ui, Run: h.r.Instr, Last: lastFor[ui]}}
				if h.r.Onbuild {
					// It runs as the final user wherever the USER is: moving it does not help.
					f.Data = nil
					f.Message = fmt.Sprintf("%s, but this ONBUILD RUN runs in every image built FROM stage %s, as its final user %s (USER on line %d): %s", h.reason, s.Label(), h.r.User().Describe(), ui.Line()+1, outcome)
				}
				pass.Report(f)
			}
		}
	}),
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
	case "update-ca-certificates", "update-ca-trust":
		return "`" + c.Name + "` rewrites the system's certificate store under /etc, which only root may write"
	}
	if reason := installNeedsRoot(r, c); reason != "" {
		return reason
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
		if r.Stage.writable(r.User(), p) || r.Stage.writable(r.User(), path.Dir(p)) {
			return ""
		}
		return "writes " + p + ", which only root may write"
	}
	return ""
}

// systemDirs are where only root may write in an image (unless the build hands them over).
var systemDirs = []string{"/usr", "/etc", "/opt", "/var/lib", "/bin", "/sbin", "/lib"}

// installNeedsRoot says why a language package manager or `make install` writes where only
// root may ("" when it does not, as far as can be told): `pip install` into the system's
// site-packages (no --user, --target, --prefix, virtualenv), `npm install -g` into
// /usr/local, `gem install` into the system's gem directory (no --user-install, or a GEM_HOME
// the user may write), `go install` with GOBIN or GOPATH under a system directory, and
// `make install` to its default prefix /usr/local (no PREFIX= or DESTDIR= elsewhere).
func installNeedsRoot(r *Run, c *Command) string {
	u, st := r.User(), r.Stage
	name, args := c.Name, c.Args
	if a, ok := pipArgs(c); ok {
		name, args = "pip", a
	} else if !slices.Contains([]string{"npm", "gem", "go", "make", "gmake"}, name) {
		return ""
	}
	_, pos := parseOpts(args, "")
	sub := ""
	if len(pos) > 0 {
		sub = pos[0].Value
	}
	has := func(flags ...string) bool {
		return slices.ContainsFunc(args, func(a Arg) bool {
			return slices.ContainsFunc(flags, func(f string) bool { return a.Value == f || strings.HasPrefix(a.Value, f+"=") })
		})
	}
	set := func(keys ...string) bool {
		return slices.ContainsFunc(keys, func(k string) bool { v, ok := r.Getenv(c, k); return ok && v != "" })
	}
	switch {
	case isPip(name):
		// A pip run by path, after a virtualenv's activate script, or with a PATH or
		// VIRTUAL_ENV the Dockerfile sets, may be a virtualenv's (whose owner the model
		// does not follow).
		if sub != "install" || has("--user", "-t", "--target", "--prefix", "--root", "--dry-run") ||
			set("PIP_USER", "PIP_TARGET", "PIP_PREFIX", "VIRTUAL_ENV", "CONDA_PREFIX") ||
			strings.Contains(c.Word, "/") && !systemBin(path.Dir(c.Word)) || !systemPATH(c, r) || r.virtualenvBefore(c) {
			return ""
		}
		return "`pip install` (no --user, no virtualenv) writes the system's site-packages, which only root may write"
	case name == "npm":
		if !has("-g", "--global", "--location=global") && !set("npm_config_global", "NPM_CONFIG_GLOBAL") ||
			!slices.Contains([]string{"install", "i", "add", "update", "up", "uninstall", "rm", "link"}, sub) ||
			has("--prefix") || set("NPM_CONFIG_PREFIX", "npm_config_prefix") || st.writable(u, "/usr/local/lib/node_modules") {
			return ""
		}
		return "`npm " + sub + " -g` writes /usr/local/lib/node_modules, which only root may write"
	case name == "gem":
		if sub != "install" && sub != "update" || has("--user-install", "-i", "--install-dir") {
			return ""
		}
		home, ok := r.Getenv(c, "GEM_HOME")
		if !ok {
			if home = "/usr/local/bundle"; !st.writable(u, home) {
				home = "/var/lib/gems" // the distribution's gem directory
			}
		}
		if !underAny(home, systemDirs) || st.writable(u, home) {
			return ""
		}
		return "`gem " + sub + "` writes " + home + ", which only root may write"
	case name == "go":
		dest, _ := r.Getenv(c, "GOBIN")
		if gopath, _ := r.Getenv(c, "GOPATH"); dest == "" && !strings.Contains(gopath, ":") && gopath != "" {
			dest = gopath + "/bin"
		}
		// Without GOBIN or GOPATH: $HOME/go/bin, or the base image's GOPATH (/go, 1777).
		if sub != "install" || !underAny(dest, systemDirs) || st.writable(u, dest) {
			return ""
		}
		return "`go install` writes " + dest + ", which only root may write"
	case name == "make" || name == "gmake":
		if !slices.ContainsFunc(pos, func(a Arg) bool { return a.Value == "install" }) {
			return ""
		}
		prefix, destdir := "/usr/local", ""
		if v, ok := r.Getenv(c, "PREFIX"); ok {
			prefix = v
		}
		destdir, _ = r.Getenv(c, "DESTDIR")
		for _, a := range pos {
			k, v, ok := strings.Cut(a.Value, "=")
			switch {
			case !ok:
			case !a.OK:
				return ""
			case k == "PREFIX" || k == "prefix":
				prefix = v
			case k == "DESTDIR":
				destdir = v
			}
		}
		dest := path.Join("/", destdir, prefix)
		if destdir != "" && !strings.HasPrefix(destdir, "/") || !underAny(dest, systemDirs) || st.writable(u, dest) {
			return ""
		}
		return "`make install` installs into " + dest + ", which only root may write"
	}
	return ""
}

// virtualenvBefore reports whether the RUN creates or activates a virtualenv before command c
// (`python -m venv`, `virtualenv`, `. venv/bin/activate`): a pip after it is the venv's.
func (r *Run) virtualenvBefore(c *Command) bool {
	for _, p := range r.Commands {
		if p == c {
			return false
		}
		switch {
		case p.Name == "virtualenv",
			(p.Name == "." || p.Name == "source") && len(p.Args) > 0 && strings.Contains(p.Args[0].Value, "activate"),
			isPython(p.Name) && len(p.Args) >= 2 && p.Args[0].Value == "-m" && (p.Args[1].Value == "venv" || p.Args[1].Value == "virtualenv"):
			return true
		}
	}
	return false
}

// pipArgs returns the arguments of a pip command (pip, pip3, python3 -m pip), or false.
func pipArgs(c *Command) ([]Arg, bool) {
	switch {
	case isPip(c.Name):
		return c.Args, true
	case isPython(c.Name) && len(c.Args) >= 2 && c.Args[0].Value == "-m" && isPip(c.Args[1].Value):
		return c.Args[2:], true
	}
	return nil, false
}

func isPip(name string) bool {
	return name == "pip" || strings.HasPrefix(name, "pip") && strings.Trim(name[3:], "0123456789.") == ""
}

func isPython(name string) bool {
	return name == "python" || strings.HasPrefix(name, "python") && strings.Trim(name[6:], "0123456789.") == ""
}

func systemBin(dir string) bool {
	return slices.Contains([]string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}, dir)
}

// systemPATH reports whether the PATH the command sees, when the Dockerfile sets it, holds
// only the system's bin directories (no virtualenv's bin ahead of them).
func systemPATH(c *Command, r *Run) bool {
	v, ok := r.Getenv(c, "PATH")
	if !ok {
		return true
	}
	for _, d := range strings.Split(v, ":") {
		if d != "" && !systemBin(strings.TrimSuffix(d, "/")) {
			return false
		}
	}
	return true
}

func underAny(p string, dirs []string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	p = cleanPath(p)
	for _, d := range dirs {
		if under(p, d) {
			return true
		}
	}
	return false
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
