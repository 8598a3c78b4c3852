package server

import (
	"context"
	"reflect"
	"slices"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// appendDependents appends to order the files whose diagnostics depend on the changed ones
// (Snapshot.Dependents: the manifests and compose files linked to an edited Dockerfile, the
// files a link source names), so they are re-published right after the changed documents —
// also when they are not open: a linked manifest's NR3xx findings follow its Dockerfile.
func appendDependents(order []string, st *state, changed []string) []string {
	for _, x := range changed {
		for _, dep := range st.snap.Dependents(x) {
			if !slices.Contains(order, dep) {
				order = append(order, dep)
			}
		}
	}
	return order
}

// publishIndexed publishes the diagnostics of a file that is not open (no version), when
// they differ from what was last published for it.
func (p *publisher) publishIndexed(ctx context.Context, st *state, path string) {
	params := &protocol.PublishDiagnosticsParams{URI: uri.File(path), Diagnostics: p.s.diagnose(ctx, st, path)}
	p.mu.Lock()
	last, seen := p.last[path]
	p.mu.Unlock()
	if (seen && reflect.DeepEqual(last, params.Diagnostics)) || (!seen && len(params.Diagnostics) == 0) {
		return
	}
	if p.send(ctx, params) {
		p.mu.Lock()
		p.last[path] = params.Diagnostics
		delete(p.workspace, path) // published as a dependent: kept in any scope
		p.mu.Unlock()
	}
}
