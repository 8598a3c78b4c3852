package workspace

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"go.yaml.in/yaml/v3"
)

// maxMatrix bounds the combinations a job's matrix is expanded to (GitHub's own limit is 256).
const maxMatrix = 256

// workflowDecls reads a GitHub Actions workflow: the images its jobs build with
// docker/build-push-action (context, file, tags, target; tags from docker/metadata-action's
// images) and with build command lines in `run:` steps. `${{ matrix.* }}` is expanded over the
// job's matrix and `${{ env.* }}` from the workflow's, job's and step's env; any other
// expression (secrets, github context, functions) is [Wildcard]: a tag may hold one, an image
// name, a context or a Dockerfile may not.
func workflowDecls(f *diagnostics.File) *fileDecls {
	return yamlDecls(f, func(docs []*yaml.Node, out *fileDecls) {
		// The repository root holds .github/workflows/.
		root := filepath.Dir(filepath.Dir(filepath.Dir(f.Path)))
		wenv := envOf(docs[0], nil)
		work := 0
		for _, job := range yamlnode.Pairs(yamlnode.Value(docs[0], "jobs")) {
			jenv := envOf(job.Value, wenv)
			dir := root
			if _, wd := yamlnode.GetPath(job.Value, "defaults", "run", "working-directory"); yamlnode.Str(wd) != "" {
				dir = joinPath(root, yamlnode.Str(wd))
			}
			steps := yamlnode.Items(yamlnode.Value(job.Value, "steps"))
			if len(steps) == 0 {
				continue
			}
			for _, combo := range matrixCombos(yamlnode.Value(yamlnode.Value(job.Value, "strategy"), "matrix")) {
				if work += len(steps); work > maxCIWork {
					return
				}
				out.decls = append(out.decls, jobBuilds(f, root, dir, steps, combo, jenv)...)
			}
		}
	})
}

// ghExpr is a `${{ … }}` expression.
var ghExpr = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// ghScope is what a step's expressions can name.
type ghScope struct {
	matrix map[string]*yaml.Node // nil when the matrix is an expression (fromJSON)
	env    map[string]string
	steps  map[string]*yaml.Node // step id → step (for steps.<id>.outputs)
}

// expand replaces the expressions of s: matrix and env values it knows, [Wildcard] for the rest.
func (sc *ghScope) expand(s string) string {
	if !strings.Contains(s, "${{") {
		return s
	}
	return ghExpr.ReplaceAllStringFunc(s, func(m string) string {
		e := ghExpr.FindStringSubmatch(m)[1]
		switch {
		case strings.HasPrefix(e, "matrix."):
			path := strings.Split(strings.TrimPrefix(e, "matrix."), ".")
			n := sc.matrix[path[0]]
			for _, k := range path[1:] {
				n = yamlnode.Value(n, k)
			}
			switch {
			case n != nil && n.Kind == yaml.ScalarNode:
				return n.Value
			case n == nil && sc.matrix != nil && len(path) == 1:
				return "" // a key this combination does not have is empty
			}
		case strings.HasPrefix(e, "env."):
			if v, ok := sc.env[strings.TrimPrefix(e, "env.")]; ok {
				return v
			}
		}
		return Wildcard
	})
}

// envOf returns the literal values of n's `env:` over parent's.
func envOf(n *yaml.Node, parent map[string]string) map[string]string {
	pairs := yamlnode.Pairs(yamlnode.Value(n, "env"))
	if len(pairs) == 0 {
		return parent
	}
	env := make(map[string]string, len(parent)+len(pairs))
	for k, v := range parent {
		env[k] = v
	}
	sc := &ghScope{env: parent}
	for _, p := range pairs {
		if p.Value.Kind == yaml.ScalarNode {
			env[p.Key.Value] = sc.expand(p.Value.Value)
		}
	}
	return env
}

