// Command nonroot-ls is the nonroot-ls language server and CLI: it makes containers run as
// non-root, and makes that setting actually work.
//
//	nonroot-ls serve [--stdio]          the language server over stdio
//	nonroot-ls check [flags] [paths]    report findings (text, json, sarif)
//	nonroot-ls fix [--diff] [paths]     apply the preferred quick-fixes
//	nonroot-ls inspect [flags] [paths]  print the models as the engine sees them
//	nonroot-ls rules [--markdown]       the rule catalog (and docs/rules)
//	nonroot-ls version
//
// Exit codes: 0 clean, 1 findings at or above --fail-on (check) or changes to make
// (fix --diff), 2 usage or I/O error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/server"
)

// version is set with -ldflags "-X main.version=…"; otherwise the module version from the
// build info (go install …@vX.Y.Z), else "devel".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

const usage = `nonroot-ls: make containers run as non-root, and make that setting actually work.

Usage:
  nonroot-ls serve [--stdio]                 run the language server over stdio
  nonroot-ls check [flags] [paths...]        report findings
      --format text|json|sarif               output format (default text)
      --fail-on error|warning|info|hint|off  exit 1 when a finding is at least this severe (default warning)
      --profile kubernetes|openshift|docker  rule profile (overrides .nonroot-ls.yaml)
  nonroot-ls fix [--diff] [paths...]         apply the preferred quick-fixes (--diff: print a unified diff instead)
  nonroot-ls inspect [--format text|json] [--files] [paths...]
                                             print the models as the engine sees them: each file's model,
                                             or for directories the image → Dockerfile links (--files: each file's)
  nonroot-ls rules [--markdown] [--dir docs/rules]
                                             list the rules (--markdown: write the rule pages)
  nonroot-ls version                         print the version

Paths default to the current directory. A directory is a workspace root; a file's own
directory is its root (for a kustomization.yaml, the current directory, so that its bases are read). Exit codes: 0 clean, 1 findings at or above --fail-on (check) or
changes to make (fix --diff), 2 usage or I/O error.
`

func main() {
	helper := findHelper()
	newEngine := func(log func(string)) *diagnostics.Engine {
		return all.New(all.Options{HelmRender: helper.Render, KustomizeBuild: helper.Build, Log: log})
	}
	os.Exit(run(newEngine, os.Args[1:], os.Stdout, os.Stderr))
}

// engineFunc builds the engine a command runs with; log receives its internal errors (nil:
// stderr). main builds the product's (charts rendered by the helper process); tests add rules.
type engineFunc func(log func(string)) *diagnostics.Engine

// errUsage marks a usage error (exit code 2, usage hint printed).
var errUsage = errors.New("usage")

// run executes the command line and returns the exit code.
func run(newEngine engineFunc, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve", "--stdio", "-stdio":
		return serve(newEngine, rest, stderr)
	case "check":
		return check(newEngine(nil), rest, stdout, stderr)
	case "fix":
		return fix(newEngine(nil), rest, stdout, stderr)
	case "inspect":
		return inspect(newEngine(nil), rest, stdout, stderr)
	case "rules":
		return rules(newEngine(nil), rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "nonroot-ls %s\n", versionString())
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "nonroot-ls: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func serve(newEngine engineFunc, args []string, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	fs.Bool("stdio", true, "serve over stdin/stdout (the only transport; accepted for editors that pass it)")
	fs.Int("clientProcessId", 0, "accepted for vscode-languageclient, which passes it; unused")
	if _, err := parse(fs, args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Serve(ctx, server.Options{NewEngine: newEngine, Version: versionString(), Log: stderr})
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("nonroot-ls "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage of nonroot-ls %s:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before, between or after the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
