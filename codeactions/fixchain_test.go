package codeactions_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// TestPreferredFixesBringNoNewErrors applies, one at a time, the preferred fix of every
// finding of every fixture (rule fixtures, workspaces, quick-fix cases) and checks that no
// error appears that was not there: a fix must not walk into the next error (NR201's fix
// meeting the kubelet's refusal of a named or root image, NR301's…).
func TestPreferredFixesBringNoNewErrors(t *testing.T) {
	var dirs []string
	for _, g := range []string{"../testdata/rules/*/*", "../testdata/workspaces/*", "../testdata/fixes/*/*"} {
		ds, _ := filepath.Glob(g)
		for _, d := range ds {
			if !strings.HasSuffix(d, ".golden") {
				dirs = append(dirs, d)
			}
		}
	}
	if len(dirs) < 100 {
		t.Fatalf("only %d fixture folders", len(dirs))
	}
	eng := alltest.Engine()
	ctx := context.Background()
	fixes := 0
	for _, dir := range dirs {
		abs, _ := filepath.Abs(dir)
		s := eng.NewSnapshot([]string{abs}, diagnostics.Config{})
		before := errorCounts(ctx, s)
		for _, p := range s.Walk() {
			for _, fd := range s.Diagnose(ctx, p) {
				a, ok := preferred(codeactions.For(ctx, s, fd))
				if !ok {
					continue
				}
				fixes++
				next, err := applyAction(s, a)
				if err != nil {
					t.Errorf("%s: %s: fix %q: %v", dir, fd, a.Title, err)
					continue
				}
				for k, n := range errorCounts(ctx, next) {
					if n > before[k] {
						t.Errorf("%s: the fix %q of %s %s brings a new error: %s", dir, a.Title, fd.RuleID, shortPos(fd), k)
					}
				}
			}
		}
	}
	t.Logf("%d preferred fixes applied over %d fixture folders", fixes, len(dirs))
}

func preferred(as []codeactions.Action) (codeactions.Action, bool) {
	for _, a := range as {
		if a.Preferred {
			return a, true
		}
	}
	return codeactions.Action{}, false
}

// errorCounts counts the error-severity findings of every file of s by file and rule.
func errorCounts(ctx context.Context, s *diagnostics.Snapshot) map[string]int {
	out := map[string]int{}
	for _, p := range s.Walk() {
		for _, fd := range s.Diagnose(ctx, p) {
			if fd.Severity == diagnostics.SeverityError {
				out[filepath.Base(fd.File)+" "+fd.RuleID]++
			}
		}
	}
	return out
}

// applyAction returns s with the action's edits applied to its files.
func applyAction(s *diagnostics.Snapshot, a codeactions.Action) (*diagnostics.Snapshot, error) {
	texts := map[string]string{}
	var order []string
	for _, fe := range a.Edits {
		src, ok := texts[fe.Path]
		if !ok {
			f, err := s.File(fe.Path)
			if err != nil {
				return nil, err
			}
			src = f.Text
			order = append(order, fe.Path)
		}
		next, err := text.Apply(src, fe.Edits)
		if err != nil {
			return nil, err
		}
		texts[fe.Path] = next
	}
	slices.Sort(order)
	for _, p := range order {
		f, _ := s.File(p)
		s = s.WithFile(p, f.Version+1, f.LanguageID, texts[p])
	}
	return s, nil
}

func shortPos(fd diagnostics.Finding) string {
	return fmt.Sprintf("%s:%d", filepath.Base(fd.File), fd.Range.Start.Line+1)
}
