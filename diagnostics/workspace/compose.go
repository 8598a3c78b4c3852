package workspace

import (
	"bytes"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"go.yaml.in/yaml/v3"
)

// Service is one compose service as far as who it runs as is concerned. `extends` (same file
// or another compose file of the workspace) and YAML anchors/merge keys are applied; values
// are interpolated (`${VAR:-default}`) from the `.env` file next to the compose file.
type Service struct {
	Node           *yaml.Node // the service's mapping in File
	File           string     // the compose file
	Name           string     // service name
	NameRange      text.Range // the service's key
	Image          string     // interpolated `image:` ("" when none)
	ImagePattern   string     // the same with [Wildcard] for unknown variables
	ImageRange     text.Range
	ImageFile      string // file that holds image: (differs from File when inherited through extends)
	ImageInherited bool   // image: comes from the service it extends
	Build          *Build // nil when the service is not built
	User           string // interpolated `user:`
	HasUser        bool
	UserRange      text.Range
	UserFile       string
}

// Build is a compose `build:` section.
type Build struct {
	Context    string // absolute folder ("" when a URL or not resolvable)
	Dockerfile string // absolute path
	Target     string
	File       string     // compose file holding the build section
	Range      text.Range // `build:` key and, for the short form, its value
}

// Compose is the parsed compose file.
type Compose struct {
	Services []*Service
	Docs     []*yaml.Node // the file's documents (for edits)
	Err      error
}

type composeKey struct{ path string }

// ComposeFor returns the services of a compose file, memoised on the snapshot (the result
// also depends on the .env file and on files `extends` names).
func ComposeFor(s *diagnostics.Snapshot, path string) *Compose {
	path = diagnostics.Clean(path)
	return s.Memo(composeKey{path}, func() any {
		f, err := s.File(path)
		if err != nil {
			return &Compose{Err: err}
		}
		return parseCompose(s, f)
	}).(*Compose)
}

// maxExtends bounds `extends` chains (and cycles).
const maxExtends = 8

func parseCompose(s *diagnostics.Snapshot, f *diagnostics.File) *Compose {
	docs, err := parseYAML(f.Text)
	c := &Compose{Err: err, Docs: docs}
	if len(docs) == 0 {
		return c
	}
	env := dotEnv(s, filepath.Dir(f.Path))
	services := yamlnode.Value(docs[0], "services")
	ps := yamlnode.Pairs(services)
	for _, p := range ps {
		svc := composeService(s, f, env, services, p.Key.Value, 0, 0)
		if svc == nil {
			continue
		}
		svc.Name = p.Key.Value
		svc.NameRange = yamlnode.Range(f.Lines(), p.Key)
		c.Services = append(c.Services, svc)
	}
	sort.SliceStable(c.Services, func(i, j int) bool { return c.Services[i].NameRange.Start.Less(c.Services[j].NameRange.Start) })
	return c
}

// composeService reads service name of the services mapping in f, applying extends.
func composeService(s *diagnostics.Snapshot, f *diagnostics.File, env map[string]string, services *yaml.Node, name string, fileDepth, depth int) *Service {
	node := yamlnode.Value(services, name)
	if node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	lines := f.Lines()
	svc := &Service{File: f.Path, Node: node}
	dir := filepath.Dir(f.Path)
	if v := yamlnode.Value(node, "image"); v != nil && yamlnode.Str(v) != "" {
		svc.Image = interpolate(yamlnode.Str(v), env)
		svc.ImagePattern = interpolatePattern(yamlnode.Str(v), env)
		svc.ImageRange = yamlnode.Range(lines, v)
		svc.ImageFile = f.Path
	}
	if k, v := yamlnode.Get(node, "user"); k != nil {
		svc.User = interpolate(yamlnode.Str(v), env)
		svc.HasUser = true
		svc.UserRange = yamlnode.Range(lines, v)
		svc.UserFile = f.Path
	}
	if k, v := yamlnode.Get(node, "build"); k != nil {
		svc.Build = composeBuild(s, f, env, dir, k, v)
	}
	// extends: inherit what the service does not set itself.
	if v := yamlnode.Value(node, "extends"); v != nil && depth < maxExtends {
		var base *Service
		baseName := yamlnode.Str(v)
		file := ""
		if v.Kind == yaml.MappingNode {
			bn := yamlnode.Value(v, "service")
			baseName = yamlnode.Str(bn)
			fn := yamlnode.Value(v, "file")
			file = yamlnode.Str(fn)
		}
		if baseName != "" {
			if file == "" {
				base = composeService(s, f, env, services, baseName, fileDepth, depth+1)
			} else if fileDepth < maxExtends {
				other := filepath.Join(dir, interpolate(file, env))
				if of, err := s.File(other); err == nil {
					if odocs, _ := parseYAML(of.Text); len(odocs) > 0 {
						osvcs := yamlnode.Value(odocs[0], "services")
						base = composeService(s, of, dotEnv(s, filepath.Dir(of.Path)), osvcs, baseName, fileDepth+1, depth+1)
					}
				}
			}
		}
		if base != nil {
			if svc.Image == "" && base.Image != "" {
				svc.Image, svc.ImagePattern, svc.ImageRange, svc.ImageFile = base.Image, base.ImagePattern, base.ImageRange, base.ImageFile
				svc.ImageInherited = true
			}
			if !svc.HasUser && base.HasUser {
				svc.User, svc.HasUser, svc.UserRange, svc.UserFile = base.User, true, base.UserRange, base.UserFile
			}
			if svc.Build == nil {
				svc.Build = base.Build
			}
		}
	}
	return svc
}

