package codeactions_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// movingRule reports the comment "# moving" and its fix only adds a line above it: the
// finding moves and stays.
var movingRule = &diagnostics.Rule{
	ID:       "NR990",
	Title:    "test: a fix that moves its finding",
	Severity: diagnostics.SeverityWarning,
	Kinds:    []diagnostics.FileKind{diagnostics.KindDockerfile},
	FixTitle: "Add a line",
	Fix: func(_ context.Context, _ *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
		at := text.Pos{Line: f.Range.Start.Line}
		return diagnostics.Single("Add a line", f.File, true, text.Edit{Range: text.Range{Start: at, End: at}, NewText: "RUN true\n"})
	},
	Run: func(pass *diagnostics.Pass) {
		l := pass.File.Lines()
		for n := 0; n < l.Count(); n++ {
			if l.Line(n) == "# moving" {
				pass.Reportf(text.Range{Start: text.Pos{Line: n, Col: 2}, End: text.Pos{Line: n, Col: 8}}, "moves (line %d)", n+1)
			}
		}
	},
}

// engineWith is the product's engine with test rules added.
func engineWith(t *testing.T, rules ...*diagnostics.Rule) *diagnostics.Engine {
	t.Helper()
	e, err := diagnostics.New(append(slices.Clone(all.Rules), rules...), diagnostics.Options{
		Groups: all.Groups(all.Options{HelmRender: helmrender.Render}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestFixAllConverges: a fix whose finding survives (only moved) is applied once, undone
// and reported, not repeated until the round limit.
func TestFixAllConverges(t *testing.T) {
	e := engineWith(t, movingRule)
	dir := t.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	src := "FROM alpine:3.21\n# moving\nUSER 10001:0\n"
	s := e.NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(path, 1, "dockerfile", src)
	rep, err := codeactions.FixAll(context.Background(), s, path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rep.Text, "RUN true") {
		t.Errorf("the fix that did not clear its finding was kept:\n%s", rep.Text)
	}
	if slices.Contains(rep.Fixed, "NR990") {
		t.Errorf("NR990 reported fixed: %v", rep.Fixed)
	}
	notes := rep.Notes(filepath.Base)
	if len(notes) != 1 || !strings.Contains(notes[0], "Dockerfile:2:3: NR990 fix did not clear the finding") {
		t.Errorf("notes: %q", notes)
	}
}

// TestFixAllRedis: the docker-library redis shape (the data directory chowned, declared a
// VOLUME, then the WORKDIR) is fixed once: NR107 is gone and a second fix changes nothing.
func TestFixAllRedis(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	src := "FROM debian:bookworm-slim\nRUN groupadd -r redis && useradd -r -g redis redis\nRUN mkdir /data && chown redis:redis /data\nVOLUME /data\nWORKDIR /data\nUSER 999\nCMD [\"redis-server\"]\n"
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(path, 1, "dockerfile", src)
	rep, err := codeactions.FixAll(context.Background(), s, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(rep.Text, "\n"); n > 10 {
		t.Errorf("%d lines after the fix:\n%s", n, rep.Text)
	}
	if len(rep.NotFixed) > 0 {
		t.Errorf("not fixed: %v", rep.NotFixed)
	}
	s = s.WithFile(path, 2, "dockerfile", rep.Text)
	for _, f := range s.Diagnose(context.Background(), path) {
		if f.RuleID == "NR107" {
			t.Errorf("left after the fix: %s\n%s", f, rep.Text)
		}
	}
	again, err := codeactions.FixAll(context.Background(), s, path)
	if err != nil {
		t.Fatal(err)
	}
	if again.Text != rep.Text {
		t.Errorf("a second fix changed the text:\n%s\nto\n%s", rep.Text, again.Text)
	}
}

// swapRule reports the comment "# from" and its fix rewrites it to "# to".
func swapRule(id, from, to string) *diagnostics.Rule {
	return &diagnostics.Rule{
		ID: id, Title: "test: " + from + " → " + to, Severity: diagnostics.SeverityWarning,
		Kinds: []diagnostics.FileKind{diagnostics.KindDockerfile}, FixTitle: "Swap",
		Fix: func(_ context.Context, _ *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
			return diagnostics.Single("Swap", f.File, true, text.Edit{Range: f.Range, NewText: to})
		},
		Run: func(pass *diagnostics.Pass) {
			l := pass.File.Lines()
			for n := 0; n < l.Count(); n++ {
				if l.Line(n) == "# "+from {
					pass.Reportf(text.Range{Start: text.Pos{Line: n, Col: 2}, End: text.Pos{Line: n, Col: 2 + len(from)}}, "%s wanted", to)
				}
			}
		},
	}
}

// TestFixAllConflictingRules: two rules whose fixes undo each other end where they started,
// the undone fix reported, and a second fix-all changes nothing.
func TestFixAllConflictingRules(t *testing.T) {
	e := engineWith(t, swapRule("NR991", "alpha", "omega"), swapRule("NR992", "omega", "alpha"))
	dir := t.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	src := "FROM alpine:3.21\n# alpha\nUSER 10001:0\n"
	s := e.NewSnapshot([]string{dir}, diagnostics.Config{})
	for i := range 2 {
		rep, err := codeactions.FixAll(context.Background(), s.WithFile(path, int32(i+1), "dockerfile", src), path)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Text != src || len(rep.Fixed) != 0 || len(rep.NotFixed) != 1 || rep.NotFixed[0].RuleID != "NR991" {
			t.Errorf("run %d: fixed %v, not fixed %v, text\n%s", i+1, rep.Fixed, rep.NotFixed, rep.Text)
		}
	}
}
