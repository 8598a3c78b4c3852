package main

import (
	"context"
	"errors"
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
// A file or directory named is read where it is, not where a symlink leads: a path inside
// the working directory may not lead out of it through a link, and a file that is a link
// leading out of its folder is refused (as the directory walk refuses such links).
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
		abs := filepath.Clean(p)
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(cwd, abs)
		}
		dir, base := abs, ""
		if !st.IsDir() {
			dir, base = filepath.Dir(abs), filepath.Base(abs)
		}
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return nil, err
		}
		if inside(cwd, abs) && !inside(cwd, real) {
			return nil, fmt.Errorf("%s: a symlink leads outside the working directory (to %s)", p, real)
		}
		switch {
		case st.IsDir():
			roots, dirs = append(roots, real), append(dirs, real)
		case st.Mode().IsRegular():
			f := filepath.Join(real, base)
			if to, err := filepath.EvalSymlinks(f); err == nil && !inside(real, to) {
				return nil, fmt.Errorf("%s: the symlink leads outside its folder (to %s)", p, to)
			}
			root := real
			if isKustomization(f) && inside(cwd, real) {
				root = cwd // its bases are usually beside its folder, not in it
			}
			roots, files = append(roots, root), append(files, f)
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

// unanalysed says which of the files could not be analysed (too large, unreadable) and
// where the walk stopped at its limit.
func (w *workspace) unanalysed() []string {
	var out []string
	for _, p := range w.files {
		var ue *diagnostics.UnreadableError
		if _, err := w.snap.File(p); errors.As(err, &ue) {
			out = append(out, fmt.Sprintf("%s: could not be analysed (NR001)", w.rel(p)))
		}
	}
	return append(out, w.snap.WalkTruncated()...)
}

// inside reports whether path is dir or below it.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
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
