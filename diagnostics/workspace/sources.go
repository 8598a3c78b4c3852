package workspace

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"
)

// decl is a link one file declares: image → Dockerfile (+ target).
type decl struct {
	image      string
	dockerfile string
	target     string
	context    string
	source     Source
	ev         Evidence
}

// rewrite is a kustomize `images:` entry: manifests that say name run newName.
type rewrite struct {
	name, newName string
	ev            Evidence
}

// fileDecls is what one file contributes to the graph, memoised on the file (or, for
// compose, computed from [ComposeFor]).
type fileDecls struct {
	decls    []decl
	rewrites []rewrite
	problems []diagnostics.Problem
}

type declsKey struct{}

// yamlDecls memoises on f what read declares from f's YAML documents (those before a syntax
// error, which is the file's problem).
func yamlDecls(f *diagnostics.File, read func(docs []*yaml.Node, out *fileDecls)) *fileDecls {
	return f.Memo(declsKey{}, func() any {
		out := &fileDecls{}
		docs, err := parseYAML(f.Text)
		if err != nil {
			out.problems = append(out.problems, yamlProblem(f, err))
		}
		if len(docs) > 0 {
			read(docs, out)
		}
		return out
	}).(*fileDecls)
}

// declsOf returns what a link source declares (nil for any other kind of file).
func declsOf(f *diagnostics.File) *fileDecls {
	switch f.Kind {
	case diagnostics.KindConfig:
		return configDecls(f)
	case diagnostics.KindSkaffold:
		return skaffoldDecls(f)
	case diagnostics.KindBake:
		return bakeDecls(f)
	case diagnostics.KindKustomize:
		return kustomizeDecls(f)
	case diagnostics.KindWorkflow:
		return workflowDecls(f)
	case diagnostics.KindGitLabCI:
		return gitlabDecls(f)
	case diagnostics.KindTiltfile:
		return tiltDecls(f)
	}
	return nil
}

// configDecls reads the `images:` of a .nonroot-ls.yaml, with the range of each entry's image.
func configDecls(f *diagnostics.File) *fileDecls {
	return f.Memo(declsKey{}, func() any {
		out := &fileDecls{}
		docs, err := parseYAML(f.Text)
		if err != nil || len(docs) == 0 {
			return out // the config's own NR001 reports it
		}
		dir := filepath.Dir(f.Path)
		imgs := yamlnode.Value(docs[0], "images")
		for _, it := range yamlnode.Items(imgs) {
			img := yamlnode.Value(it, "image")
			df := yamlnode.Value(it, "dockerfile")
			tg := yamlnode.Value(it, "target")
			if yamlnode.Str(img) == "" || yamlnode.Str(df) == "" {
				continue
			}
			out.decls = append(out.decls, decl{
				image: yamlnode.Str(img), dockerfile: joinPath(dir, yamlnode.Str(df)), target: yamlnode.Str(tg),
				context: filepath.Dir(joinPath(dir, yamlnode.Str(df))), source: SourceConfig,
				ev: Evidence{File: f.Path, Range: yamlnode.Range(f.Lines(), img)},
			})
		}
		return out
	}).(*fileDecls)
}

// skaffoldDecls reads `build.artifacts` (also in profiles) of every document of a skaffold.yaml.
func skaffoldDecls(f *diagnostics.File) *fileDecls {
	return yamlDecls(f, func(docs []*yaml.Node, out *fileDecls) {
		dir := filepath.Dir(f.Path)
		var builds []*yaml.Node
		for _, d := range docs {
			if b := yamlnode.Value(d, "build"); b != nil {
				builds = append(builds, b)
			}
			for _, p := range yamlnode.Items(func() *yaml.Node { v := yamlnode.Value(d, "profiles"); return v }()) {
				if b := yamlnode.Value(p, "build"); b != nil {
					builds = append(builds, b)
				}
			}
		}
		for _, b := range builds {
			arts := yamlnode.Value(b, "artifacts")
			for _, a := range yamlnode.Items(arts) {
				img := yamlnode.Value(a, "image")
				if yamlnode.Str(img) == "" {
					continue
				}
				docker := yamlnode.Value(a, "docker")
				if docker == nil && otherBuilder(a) {
					continue // jib, ko, buildpacks, bazel, custom: no Dockerfile
				}
				ctx := "."
				if c := yamlnode.Value(a, "context"); yamlnode.Str(c) != "" {
					ctx = yamlnode.Str(c)
				}
				df, target := "Dockerfile", ""
				if d := yamlnode.Value(docker, "dockerfile"); yamlnode.Str(d) != "" {
					df = yamlnode.Str(d)
				}
				if t := yamlnode.Value(docker, "target"); yamlnode.Str(t) != "" {
					target = yamlnode.Str(t)
				}
				cdir := joinPath(dir, ctx)
				out.decls = append(out.decls, decl{
					image: yamlnode.Str(img), dockerfile: joinPath(cdir, df), target: target, context: cdir,
					source: SourceSkaffold, ev: Evidence{File: f.Path, Range: yamlnode.Range(f.Lines(), img)},
				})
			}
		}
	})
}