func composeBuild(s *diagnostics.Snapshot, f *diagnostics.File, env map[string]string, dir string, k, v *yaml.Node) *Build {
	b := &Build{File: f.Path, Range: yamlnode.KeyValueRange(f.Lines(), k, v)}
	ctx, dockerfile := ".", "Dockerfile"
	switch {
	case v == nil:
	case v.Kind == yaml.ScalarNode:
		ctx = interpolate(v.Value, env)
	case v.Kind == yaml.MappingNode:
		if c := yamlnode.Value(v, "context"); yamlnode.Str(c) != "" {
			ctx = interpolate(yamlnode.Str(c), env)
		}
		if d := yamlnode.Value(v, "dockerfile"); yamlnode.Str(d) != "" {
			dockerfile = interpolate(yamlnode.Str(d), env)
		}
		if t := yamlnode.Value(v, "target"); yamlnode.Str(t) != "" {
			b.Target = interpolate(yamlnode.Str(t), env)
		}
		if d := yamlnode.Value(v, "dockerfile_inline"); d != nil {
			return b // no Dockerfile in the workspace builds it
		}
	}
	if remoteContext(ctx) {
		return b
	}
	b.Context = joinPath(dir, ctx)
	b.Dockerfile = joinPath(b.Context, dockerfile)
	return b
}

// remoteContext reports build contexts that are not a folder of the workspace.
func remoteContext(ctx string) bool {
	return strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") || strings.HasPrefix(ctx, "target:") ||
		strings.HasPrefix(ctx, "docker-image:") || strings.HasPrefix(ctx, "oci-layout:") || strings.HasSuffix(ctx, ".git")
}

func joinPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, filepath.FromSlash(p))
}

// dotEnv reads the .env file in dir (compose's interpolation defaults) with compose's own
// parser: quotes, escapes, multi-line values and `${VAR}` references to earlier keys. The
// process environment is never consulted; a file that stops parsing gives the keys before.
func dotEnv(s *diagnostics.Snapshot, dir string) map[string]string {
	data, err := s.ReadFile(filepath.Join(dir, ".env"))
	if err != nil {
		return map[string]string{}
	}
	env, _ := dotenv.ParseWithLookup(bytes.NewReader(data), nil)
	return env
}

// interpolate applies compose's variable syntax: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?err}, ${VAR:+alt} and $$. Unknown variables are empty, as compose makes them
// (without the process environment: the engine never reads it).
func interpolate(s string, env map[string]string) string { return interp(s, env, "") }

// interpolatePattern is interpolate with [Wildcard] for unknown variables: what the image of a
// build names whatever the variables are when compose runs.
func interpolatePattern(s string, env map[string]string) string { return interp(s, env, Wildcard) }

func interp(s string, env map[string]string, missing string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '{':
			end := matchingBrace(s, i+1)
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(expandBraced(s[i+2:end], env, missing))
			i = end
		case isNameByte(next, true):
			j := i + 1
			for j < len(s) && isNameByte(s[j], false) {
				j++
			}
			if v, ok := env[s[i+1:j]]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(missing)
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func matchingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

func expandBraced(expr string, env map[string]string, missing string) string {
	j := 0
	for j < len(expr) && isNameByte(expr[j], j == 0) {
		j++
	}
	name, op := expr[:j], expr[j:]
	val, set := env[name]
	switch {
	case strings.HasPrefix(op, ":-"):
		if val == "" {
			return interp(op[2:], env, missing)
		}
	case strings.HasPrefix(op, "-"):
		if !set {
			return interp(op[1:], env, missing)
		}
	case strings.HasPrefix(op, ":+"):
		if val != "" {
			return interp(op[2:], env, missing)
		}
		return ""
	case strings.HasPrefix(op, "+"):
		if set {
			return interp(op[1:], env, missing)
		}
		return ""
	}
	if !set {
		return missing
	}
	return val
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}
