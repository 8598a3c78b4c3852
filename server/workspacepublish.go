package server

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// Workspace problems. Editors list the problems of the documents a server publishes; with
// scope "workspace" (setting diagnostics.scope, section nonroot) the server publishes, besides
// the open documents, the problems of every file the workspace scan reads, as `check` reports
// them: a Dockerfile's findings are in the Problems panel before it is opened. Unset, the scope
// is "workspace" while the scan reads at most [diagnostics.MaxWorkspaceFiles] files, else
// "openFiles" (open documents, and the files linked to a changed one).
//
// The publisher does this after the open documents of each run, once the first scan has
// ended, and only sends what changed. After an edit it first waits for the edits to pause
// (workspaceQuiet), so typing does not re-diagnose the workspace on every keystroke. A file
// published this way that is deleted, becomes ignored or leaves the scope has its problems
// cleared.

// workspaceQuiet is how long the publisher waits after an edit before re-diagnosing the
// files that are not open.
const workspaceQuiet = 200 * time.Millisecond

// workspaceFiles returns the files of st's walk (sorted), not open, whose problems the scope
// says to publish, and whether the unset scope fell back to openFiles because the walk is too
// large.
func workspaceFiles(st *state) (files []string, tooMany bool) {
	sc := workspaceScope(st.snap)
	for _, p := range sc.files {
		if st.docs[p] == nil {
			files = append(files, p)
		}
	}
	return files, sc.tooMany
}

type scopeKey struct{}

// scoped is the walk's files whose problems the scope says to publish, open or not.
type scoped struct {
	walk    []string
	files   []string
	tooMany bool
}

// workspaceScope is scoped for snap, brought over from the previous snapshot's when neither
// the walk nor a configuration changed (an edit of a document): it reads every file's
// configuration otherwise.
func workspaceScope(snap *diagnostics.Snapshot) *scoped {
	return snap.MemoDerived(scopeKey{}, func(prev any, changed []string, all bool) any {
		walk := snap.Walk()
		if p, ok := prev.(*scoped); ok && !all && len(p.walk) == len(walk) && (len(walk) == 0 || &p.walk[0] == &walk[0]) &&
			!slices.ContainsFunc(changed, func(c string) bool { return filepath.Base(c) == diagnostics.ConfigFileName }) {
			return p
		}
		sc := &scoped{walk: walk}
		small := len(walk) <= diagnostics.MaxWorkspaceFiles
		scopes := map[string]string{} // by folder: a file's configuration is its folder's
		for _, p := range walk {
			dir := filepath.Dir(p)
			scope, ok := scopes[dir]
			if !ok {
				c := snap.ConfigFor(p)
				scope = c.DiagnosticsScope()
				scopes[dir] = scope
			}
			switch scope {
			case diagnostics.ScopeOpenFiles:
				continue
			case diagnostics.ScopeWorkspace:
			default:
				if !small {
					sc.tooMany = true
					continue
				}
			}
			sc.files = append(sc.files, p)
		}
		return sc
	}).(*scoped)
}

// scanned is called when the first workspace scan has ended: workspace problems may be
// published from now on.
func (p *publisher) scanned(st *state) {
	p.mu.Lock()
	p.indexed = true
	p.mu.Unlock()
	p.changed(st, nil)
}

// publishWorkspace publishes the problems of the workspace's files that are not open (see
// above) and clears those of files no longer in scope. It returns false when it stopped
// early: a newer state arrived (the next run does it again) or ctx is done. edited says the
// run follows edits, so it first waits for them to pause.
func (p *publisher) publishWorkspace(ctx context.Context, st *state, edited bool) bool {
	p.mu.Lock()
	indexed := p.indexed
	p.mu.Unlock()
	if !indexed {
		return true
	}
	files, tooMany := workspaceFiles(st)
	if tooMany && !p.warnedSize {
		p.warnedSize = true
		p.s.logf(protocol.MessageTypeInfo, "the workspace has more than %d files nonroot-ls reads: only the problems of open files are published (set %s.diagnostics.scope to %q to publish them all)",
			diagnostics.MaxWorkspaceFiles, Section, diagnostics.ScopeWorkspace)
	}
	p.mu.Lock()
	pending := len(files) > 0 || len(p.workspace) > 0
	p.mu.Unlock()
	if !pending {
		return true
	}
	if edited && !p.quiet(ctx) {
		return false
	}
	for _, path := range files {
		if ctx.Err() != nil {
			return false
		}
		if p.superseded(st) {
			return false
		}
		ds, ok := p.diagnoseWithin(ctx, st, path)
		if !ok {
			continue
		}
		p.mu.Lock()
		last, seen := p.last[path]
		force := p.reopened[path]
		p.mu.Unlock()
		if !force && ((seen && reflect.DeepEqual(last, ds)) || (!seen && len(ds) == 0)) {
			continue
		}
		if p.send(ctx, &protocol.PublishDiagnosticsParams{URI: uri.File(path), Diagnostics: ds}) {
			p.mu.Lock()
			p.last[path] = ds
			p.workspace[path] = true
			delete(p.reopened, path)
			p.mu.Unlock()
		}
	}
	// Clear what is no longer in scope: files deleted or ignored (not in the walk any more,
	// also when they were published as a changed file's dependents) and files this published
	// that the scope now leaves out.
	walked := st.snap.Walk()
	p.mu.Lock()
	var gone []string
	for path := range p.last {
		if st.docs[path] != nil {
			continue
		}
		_, walkedIt := slices.BinarySearch(walked, path)
		_, inScope := slices.BinarySearch(files, path)
		if !walkedIt || (p.workspace[path] && !inScope) {
			gone = append(gone, path)
		}
	}
	p.mu.Unlock()
	slices.Sort(gone)
	for _, path := range gone {
		if p.superseded(st) {
			return false
		}
		if p.send(ctx, &protocol.PublishDiagnosticsParams{URI: uri.File(path), Diagnostics: []protocol.Diagnostic{}}) {
			p.mu.Lock()
			delete(p.last, path)
			delete(p.workspace, path)
			delete(p.reopened, path)
			p.mu.Unlock()
		}
	}
	return true
}

// quiet waits workspaceQuiet for the edits to pause. It returns false (re-poking the
// publisher) when something new arrives first, or when ctx is done.
func (p *publisher) quiet(ctx context.Context) bool {
	t := time.NewTimer(workspaceQuiet)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.kick:
		p.poke()
		return false
	case <-ctx.Done():
		return false
	}
}

// keepClosed is called for a document closed since the last run: when the workspace scope
// covers it, its problems are not cleared but re-published from disk by publishWorkspace, so
// the Problems panel does not flicker. They are published whatever they are: what the client
// shows is the open document's, which closed() may have captured before its last publication
// was recorded.
func (p *publisher) keepClosed(st *state, c closedDoc) bool {
	p.mu.Lock()
	indexed := p.indexed
	p.mu.Unlock()
	if !indexed || st.docs[c.path] != nil || c.uri != uri.File(c.path) {
		return false
	}
	files, _ := workspaceFiles(st)
	if _, ok := slices.BinarySearch(files, c.path); !ok {
		return false
	}
	p.mu.Lock()
	p.last[c.path] = c.last
	p.workspace[c.path] = true
	p.reopened[c.path] = true
	p.mu.Unlock()
	return true
}
