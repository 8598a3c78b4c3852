package dockerfile

import (
	"encoding/json"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// PrivilegeDrop is a place where the container, started as root, switches to another user
// at runtime (gosu, su-exec, setpriv, runuser, su, sudo, chroot --userspec) or changes
// ownership at runtime (chown): both need the container to start as root.
type PrivilegeDrop struct {
	Tool  string // gosu, su-exec, setpriv, runuser, su, sudo, chroot, chown
	File  string // the file holding it: the Dockerfile or the entrypoint script
	Range text.Range
	Line  int          // 0-based line in File
	Text  string       // the command as written (shortened)
	Instr *Instruction // the ENTRYPOINT or CMD that leads to it
	// Conditional is set when the script only runs it when started as root (see ScriptDrop):
	// started as another uid, the entrypoint goes on without it.
	Conditional bool
	// Env is set when the script only runs it when this environment variable is set (an
	// opt-in) and the image's ENV does not set it.
	Env string
}

// Mandatory reports whether the drop runs whoever starts the container: it needs root.
func (d PrivilegeDrop) Mandatory() bool { return !d.Conditional && d.Env == "" }

// dropTool returns the privilege-drop tool a command is, or "".
func dropTool(c *Command) string {
	switch c.Name {
	case "gosu", "su-exec", "runuser", "s6-setuidgid", "setuidgid":
		return c.Name
	case "chpst":
		for _, a := range c.Args {
			if a.Value == "-u" || strings.HasPrefix(a.Value, "-u") {
				return "chpst"
			}
		}
	case "setpriv":
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "--reuid") || strings.HasPrefix(a.Value, "--regid") || strings.HasPrefix(a.Value, "--init-groups") {
				return "setpriv"
			}
		}
	case "su":
		if len(c.Args) > 0 {
			return "su"
		}
	case "sudo":
		return "sudo"
	case "chroot":
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "--userspec") {
				return "chroot"
			}
		}
	case "chown", "chgrp":
		return c.Name
	}
	if c.Sudo {
		return "sudo"
	}
	return ""
}

// commandWords returns the ENTRYPOINT/CMD words and whether it is the shell form.
func commandWords(in *Instruction) ([]string, bool) {
	if in == nil {
		return nil, false
	}
	switch p := in.Parsed.(type) {
	case *instructions.EntrypointCommand:
		return p.CmdLine, p.PrependShell
	case *instructions.CmdCommand:
		return p.CmdLine, p.PrependShell
	}
	return nil, false
}

type scriptKey struct{}

type scriptScan struct {
	cmds   []*Command
	err    string
	guards []guard // computed when a command is a drop
}

