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
	"hash/maphash"
	"runtime/debug"
	"sort"
	"strings"

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

// FixReport is what FixAll did to one file.
type FixReport struct {
	Text  string   // the text with every fix that cleared its finding applied
	Fixed []string // the IDs of the rules whose findings were fixed, in the order applied
	// NotFixed are the findings whose fix ran but did not clear them: their edits were
	// undone and they were not tried again.
	NotFixed []diagnostics.Finding
}

// Notes says, a line a finding, which fixes did not clear their finding; name gives the
// name to show for a file's path.
func (r FixReport) Notes(name func(path string) string) []string {
	var out []string
	for _, f := range r.NotFixed {
		out = append(out, fmt.Sprintf("%s:%s: %s fix did not clear the finding: %s", name(f.File), f.Range.Start, f.RuleID, f.Message))
	}
	return out
}

// FixAll applies the preferred single-file fix of every finding in path, one at a time
// (re-diagnosing after each, so fixes never conflict). The snapshot is not changed.
//
// It converges, and a second FixAll of its result changes nothing. A finding is known by its
// rule and subject (the text it points at and its message without numbers), not by its
// position, which an earlier fix moves. A fix is kept only when it lowers the number of
// findings of that identity; otherwise it is undone, reported in NotFixed and not tried
// again. A fix that brings back the text of an earlier round undoes the fixes applied since
// (two rules that want opposite things): those are undone too and reported with it. The
// rounds end when no fix is left to try.
func FixAll(ctx context.Context, s *diagnostics.Snapshot, path string) (FixReport, error) {
	f, err := s.File(path)
	if err != nil {
		return FixReport{}, err
	}
	rep := FixReport{Text: f.Text}
	// The rounds' states, the first the file as it is; each later one records the fix that
	// made it, so that it can be undone.
	type round struct {
		s        *diagnostics.Snapshot
		f        *diagnostics.File
		findings []diagnostics.Finding
		by       diagnostics.Finding // the finding whose fix made this state
		id       string
	}
	seed := maphash.MakeSeed()
	states := []round{{s: s, f: f, findings: s.Diagnose(ctx, path)}}
	seen := map[uint64]int{maphash.String(seed, f.Text): 0} // a text → its state
	// The identities whose fix was tried and did not clear them.
	done := map[string]bool{}
	for range maxFixRounds {
		if err := ctx.Err(); err != nil {
			return FixReport{}, err
		}
		cur := states[len(states)-1]
		a, id, ok := nextFix(ctx, cur.s, cur.f, cur.findings, done)
		if !ok {
			break
		}
		next, err := text.Apply(cur.f.Text, a.Edits[0].Edits)
		if err != nil {
			return FixReport{}, fmt.Errorf("%s: %s: %v", path, a.Title, err)
		}
		done[id] = true
		h := maphash.String(seed, next)
		if k, ok := seen[h]; ok {
			// Nothing changes (the fix did not clear its finding), or this fix undoes the
			// fixes since state k, which are undone and reported instead: back to k.
			if k == len(states)-1 {
				rep.NotFixed = append(rep.NotFixed, a.Finding)
			}
			for _, st := range states[k+1:] {
				done[st.id] = true
				rep.NotFixed = append(rep.NotFixed, st.by)
				delete(seen, maphash.String(seed, st.f.Text))
			}
			states = states[:k+1]
			continue
		}
		ns := cur.s.WithFile(f.Path, f.Version, f.LanguageID, next)
		nf, err := ns.File(path)
		if err != nil {
			return FixReport{}, err
		}
		after := ns.Diagnose(ctx, path)
		if err := ctx.Err(); err != nil {
			return FixReport{}, err
		}
		if count(nf, after, id) >= count(cur.f, cur.findings, id) {
			rep.NotFixed = append(rep.NotFixed, a.Finding)
			continue
		}
		delete(done, id) // the finding is gone: another of the same identity is another finding
		seen[h] = len(states)
		states = append(states, round{s: ns, f: nf, findings: after, by: a.Finding, id: id})
	}
	last := states[len(states)-1]
	rep.Text = last.f.Text
	for _, st := range states[1:] {
		rep.Fixed = append(rep.Fixed, st.by.RuleID)
	}
	return rep, nil
}

// nextFix picks the first finding (in file order) not done whose preferred fix edits only
// the file.
func nextFix(ctx context.Context, s *diagnostics.Snapshot, f *diagnostics.File, findings []diagnostics.Finding, done map[string]bool) (Action, string, bool) {
	for _, fd := range findings {
		id := FindingID(f, fd)
		if fd.File != f.Path || done[id] {
			continue
		}
		for _, a := range For(ctx, s, fd) {
			if a.Preferred && len(a.Edits) == 1 && a.Edits[0].Path == f.Path && len(a.Edits[0].Edits) > 0 {
				return a, id, true
			}
		}
	}
	return Action{}, "", false
}

// FindingID names a finding of file f as FixAll knows it, by its rule and subject: the text
// its range covers and its message with the numbers (line numbers, uids) left out.
func FindingID(f *diagnostics.File, fd diagnostics.Finding) string {
	l := f.Lines()
	subject := f.Text[l.Offset(fd.Range.Start):max(l.Offset(fd.Range.Start), l.Offset(fd.Range.End))]
	msg := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, fd.Message)
	return fd.RuleID + "\x00" + subject + "\x00" + msg
}

// count is the number of findings of file f with identity id.
func count(f *diagnostics.File, findings []diagnostics.Finding, id string) int {
	n := 0
	for _, fd := range findings {
		if fd.File == f.Path && FindingID(f, fd) == id {
			n++
		}
	}
	return n
}

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
