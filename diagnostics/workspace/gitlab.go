package workspace

import (
	"path/filepath"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"go.yaml.in/yaml/v3"
)

// gitlabKeywords are the top-level keys of .gitlab-ci.yml that are not jobs.
var gitlabKeywords = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true, "workflow": true,
	"image": true, "services": true, "cache": true, "before_script": true, "after_script": true, "spec": true,
}

// gitlabDecls reads a .gitlab-ci.yml: the build command lines of each job's before_script
// and script (a job's `extends:` templates and the defaults applied), variables from the
// file's and the job's `variables:`. GitLab's predefined variables ($CI_REGISTRY_IMAGE,
// $CI_COMMIT_SHA) are not known: a tag may hold one, an image name may not.
func gitlabDecls(f *diagnostics.File) *fileDecls {
	return yamlDecls(f, func(docs []*yaml.Node, out *fileDecls) {
		top := docs[len(docs)-1] // a spec: header document comes first
		root := filepath.Dir(f.Path)
		global := gitlabVars(yamlnode.Value(top, "variables"), nil)
		work := 0
		for _, job := range yamlnode.Pairs(top) {
			if gitlabKeywords[job.Key.Value] || strings.HasPrefix(job.Key.Value, ".") || !yamlnode.IsMapping(job.Value) {
				continue
			}
			vars := global
			var scripts []*yaml.Node
			for _, j := range gitlabChain(top, job.Value) {
				vars = gitlabVars(yamlnode.Value(j, "variables"), vars)
			}
			for _, key := range []string{"before_script", "script"} {
				n := gitlabKey(top, job.Value, key)
				if n == nil {
					n = yamlnode.Value(yamlnode.Value(top, "default"), key)
				}
				scripts = append(scripts, scriptItems(n)...)
			}
			st := &shellState{dir: root, lookup: func(name string) (string, bool) { v, ok := vars[name]; return v, ok }}
			for _, s := range scripts {
				if work += strings.Count(s.Value, "\n") + 1; work > maxCIWork {
					return
				}
				for _, b := range scriptBuilds(yamlnode.Str(s), st) {
					out.decls = append(out.decls, cmdDecls(f, b, scriptLine(s, b.line), SourceGitLabCI)...)
				}
			}
		}
	})
}

// gitlabChain is a job and the templates it extends, most basic first (bounded, cycles cut).
func gitlabChain(top, job *yaml.Node) []*yaml.Node {
	chain := []*yaml.Node{job}
	seen := map[*yaml.Node]bool{job: true}
	for i := 0; i < len(chain) && len(chain) < maxExtends; i++ {
		ext := yamlnode.Value(chain[i], "extends")
		names := []*yaml.Node{ext}
		if yamlnode.IsSeq(ext) {
			names = yamlnode.Items(ext)
		}
		for _, n := range names {
			if t := yamlnode.Value(top, yamlnode.Str(n)); t != nil && !seen[t] && yamlnode.IsMapping(t) {
				seen[t] = true
				chain = append(chain, t)
			}
		}
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// gitlabKey is key of the job, or of the nearest template it extends that sets it.
func gitlabKey(top, job *yaml.Node, key string) *yaml.Node {
	chain := gitlabChain(top, job)
	for i := len(chain) - 1; i >= 0; i-- {
		if v := yamlnode.Value(chain[i], key); v != nil {
			return v
		}
	}
	return nil
}

// gitlabVars returns the literal values of a `variables:` mapping (`NAME: value` or
// `NAME: {value: …}`) over parent's, with $NAME references to earlier ones expanded.
func gitlabVars(n *yaml.Node, parent map[string]string) map[string]string {
	pairs := yamlnode.Pairs(n)
	if len(pairs) == 0 {
		return parent
	}
	vars := make(map[string]string, len(parent)+len(pairs))
	for k, v := range parent {
		vars[k] = v
	}
	for _, p := range pairs {
		v := p.Value
		if yamlnode.IsMapping(v) {
			v = yamlnode.Value(v, "value")
		}
		if v != nil && v.Kind == yaml.ScalarNode {
			vars[p.Key.Value] = interpolatePattern(v.Value, vars)
		}
	}
	return vars
}

// scriptItems are the lines of a script: one string, or a list (nested lists flattened).
func scriptItems(n *yaml.Node) []*yaml.Node {
	if n = yamlnode.Resolve(n); n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, it := range yamlnode.Items(n) {
		out = append(out, scriptItems(it)...)
	}
	return out
}
