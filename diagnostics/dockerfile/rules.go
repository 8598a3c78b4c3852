package dockerfile

import (
	"fmt"
	"path"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

var targetResolver func(s *diagnostics.Snapshot, path string) string

// SetTargetResolver sets the function that names the build target of a Dockerfile (from a
// compose, bake or skaffold file that builds it); "" means the last stage. The workspace
// graph registers it.
func SetTargetResolver(fn func(s *diagnostics.Snapshot, path string) string) { targetResolver = fn }

// TargetFor returns the build target of the Dockerfile at path ("" for the last stage).
func TargetFor(s *diagnostics.Snapshot, path string) string {
	if targetResolver == nil || s == nil {
		return ""
	}
	return targetResolver(s, path)
}

// BuiltStage returns the model and the stage that is built for the Dockerfile f, or nil when
// the file cannot be judged by Linux rules (it does not parse, has no stage, or builds a
// Windows image).
func BuiltStage(s *diagnostics.Snapshot, f *diagnostics.File) (*Model, *Stage) {
	if f.Binary() {
		return nil, nil
	}
	m := Of(f)
	if m.Fatal {
		return nil, nil
	}
	st := m.Built(TargetFor(s, f.Path))
	if st == nil || st.Windows || st.User().Windows {
		return nil, nil
	}
	return m, st
}

// buildSet returns the stages that are built for st: itself, its parents and the stages it
// copies from (transitively), in file order.
func buildSet(st *Stage) []*Stage {
	seen := map[*Stage]bool{}
	var visit func(*Stage)
	visit = func(s *Stage) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		visit(s.Parent)
		for _, d := range s.DependsOn {
			visit(d)
		}
	}
	visit(st)
	var out []*Stage
	for _, s := range st.model.Stages {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out
}

// FixUser returns the identity a quick-fix writes: a non-root uid the Dockerfile already
// creates (the last one with an explicit uid), else the base image's known non-root user,
// else the configured default (10001:0). The gid is the configured one (0).
func FixUser(st *Stage, cfg *diagnostics.Config) (uid, gid int) {
	uid, gid = cfg.User()
	if st == nil {
		return uid, gid
	}
	created := st.CreatedUsers()
	for i := len(created) - 1; i >= 0; i-- {
		if c := created[i]; c.UID != nil && *c.UID > 0 {
			return *c.UID, gid
		}
	}
	root := st.Ancestry()[len(st.Ancestry())-1]
	if u := root.Initial; u.Source == SourceBase && u.NonRoot() && u.UID != nil && *u.UID > 0 {
		return *u.UID, gid
	}
	return uid, gid
}

var kinds = []diagnostics.FileKind{diagnostics.KindDockerfile}

func userFromFile(u User) bool {
	return (u.Source == SourceUSER || u.Source == SourceStage) && u.Instr != nil
}

// NR101Data is the payload of an NR101 finding.
type NR101Data struct{ Stage *Stage }

// NR101 — no USER.
var NR101 = &diagnostics.Rule{
	ID:       "NR101",
	Title:    "The image runs as root: no USER",
	Severity: diagnostics.SeverityError,
	Kinds:    kinds,
	FixTitle: "Add USER <uid>:0",
	Doc: diagnostics.Doc{
		Why:     "Without a USER instruction the container's process runs as root (uid 0) unless the base image sets another user. A process that escapes the container, or abuses a mounted volume or socket, does so as root.",
		Runtime: "Docker and containerd start the entrypoint as uid 0. On Kubernetes, a pod with `runAsNonRoot: true` and no `runAsUser` is refused with `container has runAsNonRoot and image will run as root` (CreateContainerConfigError); OpenShift's restricted-v2 SCC runs it with a random uid instead, and whatever expected root then fails.",
		Fix:     "Add `USER <uid>:0` (a numeric uid, group 0) to the built stage after the steps that need root, before ENTRYPOINT/CMD. Make the paths the app writes owned by that uid and group 0 (`chown <uid>:0`, `chmod g=u`).",
		Source:  "\"By default, Docker containers are run as root users.\" (Bitnami, Non-Root Containers); kubelet: `container has runAsNonRoot and image will run as root`.",
		Bad:     "FROM alpine:3.20\nCOPY app /usr/local/bin/app\nENTRYPOINT [\"app\"]\n",
		Good:    "FROM alpine:3.20\nCOPY app /usr/local/bin/app\nUSER 10001:0\nENTRYPOINT [\"app\"]\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
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
		pass.Report(diagnostics.Finding{Range: st.BaseRange, Message: msg, Data: &NR101Data{Stage: st}})
	},
}

// UserData is the payload of NR102/NR103/NR104/NR110 findings: the effective user and its stage.
type UserData struct {
	User  User
	Stage *Stage
}

// NR102 — USER root.
var NR102 = &diagnostics.Rule{
	ID:       "NR102",
	Title:    "The last USER is root",
	Severity: diagnostics.SeverityError,
	Kinds:    kinds,
	Hadolint: []string{"DL3002"},
	FixTitle: "Replace with a non-root uid",
	Doc: diagnostics.Doc{
		Why:     "The USER that is in force at the end of the built stage decides who the container runs as. `root`, `0`, `root:*`, `0:*` — or an ARG/ENV whose value is one of these — make it run as root.",
		Runtime: "The entrypoint runs as uid 0. Kubernetes with `runAsNonRoot: true` refuses the pod: `container has runAsNonRoot and image will run as root`.",
		Fix:     "Switch back to a non-root numeric user after the steps that need root: `USER 10001:0` (or the uid the Dockerfile creates).",
		Source:  "kubelet: `container has runAsNonRoot and image will run as root` (SPEC §6); hadolint DL3002: \"Last USER should not be root\".",
		Bad:     "FROM debian:bookworm-slim\nUSER root\nCMD [\"app\"]\n",
		Good:    "FROM debian:bookworm-slim\nUSER 10001:0\nCMD [\"app\"]\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		u := st.User()
		if !userFromFile(u) || u.Kind != KindRoot {
			return
		}
		how := ""
		if u.Raw != u.Value && u.Value != "" {
			how = fmt.Sprintf(" (%s resolves to %q)", u.Raw, u.Value)
		}
		pass.Report(diagnostics.Finding{Range: u.Range(), Data: &UserData{u, st},
			Message: fmt.Sprintf("USER %s%s runs the container as root (uid 0): with runAsNonRoot: true Kubernetes refuses it (\"container has runAsNonRoot and image will run as root\")", u.Raw, how)})
	},
}

// NR103 — USER is a name.
var NR103 = &diagnostics.Rule{
	ID:       "NR103",
	Title:    "USER is a name, not a number",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	Hadolint: []string{"DL3066"},
	FixTitle: "Use the numeric uid",
	Doc: diagnostics.Doc{
		Why:     "Kubernetes can only verify `runAsNonRoot` from the image when its user is numeric: it does not read the image's /etc/passwd. A name also breaks on images without that passwd entry.",
		Runtime: "With `runAsNonRoot: true` and no `runAsUser`, the kubelet refuses to start the container: `container has runAsNonRoot and image has non-numeric user (NAME), cannot verify user is non-root` (CreateContainerConfigError).",
		Fix:     "Write the uid the Dockerfile gives the user (`USER 10001` or `USER 10001:0`); when `useradd`/`adduser` creates it without one, add `-u <uid>` so the number is fixed.",
		Source:  "kubelet: `container has runAsNonRoot and image has non-numeric user (NAME), cannot verify user is non-root` (SPEC §6).",
		Bad:     "FROM debian:bookworm-slim\nRUN useradd -u 10001 app\nUSER app\n",
		Good:    "FROM debian:bookworm-slim\nRUN useradd -u 10001 app\nUSER 10001\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		u := st.User()
		if !userFromFile(u) || u.Kind != KindNamed {
			return
		}
		known := ""
		if u.UID != nil {
			known = fmt.Sprintf("; its uid is %d", *u.UID)
		}
		pass.Report(diagnostics.Finding{Range: u.UserPartRange(), Data: &UserData{u, st},
			Message: fmt.Sprintf("USER %s is a name, not a number%s: with runAsNonRoot: true the kubelet refuses to start the container (\"image has non-numeric user (%s), cannot verify user is non-root\")", u.Name, known, u.Name)})
	},
}

// NR104 — system or nobody uid.
var NR104 = &diagnostics.Rule{
	ID:       "NR104",
	Title:    "USER uid is a system uid or nobody",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	FixTitle: "Use the default uid",
	Doc: diagnostics.Doc{
		Why:     "uids 1–999 belong to system accounts (daemon, www-data, the package's own users) and 65534/65535 are nobody/nfsnobody, shared by every service that runs as nobody and the uid NFS maps unknown users to.",
		Runtime: "The container shares its identity with system services on the host and in other containers: files they own are writable by it and the other way round; on NFS volumes its files are indistinguishable from squashed root.",
		Fix:     "Use a uid of 10000 or more that nothing else uses, e.g. `USER 10001:0`.",
		Source:  "\"The user ID you select can be any number equal or greater than 1000 ... Do not use user ID 65535, which is the nobody user. This user is reserved for nfs.\" (Friends don't let friends run containers as root)",
		Bad:     "FROM alpine:3.20\nUSER 100\n",
		Good:    "FROM alpine:3.20\nUSER 10001\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
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
		pass.Report(diagnostics.Finding{Range: u.UserPartRange(), Data: &UserData{u, st}, Message: why})
	},
}

// NR105Data is the payload of an NR105 finding.
type NR105Data struct {
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
				pass.Report(diagnostics.Finding{Range: h.c.NameRange(), Data: &NR105Data{User: ui, Run: h.r.Instr, Last: lastFor[ui]},
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

// NR106Data is the payload of an NR106 finding.
type NR106Data struct {
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
	Doc: diagnostics.Doc{
		Why:     "Image layers are copies: changing the owner or mode of files that an earlier COPY/ADD added stores every such file a second time, in the RUN's layer.",
		Runtime: "The image is larger (by the size of the files changed) and slower to pull; the running container is the same.",
		Fix:     "Set the owner and mode in the COPY itself: `COPY --chown=10001:0 --chmod=0755 app /app`, and drop the RUN (or the path from it).",
		Source:  "\"note that running `chown` or `chmod` will double the size of the `/usr/local/bin/app` if you run it in a different layer in the final image.\" (Docker without root)",
		Bad:     "FROM alpine:3.20\nCOPY app /app\nRUN chown -R 10001:0 /app\n",
		Good:    "FROM alpine:3.20\nCOPY --chown=10001:0 app /app\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		for _, s := range buildSet(st) {
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
					pass.Report(diagnostics.Finding{Range: c.Range(), Data: &NR106Data{Run: r, Cmd: c, Copies: copies, Exact: exact},
						Message: fmt.Sprintf("`%s` changes files that %s added: they are stored twice, in the COPY's layer and again in this RUN's layer", c.Name, strings.Join(lines, " and "))})
				}
			}
		}
	},
}

// NR107Data is the payload of an NR107 finding.
type NR107Data struct {
	Path  string
	User  User
	Stage *Stage
	Instr *Instruction // the VOLUME, RUN mkdir or install that names the path
}

var dataDirs = []string{"/data", "/var/lib", "/var/log", "/var/cache", "/var/run", "/run", "/srv", "/home"}

// NR107 — a path the container writes is not writable.
var NR107 = &diagnostics.Rule{
	ID:       "NR107",
	Title:    "A path the container writes is not writable by its user",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	FixTitle: "Create it owned by the runtime user, group 0",
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
			pass.Report(diagnostics.Finding{Range: rg, Message: msg, Data: &NR107Data{Path: p, User: u, Stage: st, Instr: in}})
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
				for _, d := range dataDirs {
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

// NR108 — privileged port.
var NR108 = &diagnostics.Rule{
	ID:         "NR108",
	Title:      "EXPOSE of a privileged port (< 1024) while running as non-root",
	Severity:   diagnostics.SeverityInfo,
	SeverityIn: map[diagnostics.Profile]diagnostics.Severity{diagnostics.ProfileOpenShift: diagnostics.SeverityWarning},
	Kinds:      kinds,
	Doc: diagnostics.Doc{
		Why:     "Binding a port below 1024 needs CAP_NET_BIND_SERVICE unless the runtime lowers `net.ipv4.ip_unprivileged_port_start`.",
		Runtime: "Docker ≥ 20.10 and containerd ≥ 2.0 set `net.ipv4.ip_unprivileged_port_start=0`, so the bind works there. CRI-O (OpenShift) and older runtimes do not: the server fails with `bind: permission denied`.",
		Fix:     "Listen on a port ≥ 1024 (8080, 8443) and map it in the Service; or `setcap cap_net_bind_service=+ep` on the binary and add NET_BIND_SERVICE to the container's capabilities; or set the sysctl in the pod.",
		Source:  "\"Do not make your application listen on any of the privileged port ... Otherwise it will fail binding its port by default since your container will running without root.\" (Docker without root)",
		Bad:     "FROM nginx:1.27\nUSER 101\nEXPOSE 80\n",
		Good:    "FROM nginx:1.27\nUSER 101\nEXPOSE 8080\n",
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
		for _, s := range st.model.Stages {
			for _, sc := range s.Setcaps {
				if strings.Contains(strings.ToLower(sc.Caps), "cap_net_bind_service") {
					return
				}
			}
		}
		for _, s := range reverse(st.Ancestry()) {
			for _, p := range s.Ports {
				if p.Number > 0 && p.Number < 1024 {
					pass.Reportf(p.Range, "EXPOSE %s: %s cannot bind a port below 1024 without CAP_NET_BIND_SERVICE; it works on Docker ≥ 20.10 and containerd ≥ 2.0 (ip_unprivileged_port_start=0) but fails with \"permission denied\" on CRI-O/OpenShift", p.Value, u.Describe())
				}
			}
		}
	},
}

// NR109Data is the payload of an NR109 finding.
type NR109Data struct{ Drops []PrivilegeDrop }

// NR109 — the entrypoint drops privileges at runtime.
var NR109 = &diagnostics.Rule{
	ID:       "NR109",
	Title:    "The entrypoint switches user or chowns at runtime: it must start as root",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	Doc: diagnostics.Doc{
		Why:     "An entrypoint that steps down with gosu, su-exec, setpriv, runuser, su or `chroot --userspec`, or chowns files at start, only works when the container starts as root.",
		Runtime: "Started as non-root (USER, `runAsUser`, OpenShift's random uid) the step-down fails with `operation not permitted` or is skipped, and the runtime chown fails with `Operation not permitted`. Kubernetes' restricted Pod Security Standard and OpenShift's restricted-v2 therefore cannot run the image as it is meant to run.",
		Fix:     "Prepare ownership at build time (`COPY --chown`, `chown <uid>:0` + `chmod g=u` before USER), set a numeric USER, and make the entrypoint work without the step-down when it is not root; use `fsGroup` for volumes.",
		Source:  "\"The approach I've come to like is where the entire image is built as root, and the chmod only occurs as a final step inside entrypoint.sh ... Gosu is a non-forking version of sudo\" (Mastering Docker: Running Containers as Non-Root Users); kubelet: `container has runAsNonRoot and image will run as root`.",
		Bad:     "FROM debian:bookworm-slim\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\"]\n# entrypoint.sh: chown -R app /data; exec gosu app \"$@\"\n",
		Good:    "FROM debian:bookworm-slim\nRUN mkdir -p /data && chown 10001:0 /data && chmod g=u /data\nUSER 10001:0\nENTRYPOINT [\"/app\"]\n",
	},
	Run: func(pass *diagnostics.Pass) {
		m, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		drops := m.PrivilegeDrops(pass.Snapshot, st)
		byTool := map[string][]PrivilegeDrop{}
		var order []string
		for _, d := range drops {
			if byTool[d.Tool] == nil {
				order = append(order, d.Tool)
			}
			byTool[d.Tool] = append(byTool[d.Tool], d)
		}
		for _, tool := range order {
			ds := byTool[tool]
			d := ds[0]
			rng := d.Range
			where := fmt.Sprintf("line %d", d.Line+1)
			if d.File != m.Path {
				rng = d.Instr.ArgsRange()
				where = fmt.Sprintf("%s line %d", baseName(d.File), d.Line+1)
			}
			var related []diagnostics.Related
			for _, x := range ds {
				related = append(related, diagnostics.Related{File: x.File, Range: x.Range, Message: x.Tool + ": " + x.Text})
			}
			var msg string
			if tool == "chown" || tool == "chgrp" {
				msg = fmt.Sprintf("the entrypoint runs `%s` at startup (%s): only root may change ownership, so the container must start as root; started as non-root it fails with \"Operation not permitted\"", tool, where)
			} else {
				msg = fmt.Sprintf("the entrypoint switches user at runtime with %s (%s): it must start as root, so runAsNonRoot, a non-root USER or OpenShift's random uid break it (\"operation not permitted\")", tool, where)
			}
			pass.Report(diagnostics.Finding{Range: rng, Message: msg, Related: related, Data: &NR109Data{Drops: ds}})
		}
	},
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// NR110 — FROM scratch with a named USER.
var NR110 = &diagnostics.Rule{
	ID:       "NR110",
	Title:    "Named USER in an image built FROM scratch",
	Severity: diagnostics.SeverityError,
	Kinds:    kinds,
	FixTitle: "Use the numeric uid",
	Doc: diagnostics.Doc{
		Why:     "An image built FROM scratch has no /etc/passwd, so the runtime cannot turn a user name into a uid.",
		Runtime: "The container fails to start: `unable to find user app: no matching entries in passwd file`.",
		Fix:     "Use a numeric uid (`USER 10001:0`), or copy an /etc/passwd that defines the name from a builder stage.",
		Source:  "\"you can specify a user ID for example with: USER 1000. This is especially useful for images without an OS such as scratch.\" (Docker without root)",
		Bad:     "FROM scratch\nCOPY app /app\nUSER app\nENTRYPOINT [\"/app\"]\n",
		Good:    "FROM scratch\nCOPY app /app\nUSER 10001:0\nENTRYPOINT [\"/app\"]\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil || !st.Scratch {
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
		pass.Report(diagnostics.Finding{Range: u.UserPartRange(), Data: &UserData{u, st},
			Message: fmt.Sprintf("USER %s in an image built FROM scratch: there is no /etc/passwd, so the container fails to start (\"unable to find user %s: no matching entries in passwd file\")", name, name)})
	},
}

// NR111 — sudo in RUN.
var NR111 = &diagnostics.Rule{
	ID:       "NR111",
	Title:    "sudo in RUN",
	Severity: diagnostics.SeverityWarning,
	Kinds:    kinds,
	Hadolint: []string{"DL3004"},
	FixTitle: "Remove sudo",
	Doc: diagnostics.Doc{
		Why:     "RUN already runs as root before USER; after a non-root USER, sudo needs to be installed and configured without a password, which leaves a root escalation path in the image.",
		Runtime: "Without sudo in the image the build fails with `sudo: not found`; with it, it may hang waiting for a password or fail with `no tty present`. A sudo-enabled runtime user can become root in the container.",
		Fix:     "Remove sudo and run the step before USER (as root).",
		Source:  "hadolint DL3004: \"Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root\".",
		Bad:     "FROM debian:bookworm-slim\nRUN sudo apt-get update\n",
		Good:    "FROM debian:bookworm-slim\nRUN apt-get update\n",
	},
	Run: func(pass *diagnostics.Pass) {
		_, st := BuiltStage(pass.Snapshot, pass.File)
		if st == nil {
			return
		}
		for _, s := range buildSet(st) {
			for _, r := range s.Runs {
				for _, c := range r.Commands {
					if !c.Sudo {
						continue
					}
					lines := r.Stage.model.lines
					rg := lines.RangeOf(c.SudoStart, c.SudoStart+len("sudo"))
					as := "as root already: sudo is not needed"
					if r.User().NonRoot() {
						as = fmt.Sprintf("as %s: sudo must be installed and passwordless for this to work, and it leaves a way back to root", r.User().Describe())
					}
					pass.Report(diagnostics.Finding{Range: rg, Data: c,
						Message: fmt.Sprintf("sudo %s: this RUN runs %s", c.Name, as)})
				}
			}
		}
	},
}

func init() {
	diagnostics.Register(NR101, NR102, NR103, NR104, NR105, NR106, NR107, NR108, NR109, NR110, NR111)
	diagnostics.RegisterParseCheck(diagnostics.KindDockerfile, func(s *diagnostics.Snapshot, f *diagnostics.File) []diagnostics.Problem {
		return Of(f).Problems
	})
	diagnostics.RegisterHover(diagnostics.KindDockerfile, hover)
	diagnostics.RegisterInspect(diagnostics.KindDockerfile, func(s *diagnostics.Snapshot, f *diagnostics.File) any {
		return InspectOf(s, f, TargetFor(s, f.Path))
	})
}
