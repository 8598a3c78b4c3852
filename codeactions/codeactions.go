// Package codeactions plans quick-fixes for findings as plain text edits. The language server
// turns them into LSP code actions; `nonroot-ls fix` applies them to files. A planner edits
// the least text it can, keeps comments, indentation and line endings, and is idempotent.
package codeactions

import (
	"fmt"
	"sort"
	"sync"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Kinds of code action (the LSP's CodeActionKind values).
const (
	KindQuickFix = "quickfix"
	KindFixAll   = "source.fixAll.nonroot-ls"
)

// Action is one planned fix.
type Action struct {
	Title     string
	Kind      string
	Preferred bool
	Finding   diagnostics.Finding
	Edits     []FileEdit // possibly in several files (a cross-file fix)
}

// FileEdit is a set of non-overlapping edits to one file.
type FileEdit struct {
	Path  string
	Edits []text.Edit
}

// Planner plans the fixes for one finding of its rule in snapshot s. It returns none when it
// cannot fix this case.
type Planner func(s *diagnostics.Snapshot, f diagnostics.Finding) []Action

var planners = struct {
	sync.Mutex
	m map[string]Planner
}{m: map[string]Planner{}}

// Register sets the planner for a rule. Call it from init.
func Register(ruleID string, p Planner) {
	planners.Lock()
	defer planners.Unlock()
	if planners.m[ruleID] != nil {
		panic("codeactions: duplicate planner for " + ruleID)
	}
	planners.m[ruleID] = p
}

// HasFix reports whether a planner is registered for the rule.
func HasFix(ruleID string) bool {
	planners.Lock()
	defer planners.Unlock()
	return planners.m[ruleID] != nil
}

// For returns the fixes for a finding (none when its rule has no planner). A planner that
// panics yields no fixes.
func For(s *diagnostics.Snapshot, f diagnostics.Finding) (actions []Action) {
	planners.Lock()
	p := planners.m[f.RuleID]
	planners.Unlock()
	if p == nil {
		return nil
	}
	defer func() {
		if recover() != nil {
			actions = nil
		}
	}()
	actions = p(s, f)
	for i := range actions {
		actions[i].Finding = f
		if actions[i].Kind == "" {
			actions[i].Kind = KindQuickFix
		}
	}
	return actions
}

// InRange returns the fixes for the findings of path that overlap rng.
func InRange(s *diagnostics.Snapshot, path string, rng text.Range) []Action {
	var out []Action
	for _, f := range s.Diagnose(path) {
		if rng.End.Less(f.Range.Start) || f.Range.End.Less(rng.Start) {
			continue
		}
		out = append(out, For(s, f)...)
	}
	return out
}

// maxFixRounds bounds FixAll: each round applies one fix and re-diagnoses.
const maxFixRounds = 64

// FixAll applies the preferred single-file fix of every finding in path, one at a time
// (re-diagnosing after each, so fixes never conflict), and returns the new text and the
// IDs of the rules it fixed. The snapshot is not changed.
func FixAll(s *diagnostics.Snapshot, path string) (string, []string, error) {
	f, err := s.File(path)
	if err != nil {
		return "", nil, err
	}
	cur := f.Text
	var fixed []string
	tried := map[string]bool{}
	for round := 0; round < maxFixRounds; round++ {
		a, ok := nextFix(s, f.Path, tried)
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
func nextFix(s *diagnostics.Snapshot, path string, tried map[string]bool) (Action, bool) {
	for _, fd := range s.Diagnose(path) {
		if fd.File != path || tried[findingKey(fd)] {
			continue
		}
		for _, a := range For(s, fd) {
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
