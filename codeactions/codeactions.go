// Package codeactions is the toolkit quick-fixes are written with, and the machinery that
// applies them: minimal YAML edits ([YAMLEditor]), securityContext settings merged into a
// values or patch mapping ([EnsureSettings]), line edits of Dockerfiles, and fix-all. A rule
// carries its own fix ([diagnostics.Rule].Fix, in its group's file); the language server
// turns the planned actions into LSP code actions and `nonroot-ls fix` applies them to files.
// A fix edits the least text it can, keeps comments, indentation and line endings, and is
// idempotent. The package imports no rule group.
package codeactions

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Kinds of code action (the LSP's CodeActionKind values).
const (
	KindQuickFix = diagnostics.KindQuickFix
	KindFixAll   = diagnostics.KindFixAll
)

// Action is one planned fix; FileEdit its edits to one file.
type (
	Action   = diagnostics.Action
	FileEdit = diagnostics.FileEdit
)

// HasFix reports whether the rule has a quick-fix.
func HasFix(r *diagnostics.Rule) bool { return r != nil && r.Fix != nil }

// For returns the fixes for a finding (none when its rule has no fix). A fix that panics
// yields no fixes, and the panic is logged.
func For(ctx context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) (actions []Action) {
	r := s.Engine().RuleByID(f.RuleID)
	if !HasFix(r) || ctx.Err() != nil {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			s.Engine().Logf("panic in the fix of %s: %v\n%s", f.RuleID, v, debug.Stack())
			actions = nil
		}
	}()
	if p, ok := f.Data.(diagnostics.FixPlanner); ok {
		actions = p.PlanFix(ctx, s, f)
	} else {
		actions = r.Fix(ctx, s, f)
	}
	for i := range actions {
		actions[i].Finding = f
		if actions[i].Kind == "" {
			actions[i].Kind = KindQuickFix
		}
	}
	return actions
}

// InRange returns the fixes for the findings of path that overlap rng.
func InRange(ctx context.Context, s *diagnostics.Snapshot, path string, rng text.Range) []Action {
	var out []Action
	for _, f := range s.Diagnose(ctx, path) {
		if rng.End.Less(f.Range.Start) || f.Range.End.Less(rng.Start) {
			continue
		}
		out = append(out, For(ctx, s, f)...)
	}
	return out
}

// maxFixRounds bounds FixAll: each round applies one fix and re-diagnoses.
const maxFixRounds = 64

// FixAll applies the preferred single-file fix of every finding in path, one at a time
// (re-diagnosing after each, so fixes never conflict), and returns the new text and the
// IDs of the rules it fixed. The snapshot is not changed.
func FixAll(ctx context.Context, s *diagnostics.Snapshot, path string) (string, []string, error) {
	f, err := s.File(path)
	if err != nil {
		return "", nil, err
	}
	cur := f.Text
	var fixed []string
	tried := map[string]bool{}
	for round := 0; round < maxFixRounds; round++ {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		a, ok := nextFix(ctx, s, f.Path, tried)
		if !ok {
			break
		}
		next, err := text.Apply(cur, a.Edits[0].Edits)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %s: %v", path, a.Title, err)
		}
		// A finding whose fix did not remove it is not tried again.
		tried[findingKey(a.Finding)] = true
		if next == cur {
			continue
		}
		cur = next
		fixed = append(fixed, a.Finding.RuleID)
		s = s.WithFile(f.Path, f.Version, f.LanguageID, cur)
	}
	return cur, fixed, nil
}

// nextFix picks the first finding (in file order) whose preferred fix edits only path.
func nextFix(ctx context.Context, s *diagnostics.Snapshot, path string, tried map[string]bool) (Action, bool) {
	for _, fd := range s.Diagnose(ctx, path) {
		if fd.File != path || tried[findingKey(fd)] {
			continue
		}
		for _, a := range For(ctx, s, fd) {
			if a.Preferred && len(a.Edits) == 1 && a.Edits[0].Path == path && len(a.Edits[0].Edits) > 0 {
				return a, true
			}
		}
	}
	return Action{}, false
}

func findingKey(f diagnostics.Finding) string { return f.RuleID + "@" + f.Range.String() }

// Sorted orders actions preferred first, then by title, for stable presentation.
func Sorted(as []Action) []Action {
	sort.SliceStable(as, func(i, j int) bool {
		if as[i].Preferred != as[j].Preferred {
			return as[i].Preferred
		}
		return as[i].Title < as[j].Title
	})
	return as
}
