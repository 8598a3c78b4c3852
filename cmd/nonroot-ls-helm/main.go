// Command nonroot-ls-helm renders Helm charts for nonroot-ls with Helm's Go engine.
//
// nonroot-ls starts it on the first chart it meets (it must be installed next to nonroot-ls:
// `go install github.com/nonroot-ls/nonroot-ls/cmd/...@latest`) and sends it render requests,
// one JSON object per request on stdin, answered one JSON object each on stdout; it exits when
// stdin ends. It reads nothing but its input and runs nothing: no cluster, no network
// (`lookup` returns nothing). Keeping Helm's engine in its own process keeps the language
// server small and fast to start, and lets nonroot-ls kill a render that does not stop.
package main

import (
	"fmt"
	"os"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "nonroot-ls-helm takes no arguments: nonroot-ls runs it and speaks to it over stdin/stdout")
		os.Exit(2)
	}
	if err := helmrender.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nonroot-ls-helm:", err)
		os.Exit(1)
	}
}