// matrixCombos expands a `strategy.matrix`: the product of its lists, less `exclude`, with
// `include` entries extending the combinations they match or added. A matrix that is an
// expression (fromJSON) gives one combination where matrix.* is unknown (nil).
func matrixCombos(m *yaml.Node) []map[string]*yaml.Node {
	if m != nil && m.Kind == yaml.ScalarNode {
		return []map[string]*yaml.Node{nil}
	}
	combos := []map[string]*yaml.Node{{}}
	var keys []string
	for _, p := range yamlnode.Pairs(m) {
		switch p.Key.Value {
		case "include", "exclude":
			continue
		}
		vals := yamlnode.Items(p.Value)
		if len(vals) == 0 {
			continue
		}
		keys = append(keys, p.Key.Value)
		var next []map[string]*yaml.Node
		for _, c := range combos {
			for _, v := range vals {
				if len(next) >= maxMatrix {
					break
				}
				nc := make(map[string]*yaml.Node, len(c)+1)
				for k, x := range c {
					nc[k] = x
				}
				nc[p.Key.Value] = v
				next = append(next, nc)
			}
		}
		combos = next
	}
	matches := func(c map[string]*yaml.Node, entry *yaml.Node, only []string) bool {
		for _, p := range yamlnode.Pairs(entry) {
			if only != nil && !slices.Contains(only, p.Key.Value) {
				continue
			}
			if c[p.Key.Value] == nil || yamlnode.Str(c[p.Key.Value]) != yamlnode.Str(p.Value) {
				return false
			}
		}
		return true
	}
	if ex := yamlnode.Items(yamlnode.Value(m, "exclude")); len(ex) > 0 {
		kept := combos[:0]
		for _, c := range combos {
			drop := false
			for _, e := range ex {
				drop = drop || matches(c, e, nil)
			}
			if !drop {
				kept = append(kept, c)
			}
		}
		combos = kept
	}
	for _, inc := range yamlnode.Items(yamlnode.Value(m, "include")) {
		found := false
		for _, c := range combos {
			if len(keys) > 0 && matches(c, inc, keys) {
				found = true
				for _, p := range yamlnode.Pairs(inc) {
					if c[p.Key.Value] == nil {
						c[p.Key.Value] = p.Value
					}
				}
			}
		}
		if !found && len(combos) < maxMatrix {
			c := map[string]*yaml.Node{}
			for _, p := range yamlnode.Pairs(inc) {
				c[p.Key.Value] = p.Value
			}
			combos = append(combos, c)
		}
	}
	return combos
}

// jobBuilds returns the builds of one job's steps for one matrix combination.
func jobBuilds(f *diagnostics.File, root, dir string, steps []*yaml.Node, combo map[string]*yaml.Node, jenv map[string]string) []decl {
	var out []decl
	sc := &ghScope{matrix: combo, steps: map[string]*yaml.Node{}}
	for _, step := range steps {
		if id := yamlnode.Str(yamlnode.Value(step, "id")); id != "" {
			sc.steps[id] = step
		}
		sc.env = envOf(step, jenv)
		uses := yamlnode.Str(yamlnode.Value(step, "uses"))
		switch {
		case strings.HasPrefix(uses, "docker/build-push-action@"):
			out = append(out, buildPushDecls(f, root, step, sc)...)
		case yamlnode.Value(step, "run") != nil:
			run := yamlnode.Value(step, "run")
			sdir := dir // each step is a new shell
			if wd := yamlnode.Str(yamlnode.Value(step, "working-directory")); wd != "" {
				sdir = joinPath(root, sc.expand(wd))
			}
			env := sc.env
			sst := &shellState{dir: sdir, lookup: func(name string) (string, bool) { v, ok := env[name]; return v, ok }}
			for _, b := range scriptBuilds(sc.expand(yamlnode.Str(run)), sst) {
				out = append(out, cmdDecls(f, b, scriptLine(run, b.line), SourceWorkflow)...)
			}
		}
	}
	return out
}

