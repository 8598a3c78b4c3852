package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

func fix(eng *diagnostics.Engine, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fix", stderr)
	diff := fs.Bool("diff", false, "print a unified diff instead of writing the files (exit 1 when there are changes)")
	paths, err := parse(fs, args)
	if err != nil {
		return 2
	}
	w, err := load(eng, paths, diagnostics.Config{})
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-ls fix: %v\n", err)
		return 2
	}
	changed, failed := 0, false
	for _, path := range w.files {
		f, err := w.snap.File(path)
		if err != nil {
			fmt.Fprintf(stderr, "nonroot-ls fix: %v\n", err)
			failed = true
			continue
		}
		rep, err := codeactions.FixAll(context.Background(), w.snap, path)
		if err != nil {
			fmt.Fprintf(stderr, "nonroot-ls fix: %v\n", err)
			failed = true
			continue
		}
		for _, n := range rep.Notes(w.rel) {
			fmt.Fprintf(stderr, "nonroot-ls fix: %s\n", n)
		}
		after := rep.Text
		if after == f.Text {
			continue
		}
		changed++
		rel := w.rel(path)
		if *diff {
			io.WriteString(stdout, udiff.Unified("a/"+rel, "b/"+rel, f.Text, after))
			continue
		}
		if err := writeFile(path, after); err != nil {
			fmt.Fprintf(stderr, "nonroot-ls fix: %v\n", err)
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "fixed %s: %s\n", rel, strings.Join(rep.Fixed, ", "))
	}
	switch {
	case failed:
		return 2
	case *diff && changed > 0:
		return 1
	}
	return 0
}

// writeFile replaces path's content, keeping its mode.
func writeFile(path, content string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), st.Mode().Perm())
}