// PrivilegeDrops returns the privilege drops of the stage's ENTRYPOINT and CMD: in the
// instructions themselves and in the entrypoint script when it is COPY'd from the build
// context next to the Dockerfile (read through the snapshot, confined to the workspace).
func (m *Model) PrivilegeDrops(s *diagnostics.Snapshot, st *Stage) []PrivilegeDrop {
	if st == nil || st.Windows {
		return nil
	}
	var out []PrivilegeDrop
	seen := map[string]bool{}
	for _, in := range []*Instruction{entrypointOf(st), cmdOf(st)} {
		words, shellForm := commandWords(in)
		if in == nil || len(words) == 0 {
			continue
		}
		var cmds []*Command
		if shellForm {
			sc := in.scanShellForm()
			cmds = sc.cmds
		} else {
			args := make([]Arg, len(words))
			for i, rg := range in.tokenRanges(words) {
				args[i] = Arg{Value: words[i], OK: true, Start: m.lines.Offset(rg.Start), End: m.lines.Offset(rg.End)}
			}
			cmds = []*Command{{Name: path.Base(words[0]), Args: args[1:], Start: args[0].Start, End: args[len(args)-1].End,
				NameStart: args[0].Start, NameEnd: args[0].End, lines: m.lines, Line: in.Line()}}
		}
		for _, c := range cmds {
			if t := dropTool(c); t != "" && t != "chown" && t != "chgrp" {
				out = append(out, PrivilegeDrop{Tool: t, File: m.Path, Range: c.Range(), Line: c.Line, Text: shorten(c.String()), Instr: in})
			}
		}
		if s == nil {
			continue
		}
		for _, w := range words {
			src := m.scriptSource(st, w)
			if src == "" || seen[src] {
				continue
			}
			seen[src] = true
			f, err := s.File(src)
			if err != nil || f.Binary() {
				continue
			}
			scan := f.Memo(scriptKey{}, func() any {
				cmds, perr := ScanScript(f.Text)
				sc := &scriptScan{cmds: cmds, err: perr}
				for _, c := range cmds {
					if dropTool(c) != "" {
						sc.guards = scriptGuards(f.Text)
						break
					}
				}
				return sc
			}).(*scriptScan)
			for _, c := range scan.cmds {
				if t := dropTool(c); t != "" {
					d := PrivilegeDrop{Tool: t, File: f.Path, Range: c.Range(), Line: c.Line, Text: shorten(c.String()), Instr: in}
					d.Conditional, d.Env = guarded(scan.guards, c)
					if v, ok := st.RuntimeEnv(d.Env); ok && v != "" {
						d.Env = "" // the image sets the opt-in itself
					}
					out = append(out, d)
				}
			}
		}
	}
	return out
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func entrypointOf(st *Stage) *Instruction {
	for _, a := range st.Ancestry() {
		if a.Entrypoint != nil {
			return a.Entrypoint
		}
	}
	return nil
}

func cmdOf(st *Stage) *Instruction {
	for _, a := range st.Ancestry() {
		if a.Cmd != nil {
			return a.Cmd
		}
		if a.Entrypoint != nil {
			return nil // ENTRYPOINT resets an inherited CMD
		}
	}
	return nil
}

// scriptSource returns the path, next to the Dockerfile, of the build-context file that a
// COPY/ADD (without --from) of the stage or its ancestry installs at word ("" when none).
func (m *Model) scriptSource(st *Stage, word string) string {
	if word == "" || strings.ContainsAny(word, "$*?[") || strings.HasPrefix(word, "-") {
		return ""
	}
	base := path.Base(word)
	abs := strings.HasPrefix(word, "/")
	for _, a := range st.Ancestry() {
		for i := len(a.Copies) - 1; i >= 0; i-- {
			c := a.Copies[i]
			if c.From != "" {
				continue
			}
			for _, src := range c.Sources {
				if strings.Contains(src, "://") || strings.ContainsAny(src, "$") {
					continue
				}
				var installed string
				if strings.HasSuffix(c.Dest, "/") || len(c.Sources) > 1 || strings.ContainsAny(src, "*?[") {
					installed = strings.TrimSuffix(c.Dest, "/") + "/" + path.Base(src)
				} else {
					installed = c.Dest
				}
				if (abs && (installed == word || strings.TrimSuffix(c.Dest, "/")+"/"+path.Base(src) == word)) ||
					(!abs && (path.Base(installed) == base || path.Base(src) == base)) {
					if strings.ContainsAny(src, "*?[") {
						src = path.Join(path.Dir(src), base)
					}
					return filepath.Join(filepath.Dir(m.Path), filepath.FromSlash(path.Clean("/" + src))[1:])
				}
			}
		}
	}
	return ""
}

// Inspect is the JSON shape `nonroot-ls inspect` prints for a Dockerfile (its built stage).
type Inspect struct {
	File            string        `json:"file"`
	Stage           string        `json:"stage"`
	User            InspectUser   `json:"user"`
	CreatesUsers    []InspectUser `json:"creates_users"`
	DropsPrivileges string        `json:"drops_privileges"`
	ExposedPorts    []int         `json:"exposed_ports"`
	Volumes         []string      `json:"volumes"`
	WritablePaths   []InspectPath `json:"writable_paths"`
	Windows         bool          `json:"windows,omitempty"`
	Problems        []string      `json:"problems,omitempty"`
}

// InspectUser is a user in Inspect.
type InspectUser struct {
	Kind   string  `json:"kind,omitempty"`
	UID    *int    `json:"uid"`
	GID    *int    `json:"gid"`
	Name   *string `json:"name"`
	Line   *int    `json:"line"`
	Source string  `json:"source,omitempty"`
	Image  string  `json:"image,omitempty"`
}

// InspectPath is a writable path in Inspect.
type InspectPath struct {
	Path string  `json:"path"`
	UID  *int    `json:"uid"`
	GID  *int    `json:"gid"`
	Mode *string `json:"mode"`
	Line int     `json:"line"`
}

// InspectOf describes the built stage of the Dockerfile for `nonroot-ls inspect`.
func InspectOf(s *diagnostics.Snapshot, f *diagnostics.File, target string) *Inspect {
	m := Of(f)
	out := &Inspect{File: f.Path, CreatesUsers: []InspectUser{}, ExposedPorts: []int{}, Volumes: []string{}, WritablePaths: []InspectPath{}, DropsPrivileges: "none"}
	for _, p := range m.Problems {
		out.Problems = append(out.Problems, p.Message)
	}
	st := m.Built(target)
	if st == nil {
		out.User = InspectUser{Kind: string(KindUnknown)}
		return out
	}
	out.Stage = st.Label()
	out.Windows = st.Windows
	u := st.User()
	iu := InspectUser{Kind: string(u.Kind), UID: u.UID, GID: u.GID, Source: string(u.Source)}
	if u.Name != "" {
		name := u.Name
		iu.Name = &name
	}
	if u.Instr != nil {
		l := u.Instr.Line() + 1
		iu.Line = &l
	}
	if u.Source == SourceBase || u.Source == SourceDefault {
		iu.Image = u.Image
	}
	out.User = iu
	for _, c := range st.CreatedUsers() {
		name := c.Name
		out.CreatesUsers = append(out.CreatesUsers, InspectUser{UID: c.UID, GID: c.GID, Name: &name, Line: ptr(c.Range.Start.Line + 1)})
	}
	if drops := m.PrivilegeDrops(s, st); len(drops) > 0 {
		out.DropsPrivileges = drops[0].Tool
		for _, d := range drops {
			if d.Tool != "chown" && d.Tool != "chgrp" {
				out.DropsPrivileges = d.Tool
				break
			}
		}
	}
	for _, a := range reverse(st.Ancestry()) {
		for _, p := range a.Ports {
			if p.Number > 0 {
				out.ExposedPorts = append(out.ExposedPorts, p.Number)
			}
		}
		for _, v := range a.Volumes {
			out.Volumes = append(out.Volumes, v.Value)
		}
	}
	for _, p := range st.WritablePaths() {
		ip := InspectPath{Path: p.Path, UID: p.UID, GID: p.GID, Line: p.Range.Start.Line + 1}
		if p.Mode != "" {
			mode := p.Mode
			ip.Mode = &mode
		}
		out.WritablePaths = append(out.WritablePaths, ip)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func reverse[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// JSON returns the inspect output as indented JSON.
func (i *Inspect) JSON() []byte {
	b, _ := json.MarshalIndent(i, "", "  ")
	return b
}
