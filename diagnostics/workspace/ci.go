package workspace

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// cmdBuild is one image build a CI script's command line runs: `docker build`,
// `docker buildx build`, `podman build`, `buildah bud`.
type cmdBuild struct {
	tags       []string // -t values, [Wildcard] where a variable is not known
	dockerfile string   // absolute; context/Dockerfile when -f is not given
	target     string
	context    string // absolute
	line       int    // 1-based line of the command in the script
}

// maxScriptCommands bounds the commands read from one script, maxCIWork the steps (GitHub:
// one a step and matrix combination) and script lines (GitLab: one a line of each job's
// scripts, templates included) read from one CI file: a hostile file cannot make the index slow.
const (
	maxScriptCommands = 10000
	maxCIWork         = 50000
)

// shellState is what earlier commands of a job leave to later ones: the working directory.
type shellState struct {
	dir    string
	lookup func(name string) (string, bool) // the variables the CI file sets (nil: none)
}

// scriptBuilds parses a script with the shell parser (never running it) and returns the image
// builds on its command lines. A word with a variable that lookup does not know has
// [Wildcard] there; a build whose Dockerfile, context or target is not known is left out. A
// `cd DIR` changes st.dir for the commands after it.
func scriptBuilds(src string, st *shellState) []cmdBuild {
	if !strings.Contains(src, "build") && !strings.Contains(src, "bud") && !strings.Contains(src, "cd") {
		return nil // no build and no cd: not worth parsing
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		return nil
	}
	var out []cmdBuild
	n := 0
	syntax.Walk(f, func(node syntax.Node) bool {
		call, ok := node.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		if n++; n > maxScriptCommands {
			return false
		}
		args := make([]string, len(call.Args))
		for i, w := range call.Args {
			args[i] = wordValue(w, st.lookup)
		}
		if args[0] == "sudo" {
			args = args[1:]
		}
		if len(args) == 2 && args[0] == "cd" && !strings.Contains(args[1], Wildcard) {
			st.dir = joinPath(st.dir, args[1])
			return true
		}
		if b, ok := parseBuild(args, st.dir); ok {
			b.line = int(call.Pos().Line())
			out = append(out, b)
		}
		return true
	})
	return out
}

// wordValue is a shell word's value: literals and quotes as the shell reads them, known
// variables expanded, [Wildcard] for anything else (unknown variables, command substitutions).
func wordValue(w *syntax.Word, lookup func(string) (string, bool)) string {
	var b strings.Builder
	var parts func([]syntax.WordPart)
	parts = func(ps []syntax.WordPart) {
		for _, p := range ps {
			switch x := p.(type) {
			case *syntax.Lit:
				b.WriteString(strings.ReplaceAll(x.Value, `\`, ""))
			case *syntax.SglQuoted:
				b.WriteString(x.Value)
			case *syntax.DblQuoted:
				parts(x.Parts)
			case *syntax.ParamExp:
				v, ok := "", false
				if lookup != nil && x.Param != nil && x.Exp == nil && x.Slice == nil && x.Repl == nil && x.Index == nil && !x.Length && !x.Excl {
					v, ok = lookup(x.Param.Value)
				}
				if !ok {
					v = Wildcard
				}
				b.WriteString(v)
			default:
				b.WriteString(Wildcard)
			}
		}
	}
	parts(w.Parts)
	return b.String()
}

// buildValueFlags are the flags of docker/podman/buildah build that take a value (so that
// the value is not read as the context).
var buildValueFlags = map[string]bool{
	"-t": true, "--tag": true, "-f": true, "--file": true, "--target": true,
	"--build-arg": true, "--label": true, "--platform": true, "--cache-from": true, "--cache-to": true,
	"--secret": true, "--ssh": true, "-o": true, "--output": true, "--network": true, "--progress": true,
	"--build-context": true, "--add-host": true, "--iidfile": true, "--metadata-file": true, "--attest": true,
	"--ulimit": true, "--shm-size": true, "--cgroup-parent": true, "--isolation": true, "-m": true,
	"--memory": true, "--memory-swap": true, "--cpu-shares": true, "--cpuset-cpus": true, "--cpuset-mems": true,
	"--cpu-period": true, "--cpu-quota": true, "--security-opt": true, "--annotation": true, "--allow": true,
	"--builder": true, "--call": true, "--format": true, "--authfile": true, "--creds": true, "-v": true,
	"--volume": true, "--jobs": true, "--arch": true, "--os": true, "--variant": true, "--manifest": true,
	"--runtime": true, "--timestamp": true, "--ignorefile": true, "--logfile": true, "--retry": true,
	"--env": true, "--from": true, "--layer-label": true, "--sign-by": true, "--cert-dir": true,
}

// parseBuild reads a build command line (args after the shell expanded them) run in dir.
func parseBuild(args []string, dir string) (cmdBuild, bool) {
	rest, ok := buildArgs(args)
	if !ok {
		return cmdBuild{}, false
	}
	var b cmdBuild
	var positional []string
	file := ""
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		name, val, hasVal := a, "", false
		if strings.HasPrefix(a, "--") {
			name, val, hasVal = strings.Cut(a, "=")
		} else if len(a) > 2 && a[0] == '-' && (a[1] == 't' || a[1] == 'f') {
			name, val, hasVal = a[:2], strings.TrimPrefix(a[2:], "="), true
		}
		switch {
		case a == "--":
			positional = append(positional, rest[i+1:]...)
			i = len(rest)
			continue
		case !strings.HasPrefix(a, "-") || a == "-":
			positional = append(positional, a)
			continue
		case !buildValueFlags[name]:
			continue // a boolean flag (or one written with =)
		}
		if !hasVal {
			if i+1 >= len(rest) {
				return cmdBuild{}, false
			}
			i++
			val = rest[i]
		}
		switch name {
		case "-t", "--tag":
			b.tags = append(b.tags, val)
		case "-f", "--file":
			file = val
		case "--target":
			b.target = val
		}
	}
	if len(positional) == 0 || len(b.tags) == 0 {
		return cmdBuild{}, false
	}
	ctx := positional[len(positional)-1]
	if ctx == "-" || file == "-" || remoteContext(ctx) || strings.Contains(ctx+file+b.target, Wildcard) {
		return cmdBuild{}, false
	}
	b.context = joinPath(dir, ctx)
	if file == "" {
		b.dockerfile = filepath.Join(b.context, "Dockerfile")
	} else {
		b.dockerfile = joinPath(dir, file) // -f is relative to the working directory
	}
	return b, true
}

// buildArgs returns the arguments after the build subcommand of a docker, podman, nerdctl or
// buildah command line; ok is false for any other command.
func buildArgs(args []string) ([]string, bool) {
	if len(args) < 2 {
		return nil, false
	}
	switch filepath.Base(args[0]) {
	case "docker", "podman", "nerdctl":
		switch {
		case args[1] == "build":
			return args[2:], true
		case len(args) > 2 && (args[1] == "buildx" || args[1] == "image" || args[1] == "builder") && (args[2] == "build" || args[2] == "b"):
			return args[3:], true
		}
	case "buildah":
		if args[1] == "bud" || args[1] == "build" || args[1] == "build-using-dockerfile" {
			return args[2:], true
		}
	}
	return nil, false
}