// buildPushDecls reads a docker/build-push-action step: the default context is the repository
// root, the default file <context>/Dockerfile, and file is relative to the repository root.
func buildPushDecls(f *diagnostics.File, root string, step *yaml.Node, sc *ghScope) []decl {
	with := yamlnode.Value(step, "with")
	input := func(k string) string { return sc.expand(yamlnode.Str(yamlnode.Value(with, k))) }
	ctx, file, target := input("context"), input("file"), input("target")
	if ctx == "" {
		ctx = "."
	}
	if strings.Contains(ctx+file+target, Wildcard) || remoteContext(ctx) {
		return nil
	}
	cdir := joinPath(root, ctx)
	df := filepath.Join(cdir, "Dockerfile")
	if file != "" {
		df = joinPath(root, file)
	}
	tagsNode := yamlnode.Value(with, "tags")
	var out []decl
	for i, raw := range listInput(yamlnode.Str(tagsNode)) {
		ev := Evidence{File: f.Path, Range: lineRange(f, scriptLine(tagsNode, i+1))}
		if m := ghExpr.FindStringSubmatch(raw); m != nil && m[0] == raw {
			// ${{ steps.<id>.outputs.tags }}: the images of that docker/metadata-action step.
			if id, ok := strings.CutSuffix(strings.TrimPrefix(m[1], "steps."), ".outputs.tags"); ok && strings.HasPrefix(m[1], "steps.") {
				for _, img := range metadataImages(f, sc.steps[id], sc) {
					out = append(out, decl{image: img.image, dockerfile: df, target: target, context: cdir, source: SourceWorkflow, ev: img.ev})
				}
				continue
			}
		}
		out = append(out, decl{image: sc.expand(raw), dockerfile: df, target: target, context: cdir, source: SourceWorkflow, ev: ev})
	}
	return out
}

type evImage struct {
	image string
	ev    Evidence
}

// metadataImages returns the images a docker/metadata-action step tags, each with the tag
// pattern its flavor's prefix and suffix give (the tags themselves are decided when it runs).
func metadataImages(f *diagnostics.File, step *yaml.Node, sc *ghScope) []evImage {
	if step == nil || !strings.HasPrefix(yamlnode.Str(yamlnode.Value(step, "uses")), "docker/metadata-action@") {
		return nil
	}
	with := yamlnode.Value(step, "with")
	tag := Wildcard
	for _, fl := range listInput(sc.expand(yamlnode.Str(yamlnode.Value(with, "flavor")))) {
		k, v, _ := strings.Cut(fl, "=")
		v, _, _ = strings.Cut(v, ",") // prefix=x,onlatest=true
		switch k {
		case "prefix":
			tag = v + tag
		case "suffix":
			tag += v
		}
	}
	imgs := yamlnode.Value(with, "images")
	var out []evImage
	for i, e := range listInput(yamlnode.Str(imgs)) {
		name := e
		if strings.Contains(e, "name=") { // name=ghcr.io/acme/web,enable=true
			for _, kv := range strings.Split(e, ",") {
				if k, v, _ := strings.Cut(strings.TrimSpace(kv), "="); k == "name" {
					name = v
				}
			}
		}
		out = append(out, evImage{image: sc.expand(name) + ":" + tag, ev: Evidence{File: f.Path, Range: lineRange(f, scriptLine(imgs, i+1))}})
	}
	return out
}

// listInput splits an action's list input: one item a line, or comma-separated on a line
// (a `name=…,enable=…` item keeps its commas).
func listInput(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, "=") && !strings.Contains(line, "${{") {
			out = append(out, line)
			continue
		}
		for _, it := range strings.Split(line, ",") {
			if it = strings.TrimSpace(it); it != "" {
				out = append(out, it)
			}
		}
	}
	return out
}

// cmdDecls turns a command line's build into declarations, one a tag, at file line line.
func cmdDecls(f *diagnostics.File, b cmdBuild, line int, src Source) []decl {
	var out []decl
	for _, t := range b.tags {
		out = append(out, decl{image: t, dockerfile: b.dockerfile, target: b.target, context: b.context, source: src,
			ev: Evidence{File: f.Path, Range: lineRange(f, line)}})
	}
	return out
}

// scriptLine is the 0-based file line of line n (1-based) of scalar s's value: the lines of a
// literal block follow its indicator's line; any other scalar is taken as starting where it is.
func scriptLine(s *yaml.Node, n int) int {
	if s == nil {
		return 0
	}
	if s.Style&yaml.LiteralStyle != 0 {
		return s.Line - 1 + n
	}
	if s.Style&yaml.FoldedStyle != 0 {
		return s.Line
	}
	return s.Line - 1
}

// lineRange is the range of a line's text without its indentation.
func lineRange(f *diagnostics.File, line int) text.Range {
	lines := f.Lines()
	line = min(max(line, 0), max(lines.Count()-1, 0))
	l := lines.Line(line)
	start := len(l) - len(strings.TrimLeft(l, " \t-"))
	end := len(strings.TrimRight(l, " \t\r"))
	return text.Range{Start: text.Pos{Line: line, Col: start}, End: text.Pos{Line: line, Col: max(end, start)}}
}
