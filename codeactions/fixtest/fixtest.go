// Package fixtest checks quick-fixes against golden files and the properties every fix must
// have: after the fix the files re-parse (no NR001), the finding is gone, fixing again
// changes nothing, every comment line is kept, and CRLF files stay CRLF.
//
// Layout: testdata/fixes/<RULE>/<case>/ is a workspace holding at least one finding of RULE;
// testdata/fixes/<RULE>/<case>.golden/ holds, at the same relative paths, every file the
// fix of the first such finding changes. Run `go test ./... -update` to rewrite goldens.
package fixtest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

var update = flag.Bool("update", false, "rewrite quick-fix golden files")

var ctx = context.Background()

// RunAll runs with eng every case under fixesDir (testdata/fixes), one subtest per rule and
// case. Every rule of eng with a fix must have at least one case.
func RunAll(t *testing.T, eng *diagnostics.Engine, fixesDir string) {
	t.Helper()
	seen := map[string]bool{}
	rules, _ := os.ReadDir(fixesDir)
	for _, r := range rules {
		if !r.IsDir() {
			continue
		}
		cases, _ := os.ReadDir(filepath.Join(fixesDir, r.Name()))
		for _, c := range cases {
			if !c.IsDir() || strings.HasSuffix(c.Name(), ".golden") {
				continue
			}
			seen[r.Name()] = true
			dir := filepath.Join(fixesDir, r.Name(), c.Name())
			t.Run(r.Name()+"/"+c.Name(), func(t *testing.T) { Case(t, eng, r.Name(), dir) })
		}
	}
	for _, rule := range eng.Rules() {
		if codeactions.HasFix(rule) && !seen[rule.ID] {
			t.Errorf("%s has a quick-fix but no case under %s", rule.ID, fixesDir)
		}
	}
}

// Case checks the fix of the first ruleID finding in the workspace dir against dir+".golden".
func Case(t *testing.T, eng *diagnostics.Engine, ruleID, dir string) {
	t.Helper()
	// Snapshot paths are absolute: so must dir be, for golden paths relative to it.
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for _, crlf := range []bool{false, true} {
		snap := eng.NewSnapshot([]string{dir}, diagnostics.Config{})
		before := map[string]string{}
		for _, p := range snap.Walk() {
			f, err := snap.File(p)
			if err != nil {
				t.Fatal(err)
			}
			src := f.Text
			if crlf {
				src = toCRLF(src)
				snap = snap.WithFile(p, 1, f.LanguageID, src)
			}
			before[p] = src
		}
		fd, ok := first(snap, ruleID)
		if !ok {
			t.Fatalf("no %s finding in %s", ruleID, dir)
		}
		actions := codeactions.Sorted(codeactions.For(ctx, snap, fd))
		if len(actions) == 0 {
			t.Fatalf("%s: no fix planned for %s", dir, fd)
		}
		a := actions[0]
		after := apply(t, snap, a)

		// Golden comparison (LF form is the golden; the CRLF run must equal it in CRLF).
		golden := dir + ".golden"
		var changed []string
		for p := range after {
			changed = append(changed, p)
		}
		sort.Strings(changed)
		if *update && !crlf {
			os.RemoveAll(golden)
			for _, p := range changed {
				gp := filepath.Join(golden, rel(dir, p))
				os.MkdirAll(filepath.Dir(gp), 0o755)
				if err := os.WriteFile(gp, []byte(after[p]), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		var goldenFiles []string
		filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				goldenFiles = append(goldenFiles, filepath.Join(dir, rel(golden, p)))
			}
			return nil
		})
		sort.Strings(goldenFiles)
		if strings.Join(goldenFiles, "\n") != strings.Join(changed, "\n") {
			t.Errorf("crlf=%v: fix %q changed %v, golden has %v", crlf, a.Title, rels(dir, changed), rels(dir, goldenFiles))
		}
		for _, p := range changed {
			want, err := os.ReadFile(filepath.Join(golden, rel(dir, p)))
			if err != nil {
				continue
			}
			w := string(want)
			if crlf {
				w = toCRLF(w)
			}
			if after[p] != w {
				t.Errorf("crlf=%v: %s after fix %q:\n%s\nwant:\n%s", crlf, rel(dir, p), a.Title, after[p], w)
			}
		}

		// Properties.
		next := snap
		for p, src := range after {
			f, _ := snap.File(p)
			next = next.WithFile(p, 2, f.LanguageID, src)
		}
		for _, p := range changed {
			for _, g := range next.Diagnose(ctx, p) {
				if g.RuleID == "NR001" {
					t.Errorf("crlf=%v: after the fix %s does not parse: %s", crlf, rel(dir, p), g)
				}
			}
			if kept := missingComments(before[p], after[p]); len(kept) > 0 {
				t.Errorf("crlf=%v: fix dropped comment lines %q", crlf, kept)
			}
			if crlf && strings.Contains(strings.ReplaceAll(after[p], "\r\n", ""), "\n") {
				t.Errorf("crlf=%v: fix wrote LF line endings into a CRLF file", crlf)
			}
		}
		if count(next, fd.File, ruleID) >= count(snap, fd.File, ruleID) {
			t.Errorf("crlf=%v: %s finding not removed by fix %q", crlf, ruleID, a.Title)
		}
		// Idempotent: planning the same fix again (for any remaining finding of the rule at the
		// same place) changes nothing.
		for _, g := range next.Diagnose(ctx, fd.File) {
			if g.RuleID != ruleID || g.Range.Start.Line != fd.Range.Start.Line {
				continue
			}
			for _, b := range codeactions.For(ctx, next, g) {
				if b.Title == a.Title {
					if again := apply(t, next, b); len(again) > 0 {
						t.Errorf("crlf=%v: fix %q is not idempotent: it changes %v again", crlf, a.Title, rels(dir, keys(again)))
					}
				}
			}
		}
	}
}

