package codeactions_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
)

// TestCorpusFixSafety runs fix-all on every file of the shared corpus (skipped when it is
// absent) and checks what a user running `nonroot-ls fix` relies on: the fixed file parses
// as well as before (no new NR001), a second fix changes nothing, every comment line is kept,
// and every finding that has a fix is gone afterwards or reported as not fixed.
func TestCorpusFixSafety(t *testing.T) {
	corpus, _ := filepath.Abs("../../shared/corpus")
	if _, err := os.Stat(corpus); err != nil {
		t.Skip("no corpus at ../../shared/corpus")
	}
	ctx := context.Background()
	s := alltest.Engine().NewSnapshot([]string{corpus}, diagnostics.Config{})
	var files, changed, fixable, fixed, notFixed int
	for _, path := range s.Walk() {
		f, err := s.File(path)
		if err != nil {
			continue
		}
		files++
		rel, _ := filepath.Rel(corpus, path)
		before := s.Diagnose(ctx, path)
		rep, err := codeactions.FixAll(ctx, s, path)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if rep.Text == f.Text {
			continue
		}
		changed++
		s2 := s.WithFile(path, 2, f.LanguageID, rep.Text)
		f2, _ := s2.File(path)
		after := s2.Diagnose(ctx, path)
		if n, m := count(before, "NR001"), count(after, "NR001"); m > n {
			t.Errorf("%s: the fixed file does not parse (%d NR001 before, %d after):\n%s", rel, n, m, rep.Text)
		}
		again, err := codeactions.FixAll(ctx, s2, path)
		if err != nil || again.Text != rep.Text {
			t.Errorf("%s: a second fix changes the text again (%v)", rel, err)
		}
		for _, line := range strings.Split(f.Text, "\n") {
			c := strings.TrimSpace(line)
			// A commented-out scaffold under `key: {}` (helm create's securityContext) is
			// replaced by the keys the fix writes: "# runAsNonRoot: true" becomes the key.
			if strings.HasPrefix(c, "#") && !strings.Contains(rep.Text, c) && !hasLine(rep.Text, strings.TrimSpace(strings.TrimPrefix(c, "#"))) {
				t.Errorf("%s: the fix dropped the comment %q", rel, c)
			}
		}
		left := map[string]bool{}
		for _, fd := range after {
			left[codeactions.FindingID(f2, fd)] = true
		}
		reported := map[string]bool{}
		for _, fd := range rep.NotFixed {
			reported[codeactions.FindingID(f, fd)] = true
		}
		for _, fd := range before {
			if fd.File != path || !hasFileFix(ctx, s, fd) {
				continue
			}
			fixable++
			id := codeactions.FindingID(f, fd)
			switch {
			case reported[id]:
				notFixed++
			case left[id]:
				t.Errorf("%s: %s is neither fixed nor reported as not fixed: %s", rel, fd.RuleID, fd.Message)
			default:
				fixed++
			}
		}
	}
	t.Logf("corpus: %d files, %d changed by fix-all; %d findings with a fix: %d fixed, %d reported not fixed", files, changed, fixable, fixed, notFixed)
}

// hasFileFix reports whether the finding has a preferred fix that edits its own file only
// (what fix-all applies).
func hasFileFix(ctx context.Context, s *diagnostics.Snapshot, fd diagnostics.Finding) bool {
	for _, a := range codeactions.For(ctx, s, fd) {
		if a.Preferred && len(a.Edits) == 1 && a.Edits[0].Path == fd.File && len(a.Edits[0].Edits) > 0 {
			return true
		}
	}
	return false
}

// hasLine reports whether a line of text, its indentation aside, is line.
func hasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func count(fs []diagnostics.Finding, rule string) int {
	n := 0
	for _, f := range fs {
		if f.RuleID == rule {
			n++
		}
	}
	return n
}