func otherBuilder(a *yaml.Node) bool {
	for _, k := range []string{"jib", "ko", "buildpacks", "bazel", "custom", "kaniko", "cluster"} {
		if v := yamlnode.Value(a, k); v != nil {
			return true
		}
	}
	return false
}

// kustomizeDecls reads the `images:` rewrites of a kustomization.
func kustomizeDecls(f *diagnostics.File) *fileDecls {
	return yamlDecls(f, func(docs []*yaml.Node, out *fileDecls) {
		imgs := yamlnode.Value(docs[0], "images")
		for _, it := range yamlnode.Items(imgs) {
			name := yamlnode.Value(it, "name")
			nn := yamlnode.Value(it, "newName")
			if yamlnode.Str(name) == "" || yamlnode.Str(nn) == "" || NormalizeImage(yamlnode.Str(name)) == NormalizeImage(yamlnode.Str(nn)) {
				continue
			}
			out.rewrites = append(out.rewrites, rewrite{
				name: yamlnode.Str(name), newName: yamlnode.Str(nn),
				ev: Evidence{File: f.Path, Range: yamlnode.Range(f.Lines(), nn)},
			})
		}
	})
}

// maxDocs bounds the YAML documents read from one file (a hostile file cannot make the
// index slow).
const maxDocs = 1000

// parseYAML returns the documents of a YAML (or JSON) file; a document that does not parse
// ends the list and its error is returned with the documents before it.
func parseYAML(src string) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(src))
	var docs []*yaml.Node
	for len(docs) < maxDocs {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return docs, err
		}
		if len(n.Content) > 0 {
			docs = append(docs, n.Content[0])
		}
	}
	return docs, nil
}

func yamlProblem(f *diagnostics.File, err error) diagnostics.Problem {
	return diagnostics.Problem{Range: f.Lines().LineRange(diagnostics.ErrorLine(err.Error())), Message: "invalid YAML: " + err.Error()}
}

// maxInherits bounds bake `inherits` chains (and cycles).
const maxInherits = 8

var bakeSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "target", LabelNames: []string{"name"}},
	{Type: "group", LabelNames: []string{"name"}},
	{Type: "function", LabelNames: []string{"name"}},
}}

