package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// Workspace index: after initialized the server scans the workspace folders in the
// background (reporting $/progress when the client supports it) so every Dockerfile,
// manifest and compose file has its model before it is needed, and it registers a file
// watcher (workspace/didChangeWatchedFiles) so changes made outside the editor reach the
// snapshot. Open documents are answered from the state as usual while the scan runs.

// watchedGlobs are the files whose changes can change what the engine reports.
var watchedGlobs = []string{
	"**/{Dockerfile,Containerfile,*.Dockerfile,*.dockerfile,Dockerfile.*,Containerfile.*}",
	"**/*.{yaml,yml,json,hcl,sh}",
	"**/{.env,.gitignore,.nonroot-ls.yaml,.gitlab-ci.yml,.gitlab-ci.yaml,Tiltfile}",
}

// afterInitialized starts the background work that needs the client: the watcher
// registration and the workspace scan. It runs on its own goroutine.
func (s *Server) afterInitialized(ctx context.Context) {
	if s.client.watchFiles {
		s.registerWatchers(ctx)
	}
	s.scan(ctx)
}

func (s *Server) registerWatchers(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var ws []protocol.FileSystemWatcher
	for _, g := range watchedGlobs {
		ws = append(ws, protocol.FileSystemWatcher{GlobPattern: protocol.Pattern(g)})
	}
	opts, err := json.Marshal(protocol.DidChangeWatchedFilesRegistrationOptions{Watchers: ws})
	if err != nil {
		return
	}
	p := &protocol.RegistrationParams{Registrations: []protocol.Registration{{
		ID: "nonroot-ls-watch", Method: protocol.MethodWorkspaceDidChangeWatchedFiles, RegisterOptions: opts,
	}}}
	if _, err := s.conn.Call(ctx, protocol.MethodClientRegisterCapability, p, nil); err != nil {
		s.logf(protocol.MessageTypeWarning, "registering the file watcher: %v", err)
	}
}

// scan indexes the workspace on the state current when it starts (Snapshot.Index: the
// summaries of every file and the workspace graph they make, memoised on the files, so later
// states share them while the files do not change), reporting $/progress. When it ends, the
// publisher may publish the problems of the files that are not open (workspacepublish.go).
func (s *Server) scan(ctx context.Context) {
	st := s.current()
	var token protocol.ProgressToken
	if s.client.progress {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		token = protocol.String(fmt.Sprintf("nonroot-ls-scan-%d", st.seq))
		if _, err := s.conn.Call(ctx, protocol.MethodWindowWorkDoneProgressCreate, &protocol.WorkDoneProgressCreateParams{Token: token}, nil); err != nil {
			token = nil
		}
		cancel()
	}
	progress := func(v any) {
		if token == nil {
			return
		}
		raw, err := json.Marshal(v)
		if err == nil {
			s.conn.Notify(ctx, protocol.MethodProgress, &protocol.ProgressParams{Token: token, Value: raw})
		}
	}
	files := len(st.snap.Walk())
	for _, n := range st.snap.WalkTruncated() {
		s.logf(protocol.MessageTypeWarning, "%s", n)
	}
	pct := uint32(0)
	msg := fmt.Sprintf("0/%d files", files)
	progress(&protocol.WorkDoneProgressBegin{Kind: "begin", Title: "nonroot-ls: indexing the workspace", Message: &msg, Percentage: &pct})
	var mu sync.Mutex
	last := time.Now()
	st.snap.Index(ctx, func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			pct, msg := uint32(100*done/total), fmt.Sprintf("%d/%d files", done, total)
			progress(&protocol.WorkDoneProgressReport{Kind: "report", Message: &msg, Percentage: &pct})
		}
	})
	msg = fmt.Sprintf("%d files", files)
	progress(&protocol.WorkDoneProgressEnd{Kind: "end", Message: &msg})
	if ctx.Err() == nil {
		s.pub.scanned(s.current())
	}
}

// didChangeWatchedFiles re-reads the changed files from disk and re-publishes the open
// documents and the files that depend on the changed ones.
func didChangeWatchedFiles(ctx context.Context, s *Server, params jsonrpc2.RawMessage) {
	var p protocol.DidChangeWatchedFilesParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.logf(protocol.MessageTypeWarning, "didChangeWatchedFiles: %v", err)
		return
	}
	var paths []string
	for _, ch := range p.Changes {
		if ch.URI.IsFile() {
			paths = append(paths, uriPath(ch.URI))
		}
	}
	if len(paths) == 0 {
		return
	}
	old := s.current()
	st := s.update(func(st *state) *state {
		n := st.clone()
		n.snap = n.snap.WithDiskChanges(paths...)
		return n
	})
	// A deleted or moved file's dependents are known only to the state before the change.
	changed := append([]string(nil), paths...)
	for _, x := range paths {
		changed = append(changed, old.snap.Dependents(x)...)
	}
	s.pub.changed(st, changed)
}
