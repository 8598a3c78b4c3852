package workspace

import (
	"path/filepath"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	starlark "go.starlark.net/syntax"
)

// tiltDecls reads the `docker_build(ref, context, dockerfile=…, target=…)` calls of a
// Tiltfile from its syntax tree: the Tiltfile is never executed, so only string literals
// count (a call whose ref, context, dockerfile or target is anything else declares nothing).
// Paths are relative to the Tiltfile's folder; the Dockerfile defaults to context/Dockerfile.
func tiltDecls(f *diagnostics.File) *fileDecls {
	return f.Memo(declsKey{}, func() any {
		out := &fileDecls{}
		file, err := (&starlark.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}).Parse(f.Path, f.Text, 0)
		if err != nil {
			p := diagnostics.Problem{Message: "invalid Tiltfile: " + err.Error()}
			if se, ok := err.(starlark.Error); ok {
				p.Range = f.Lines().LineRange(int(se.Pos.Line) - 1)
				p.Message = "invalid Tiltfile: " + se.Msg
			}
			out.problems = append(out.problems, p)
			return out
		}
		dir := filepath.Dir(f.Path)
		starlark.Walk(file, func(n starlark.Node) bool {
			call, ok := n.(*starlark.CallExpr)
			if !ok {
				return true
			}
			if id, ok := call.Fn.(*starlark.Ident); !ok || id.Name != "docker_build" {
				return true
			}
			args := map[string]starlark.Expr{}
			for i, a := range call.Args {
				if b, ok := a.(*starlark.BinaryExpr); ok && b.Op == starlark.EQ {
					if k, ok := b.X.(*starlark.Ident); ok {
						args[k.Name] = b.Y
					}
					continue
				}
				switch i {
				case 0:
					args["ref"] = a
				case 1:
					args["context"] = a
				}
			}
			ref, refOK := starString(args["ref"])
			ctx, ctxOK := starString(args["context"])
			df, dfOK := starString(args["dockerfile"])
			target, tOK := starString(args["target"])
			if !refOK || !ctxOK || ref == "" || (args["dockerfile"] != nil && !dfOK) || (args["target"] != nil && !tOK) {
				return true
			}
			cdir := joinPath(dir, ctx)
			path := filepath.Join(cdir, "Dockerfile")
			if df != "" {
				path = joinPath(dir, df)
			}
			start, end := args["ref"].Span()
			out.decls = append(out.decls, decl{image: ref, dockerfile: path, target: target, context: cdir, source: SourceTilt,
				ev: Evidence{File: f.Path, Range: text.Range{Start: starPos(f, start), End: starPos(f, end)}}})
			return true
		})
		return out
	}).(*fileDecls)
}

// starString is the value of a string literal.
func starString(e starlark.Expr) (string, bool) {
	if l, ok := e.(*starlark.Literal); ok && l.Token == starlark.STRING {
		s, ok := l.Value.(string)
		return s, ok
	}
	return "", false
}

func starPos(f *diagnostics.File, p starlark.Position) text.Pos {
	return f.Lines().FromRunes(max(int(p.Line)-1, 0), max(int(p.Col)-1, 0))
}