func first(s *diagnostics.Snapshot, ruleID string) (diagnostics.Finding, bool) {
	for _, p := range s.Walk() {
		for _, f := range s.Diagnose(ctx, p) {
			if f.RuleID == ruleID {
				return f, true
			}
		}
	}
	return diagnostics.Finding{}, false
}

func count(s *diagnostics.Snapshot, path, ruleID string) int {
	n := 0
	for _, f := range s.Diagnose(ctx, path) {
		if f.RuleID == ruleID {
			n++
		}
	}
	return n
}

// apply returns the new text of every file the action changes.
func apply(t *testing.T, s *diagnostics.Snapshot, a codeactions.Action) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, fe := range a.Edits {
		f, err := s.File(fe.Path)
		if err != nil {
			t.Fatalf("fix %q edits %s: %v", a.Title, fe.Path, err)
		}
		src, ok := out[fe.Path]
		if !ok {
			src = f.Text
		}
		next, err := text.Apply(src, fe.Edits)
		if err != nil {
			t.Fatalf("fix %q: %v", a.Title, err)
		}
		if next != f.Text {
			out[fe.Path] = next
		} else {
			delete(out, fe.Path)
		}
	}
	return out
}

func toCRLF(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// missingComments returns the comment lines of before that after no longer has. A
// commented-out setting (`# runAsNonRoot: true`, `#   - ALL`) that the fix replaced with the
// real setting of the same key (`runAsNonRoot: true`, `- ALL`) is not missing: replacing the
// commented scaffold of `helm create` rather than duplicating it is what such a fix should do.
func missingComments(before, after string) []string {
	have := map[string]int{}
	settings := map[string]bool{}
	for _, l := range strings.Split(strings.ReplaceAll(after, "\r\n", "\n"), "\n") {
		have[strings.TrimSpace(l)]++
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			settings[settingKey(t)] = true
		}
	}
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(before, "\r\n", "\n"), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "#") {
			continue
		}
		if have[l] == 0 {
			if k := settingKey(strings.TrimSpace(strings.TrimPrefix(l, "#"))); k != "" && settings[k] && strings.HasPrefix(strings.TrimSpace(l[1:]), k) {
				continue
			}
			out = append(out, l)
			continue
		}
		have[l]--
	}
	return out
}

// settingKey is the key of a YAML line (`key:` of `key: value`, or `- item`), "" when the
// line is prose rather than a setting.
func settingKey(t string) string {
	if strings.HasPrefix(t, "- ") && len(strings.Fields(t)) == 2 {
		return t
	}
	k, _, ok := strings.Cut(t, ":")
	if !ok || k == "" || strings.ContainsAny(k, " \t#") {
		return ""
	}
	return k + ":"
}

func rel(base, p string) string {
	r, err := filepath.Rel(base, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

func rels(base string, ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = rel(base, p)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
