package diagnostics

import (
	"context"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Kinds of code action (the LSP's CodeActionKind values).
const (
	KindQuickFix = "quickfix"
	KindFixAll   = "source.fixAll.nonroot-ls"
)

// Action is one planned quick-fix: plain text edits, possibly in several files.
type Action struct {
	Title     string
	Kind      string // KindQuickFix when empty
	Preferred bool   // applied by fix-all and `nonroot-ls fix`
	Finding   Finding
	Edits     []FileEdit
}

// FileEdit is a set of non-overlapping edits to one file.
type FileEdit struct {
	Path  string
	Edits []text.Edit
}

// Single returns one action that edits one file.
func Single(title, path string, preferred bool, edits ...text.Edit) []Action {
	return []Action{{Title: title, Kind: KindQuickFix, Preferred: preferred, Edits: []FileEdit{{Path: path, Edits: edits}}}}
}

// FixPlanner is a finding payload that plans the finding's fix itself: a finding a group
// carries to a source file for another group's rule ([Group.Carried]) is fixed where the
// carrying group says (the kustomize patch that sets the field), not by the rule's own fix.
type FixPlanner interface {
	PlanFix(ctx context.Context, s *Snapshot, f Finding) []Action
}
