package server

import (
	"context"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// clientInfo is what initialize told us about the client; written once on the read loop
// before any other handler runs, read-only afterwards.
type clientInfo struct {
	enc             encoding
	configuration   bool // supports workspace/configuration
	documentChanges bool // supports versioned documentChanges in WorkspaceEdits
	markdown        bool // hover contentFormat includes markdown (or is unspecified)
	watchFiles      bool // supports dynamic registration of workspace/didChangeWatchedFiles
	progress        bool // supports window/workDoneProgress/create
}

func initialize(ctx context.Context, s *Server, _ *state, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.InitializeParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	caps := p.Capabilities
	s.client.markdown = true
	if g := caps.General; g != nil {
		s.client.enc = negotiate(g.PositionEncodings)
	}
	if w := caps.Workspace; w != nil {
		s.client.configuration = w.Configuration != nil && *w.Configuration
		s.client.documentChanges = w.WorkspaceEdit != nil && w.WorkspaceEdit.DocumentChanges != nil && *w.WorkspaceEdit.DocumentChanges
		s.client.watchFiles = w.DidChangeWatchedFiles != nil && w.DidChangeWatchedFiles.DynamicRegistration != nil && *w.DidChangeWatchedFiles.DynamicRegistration
	}
	if w := caps.Window; w != nil {
		s.client.progress = w.WorkDoneProgress != nil && *w.WorkDoneProgress
	}
	if td := caps.TextDocument; td != nil && td.Hover != nil && len(td.Hover.ContentFormat) > 0 {
		s.client.markdown = false
		for _, k := range td.Hover.ContentFormat {
			if k == protocol.MarkupKindMarkdown {
				s.client.markdown = true
			}
		}
	}

	folders := foldersOf(&p)
	settings, err := settingsFrom(s.eng, p.InitializationOptions)
	if err != nil {
		s.logf(protocol.MessageTypeWarning, "initializationOptions: %v", err)
	}
	s.update(func(st *state) *state {
		n := st.clone()
		n.folders = folders
		n.settings = settings
		n.snap = n.snap.WithSettings(settings)
		return n.withRoots()
	})
	s.phase.Store(phaseRunning)

	res := &protocol.InitializeResult{Capabilities: capabilities(s.client), ServerInfo: protocol.ServerInfo{Name: Name}}
	if s.opts.Version != "" {
		res.ServerInfo.Version = protocol.NewOptional(s.opts.Version)
	}
	return res, nil
}

// capabilities is what the server advertises to a client.
func capabilities(c clientInfo) protocol.ServerCapabilities {
	yes, incremental := true, protocol.TextDocumentSyncKindIncremental
	return protocol.ServerCapabilities{
		PositionEncoding: c.enc.kind(),
		TextDocumentSync: &protocol.TextDocumentSyncOptions{
			OpenClose: &yes,
			Change:    &incremental,
			Save:      &protocol.SaveOptions{IncludeText: new(bool)},
		},
		HoverProvider:      protocol.Boolean(true),
		DefinitionProvider: protocol.Boolean(true),
		ReferencesProvider: protocol.Boolean(true),
		CodeActionProvider: &protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{
			protocol.CodeActionKindQuickFix, codeactions.KindFixAll,
		}},
		Workspace: &protocol.WorkspaceOptions{
			WorkspaceFolders: &protocol.WorkspaceFoldersServerCapabilities{Supported: &yes, ChangeNotifications: protocol.Boolean(true)},
		},
	}
}

// initialized starts the background work that needs the client: pulling the settings, the
// watcher registration and the workspace scan.
func initialized(ctx context.Context, s *Server, _ jsonrpc2.RawMessage) {
	if s.client.configuration {
		s.goBackground(s.pullConfiguration)
	}
	s.goBackground(s.afterInitialized)
}

// shutdown stops the background work (the workspace scan); requests get an error from now on.
func shutdown(ctx context.Context, s *Server, _ *state, _ jsonrpc2.RawMessage) (any, error) {
	s.phase.Store(phaseShutdown)
	s.stopWork()
	return nil, nil
}

// exit ends the connection: exit code 0 after shutdown, 1 without.
func exit(ctx context.Context, s *Server, _ jsonrpc2.RawMessage) {
	if s.phase.Load() == phaseShutdown {
		s.exitCode.Store(0)
	}
	s.exitOnce.Do(func() { close(s.exited) })
}
