// Command nonroot-ls-helm renders Helm charts with Helm's Go engine and builds kustomizations
// with kustomize's, for nonroot-ls.
//
// nonroot-ls starts it on the first chart or kustomization it meets (it must be installed
// next to nonroot-ls: `go install github.com/nonroot-ls/nonroot-ls/cmd/...@latest`) and sends
// it requests, one JSON object per request on stdin, answered one JSON object each on stdout;
// it exits when stdin ends. It reads nothing but its input and runs nothing: no cluster, no
// network (`lookup` returns nothing), no git, no kustomize plugins. Keeping these engines in
// their own process keeps the language server small and fast to start, and lets nonroot-ls
// kill a render or build that does not stop.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kbuild"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "nonroot-ls-helm takes no arguments: nonroot-ls runs it and speaks to it over stdin/stdout")
		os.Exit(2)
	}
	if err := serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nonroot-ls-helm:", err)
		os.Exit(1)
	}
}

// request is one request: a render (a [helm.RenderRequest]) or, with Kustomize set, a build.
type request struct {
	helm.RenderRequest
	Kustomize *kustomize.BuildRequest `json:"kustomize,omitempty"`
}

// serve answers the requests read from r, one JSON object after another, with one JSON
// answer each on w ([helm.RenderResponse] or [kustomize.BuildResponse]), until r ends.
func serve(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(r)
	enc := json.NewEncoder(w)
	for {
		var req request
		if err := dec.Decode(&req); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading a request: %w", err)
		}
		var resp any
		if req.Kustomize != nil {
			resp = kbuild.Answer(context.Background(), req.Kustomize)
		} else {
			resp = helmrender.Answer(&req.RenderRequest)
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
	}
}
