// Package kbuild builds kustomizations with kustomize's Go API (sigs.k8s.io/kustomize/api/krusty)
// for the [kustomize] package, from an in-memory file system holding the request's files: no
// program is run (no git, no helm, no exec functions), nothing is fetched, plugins stay off.
//
// kustomize's packages cost the language server about 20 MiB of memory at start-up, so the
// nonroot-ls binary does not link this package: cmd/nonroot-ls-helm does (it holds Helm's
// engine, which links kustomize already), and nonroot-ls talks to it over a pipe. [Build] is
// the builder; tests give it to the engine to build in-process.
package kbuild

import (
	"context"
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize"
)

// fsRoot is where the request's files sit in the in-memory file system.
const fsRoot = "/workspace"

// Build runs `kustomize build` on req.Dir over req.Files. kustomize cannot be interrupted: the
// caller bounds its time (the helper process is killed when it runs over).
func Build(_ context.Context, req *kustomize.BuildRequest) (out string, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = "", fmt.Errorf("kustomize failed: %v", v)
		}
	}()
	fs := filesys.MakeFsInMemory()
	for name, text := range req.Files {
		p := path.Join(fsRoot, name)
		if !strings.HasPrefix(p, fsRoot+"/") {
			return "", fmt.Errorf("file %q is outside the workspace", name)
		}
		if err := fs.MkdirAll(path.Dir(p)); err != nil {
			return "", err
		}
		if err := fs.WriteFile(p, []byte(text)); err != nil {
			return "", err
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = types.DisabledPluginConfig()
	m, err := krusty.MakeKustomizer(opts).Run(fs, path.Join(fsRoot, req.Dir))
	if err != nil {
		return "", fmt.Errorf("%s", strings.ReplaceAll(err.Error(), fsRoot+"/", ""))
	}
	// The built nodes are written as they are: ResMap.AsYaml goes through JSON and yaml.v2
	// and costs a quarter of a build.
	var b strings.Builder
	e := kyaml.NewEncoder(&b)
	for _, r := range m.Resources() {
		if err := e.Encode(r.YNode()); err != nil {
			return "", err
		}
	}
	if err := e.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Answer serves one request of the helper protocol.
func Answer(ctx context.Context, req *kustomize.BuildRequest) *kustomize.BuildResponse {
	out, err := Build(ctx, req)
	if err != nil {
		return &kustomize.BuildResponse{Err: err.Error()}
	}
	return &kustomize.BuildResponse{YAML: out}
}