// bakeDecls reads the targets of a docker-bake.hcl/.json: each tag of a target is an image
// built from the target's context, dockerfile and target stage. Variables take their
// defaults (a variable that refers to others is resolved); functions are never called, so
// a value that needs one is left out.
func bakeDecls(f *diagnostics.File) *fileDecls {
	return f.Memo(declsKey{}, func() any {
		out := &fileDecls{}
		var file *hcl.File
		var diags hcl.Diagnostics
		if strings.HasSuffix(strings.ToLower(f.Path), ".json") {
			file, diags = hcljson.Parse([]byte(f.Text), f.Path)
		} else {
			file, diags = hclsyntax.ParseConfig([]byte(f.Text), f.Path, hcl.InitialPos)
		}
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				out.problems = append(out.problems, hclProblem(f, d))
			}
		}
		if file == nil || file.Body == nil || len(out.problems) > 0 {
			return out // a file that does not parse declares nothing (its NR001 says why)
		}
		content, _, _ := file.Body.PartialContent(bakeSchema)
		if content == nil {
			return out
		}
		// Variables: defaults, resolved in rounds so that one may refer to another.
		vars := map[string]hcl.Expression{}
		var order []string
		targets := map[string]*hcl.Block{}
		var targetOrder []string
		for _, b := range content.Blocks {
			switch b.Type {
			case "variable":
				attrs, _ := b.Body.JustAttributes()
				if a := attrs["default"]; a != nil {
					vars[b.Labels[0]] = a.Expr
				} else {
					vars[b.Labels[0]] = nil
				}
				order = append(order, b.Labels[0])
			case "target":
				if _, dup := targets[b.Labels[0]]; !dup {
					targetOrder = append(targetOrder, b.Labels[0])
				}
				targets[b.Labels[0]] = b
			}
		}
		values := map[string]cty.Value{}
		for _, name := range order {
			values[name] = cty.StringVal("")
		}
		for round := 0; round <= len(order); round++ {
			changed := false
			ctx := &hcl.EvalContext{Variables: values}
			next := map[string]cty.Value{}
			for _, name := range order {
				next[name] = values[name]
				if e := vars[name]; e != nil {
					if v, d := e.Value(ctx); !d.HasErrors() && v.IsWhollyKnown() && !v.IsNull() {
						if v.Type() != cty.String {
							if sv, err := ctyString(v); err == nil {
								v = sv
							}
						}
						if !v.RawEquals(values[name]) {
							changed = true
						}
						next[name] = v
					}
				}
			}
			values = next
			if !changed {
				break
			}
		}
		ctx := &hcl.EvalContext{Variables: values}
		dir := filepath.Dir(f.Path)
		for _, name := range targetOrder {
			attrs := bakeAttrs(targets, name, 0)
			if attrs == nil {
				continue
			}
			strAttr := func(key, def string) string {
				a := attrs[key]
				if a == nil {
					return def
				}
				v, d := a.Expr.Value(ctx)
				if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
					return ""
				}
				return v.AsString()
			}
			if attrs["dockerfile-inline"] != nil {
				continue
			}
			bctx := strAttr("context", ".")
			if bctx == "" || remoteContext(bctx) {
				continue
			}
			df := strAttr("dockerfile", "Dockerfile")
			if df == "" {
				continue
			}
			target := strAttr("target", "")
			cdir := joinPath(dir, bctx)
			tags := attrs["tags"]
			if tags == nil {
				continue
			}
			exprs, d := hcl.ExprList(tags.Expr)
			if d.HasErrors() {
				exprs = []hcl.Expression{tags.Expr}
			}
			for _, e := range exprs {
				v, d := e.Value(ctx)
				if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
					continue
				}
				var tagVals []cty.Value
				switch {
				case v.Type() == cty.String:
					tagVals = []cty.Value{v}
				case v.CanIterateElements():
					for it := v.ElementIterator(); it.Next(); {
						_, ev := it.Element()
						tagVals = append(tagVals, ev)
					}
				}
				for _, tv := range tagVals {
					if !tv.IsWhollyKnown() || tv.IsNull() || tv.Type() != cty.String || tv.AsString() == "" {
						continue
					}
					out.decls = append(out.decls, decl{
						image: tv.AsString(), dockerfile: joinPath(cdir, df), target: target, context: cdir,
						source: SourceBake, ev: Evidence{File: f.Path, Range: hclRange(f, e.Range())},
					})
				}
			}
		}
		return out
	}).(*fileDecls)
}

// bakeAttrs returns a target's attributes with those of the targets it inherits underneath.
func bakeAttrs(targets map[string]*hcl.Block, name string, depth int) hcl.Attributes {
	b := targets[name]
	if b == nil || depth > maxInherits {
		return nil
	}
	own, _ := b.Body.JustAttributes()
	out := hcl.Attributes{}
	if inh := own["inherits"]; inh != nil {
		if v, d := inh.Expr.Value(nil); !d.HasErrors() && v.IsWhollyKnown() && v.CanIterateElements() {
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.Type() == cty.String {
					for k, a := range bakeAttrs(targets, e.AsString(), depth+1) {
						out[k] = a
					}
				}
			}
		}
	}
	for k, a := range own {
		out[k] = a
	}
	return out
}

func ctyString(v cty.Value) (cty.Value, error) {
	switch v.Type() {
	case cty.Number:
		return cty.StringVal(v.AsBigFloat().Text('f', -1)), nil
	case cty.Bool:
		if v.True() {
			return cty.StringVal("true"), nil
		}
		return cty.StringVal("false"), nil
	}
	return v, fmt.Errorf("not a string")
}

func hclRange(f *diagnostics.File, r hcl.Range) text.Range {
	return f.Lines().RangeOf(r.Start.Byte, r.End.Byte)
}

func hclProblem(f *diagnostics.File, d *hcl.Diagnostic) diagnostics.Problem {
	p := diagnostics.Problem{Message: "invalid bake file: " + d.Summary}
	if d.Detail != "" {
		p.Message += ": " + d.Detail
	}
	if d.Subject != nil {
		p.Range = hclRange(f, *d.Subject)
	}
	return p
}
