package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// workspace is what the command line names: a snapshot whose roots are the directories
// given (and the directory of each file given), and the files to process.
type workspace struct {
	snap  *diagnostics.Snapshot
	files []string // absolute, sorted
	cwd   string   // to print paths relative to it
}

// load builds the workspace of paths (default "."). A missing path is an error (exit 2).
func load(eng *diagnostics.Engine, paths []string, override diagnostics.Config) (*workspace, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	var roots, dirs, files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		switch {
		case st.IsDir():
			roots, dirs = append(roots, abs), append(dirs, abs)
		case st.Mode().IsRegular():
			root := filepath.Dir(abs)
			if isKustomization(abs) && strings.HasPrefix(abs, cwd+string(filepath.Separator)) {
				root = cwd // its bases are usually beside its folder, not in it
			}
			roots, files = append(roots, root), append(files, abs)
		default:
			return nil, fmt.Errorf("%s: not a regular file or directory", p)
		}
	}
	w := &workspace{snap: eng.NewSnapshot(roots, diagnostics.Config{}).WithOverride(override), cwd: cwd}
	if len(dirs) > 0 {
		for _, f := range w.snap.Walk() {
			for _, d := range dirs {
				if f == d || strings.HasPrefix(f, d+string(filepath.Separator)) {
					files = append(files, f)
					break
				}
			}
		}
	}
	slices.Sort(files)
	w.files = slices.Compact(files)
	return w, nil
}

// rel returns path relative to the working directory (slash-separated), or path itself.
func (w *workspace) rel(path string) string {
	if r, err := filepath.Rel(w.cwd, path); err == nil {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(path)
}

// findings diagnoses every file, dropping duplicates (a rule may report on another file).
func (w *workspace) findings() []diagnostics.Finding {
	var out []diagnostics.Finding
	seen := map[string]bool{}
	for _, f := range w.files {
		for _, fd := range w.snap.Diagnose(context.Background(), f) {
			k := fd.File + "\x00" + fd.RuleID + "\x00" + fd.Range.String() + "\x00" + fd.Message
			if !seen[k] {
				seen[k] = true
				out = append(out, fd)
			}
		}
	}
	diagnostics.SortFindings(out)
	return out
}

// isKustomization reports whether path is a kustomization file.
func isKustomization(path string) bool {
	switch filepath.Base(path) {
	case "kustomization.yaml", "kustomization.yml":
		return true
	}
	return false
}
