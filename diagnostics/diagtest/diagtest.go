// Package diagtest checks rules against fixture files, in the manner of analysistest.
//
// A fixture states what it expects with comments on the line before the finding:
//
//	# want "NR101"
//	USER root
//	# want "NR103" "NR104: system range"
//
// Each quoted string is either a rule ID or a regular expression matched against
// "RULE: message". Every want must be met by a finding that starts on the next line that is
// not itself a want comment, and every finding must be wanted.
package diagtest

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// TB is the part of testing.TB the harness uses (so the harness itself can be tested).
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

var _ TB = (*testing.T)(nil)

type want struct {
	file    string
	line    int // 0-based line the finding must start on
	pattern string
	re      *regexp.Regexp
	met     bool
}

var wantRE = regexp.MustCompile(`^\s*#\s*want\s+(.*)$`)
var idRE = regexp.MustCompile(`^NR\d{3}$`)

// Run diagnoses with eng every file it recognises under dir (a workspace root) and checks the
// findings against the want comments. It returns the findings for further checks.
func Run(t TB, eng *diagnostics.Engine, dir string) []diagnostics.Finding {
	t.Helper()
	return RunSnapshot(t, eng.NewSnapshot([]string{dir}, diagnostics.Config{}))
}

// RunSnapshot is Run over a prepared snapshot (e.g. with settings or open documents).
func RunSnapshot(t TB, snap *diagnostics.Snapshot) []diagnostics.Finding {
	t.Helper()
	paths := snap.Walk()
	if len(paths) == 0 {
		t.Fatalf("diagtest: no files under %v", snap.Roots())
	}
	var all []diagnostics.Finding
	for _, p := range paths {
		f, err := snap.File(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		wants, err := parseWants(p, f.Text)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		findings := snap.Diagnose(context.Background(), p)
		all = append(all, findings...)
		rel := relTo(snap.Roots(), p)
	next:
		for _, fd := range findings {
			for _, w := range wants {
				if !w.met && w.line == fd.Range.Start.Line && w.matches(fd) {
					w.met = true
					continue next
				}
			}
			t.Errorf("%s:%d: unexpected finding %s: %s", rel, fd.Range.Start.Line+1, fd.RuleID, fd.Message)
		}
		for _, w := range wants {
			if !w.met {
				t.Errorf("%s:%d: no finding matched %q", rel, w.line+1, w.pattern)
			}
		}
	}
	return all
}

func (w *want) matches(fd diagnostics.Finding) bool {
	if w.re == nil {
		return fd.RuleID == w.pattern
	}
	return w.re.MatchString(fd.RuleID + ": " + fd.Message)
}

func parseWants(path, src string) ([]*want, error) {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var out, pending []*want
	for i, line := range lines {
		m := wantRE.FindStringSubmatch(line)
		if m == nil {
			for _, w := range pending {
				w.line = i
			}
			out = append(out, pending...)
			pending = nil
			continue
		}
		rest := strings.TrimSpace(m[1])
		for rest != "" {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: bad want comment: %v", path, i+1, err)
			}
			pat, _ := strconv.Unquote(q)
			w := &want{file: path, pattern: pat}
			if !idRE.MatchString(pat) {
				if w.re, err = regexp.Compile(pat); err != nil {
					return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
				}
			}
			pending = append(pending, w)
			rest = strings.TrimSpace(rest[len(q):])
		}
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("%s: want comment at end of file", path)
	}
	return out, nil
}

func relTo(roots []string, p string) string {
	for _, r := range roots {
		if rel, err := filepath.Rel(r, p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return p
}

// Dirs returns the immediate subdirectories of dir (each a fixture workspace).
func Dirs(t TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir {
			out = append(out, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}
