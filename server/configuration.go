package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// Section is the settings section the server reads (workspace/configuration, and the key
// of didChangeConfiguration's and initializationOptions' settings object).
const Section = "nonroot"

// settingsFrom parses editor settings: either {"nonroot": {...}} or the section's object
// itself, with the keys of diagnostics.Config. Empty or null input is the default config.
// On a validation error the settings are still returned (the engine tolerates bad values:
// unknown rules and severities are ignored) together with the error to report.
func settingsFrom(e *diagnostics.Engine, raw []byte) (diagnostics.Config, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return diagnostics.Config{}, nil
	}
	var wrapper map[string]json.RawMessage
	if err := json.Unmarshal(raw, &wrapper); err != nil {
		return diagnostics.Config{}, fmt.Errorf("settings must be an object: %v", err)
	}
	if inner, ok := wrapper[Section]; ok {
		raw = inner
		if s := bytes.TrimSpace(raw); len(s) == 0 || string(s) == "null" {
			return diagnostics.Config{}, nil
		}
	}
	var c diagnostics.Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return diagnostics.Config{}, fmt.Errorf("settings: %v", err)
	}
	if err := e.ValidateConfig(&c); err != nil {
		return c, fmt.Errorf("settings: %v", err)
	}
	return c, nil
}

// foldersOf returns the workspace folders of initialize: workspaceFolders, else rootUri,
// else rootPath.
func foldersOf(p *protocol.InitializeParams) []string {
	var out []string
	if fs, ok := p.WorkspaceFolders.Get(); ok {
		for _, f := range fs {
			out = append(out, uriPath(f.URI))
		}
		if len(out) > 0 {
			return out
		}
	}
	if p.RootURI != nil && *p.RootURI != "" {
		return []string{uriPath(*p.RootURI)}
	}
	if rp, ok := p.RootPath.Get(); ok && rp != "" {
		return []string{uriPath(uri.File(rp))}
	}
	return nil
}

func didChangeConfiguration(ctx context.Context, s *Server, params jsonrpc2.RawMessage) {
	var p protocol.DidChangeConfigurationParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.logf(protocol.MessageTypeWarning, "didChangeConfiguration: %v", err)
		return
	}
	// Clients that support pull configuration often send empty settings: ask for them.
	var probe map[string]json.RawMessage
	if s.client.configuration && (json.Unmarshal(p.Settings, &probe) != nil || probe[Section] == nil) {
		s.goBackground(s.pullConfiguration)
		return
	}
	s.applySettingsInOrder(p.Settings, s.nextSettingsSeq())
}

// pullConfiguration asks the client for the "nonroot" section and applies it. It runs on its
// own goroutine: a Call from the read loop would deadlock.
func (s *Server) pullConfiguration(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sec := Section
	seq := s.nextSettingsSeq()
	var res []json.RawMessage
	if _, err := s.conn.Call(ctx, protocol.MethodWorkspaceConfiguration, &protocol.ConfigurationParams{Items: []protocol.ConfigurationItem{{Section: &sec}}}, &res); err != nil {
		s.logf(protocol.MessageTypeWarning, "workspace/configuration: %v", err)
		return
	}
	if len(res) == 0 {
		return
	}
	s.applySettingsInOrder(res[0], seq)
}

func (s *Server) applySettings(raw []byte) {
	c, err := settingsFrom(s.eng, raw)
	if err != nil {
		s.logf(protocol.MessageTypeWarning, "%v", err)
	}
	s.change(nil, func(st *state) *state {
		n := st.clone()
		n.settings = c
		n.snap = n.snap.WithSettings(c)
		return n
	})
}

func didChangeWorkspaceFolders(ctx context.Context, s *Server, params jsonrpc2.RawMessage) {
	var p protocol.DidChangeWorkspaceFoldersParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.logf(protocol.MessageTypeWarning, "didChangeWorkspaceFolders: %v", err)
		return
	}
	s.change(nil, func(st *state) *state {
		n := st.clone()
		folders := slices.Clone(st.folders)
		for _, f := range p.Event.Removed {
			folders = slices.DeleteFunc(folders, func(x string) bool { return x == uriPath(f.URI) })
		}
		for _, f := range p.Event.Added {
			if x := uriPath(f.URI); !slices.Contains(folders, x) {
				folders = append(folders, x)
			}
		}
		n.folders = folders
		return n.withRoots()
	})
}
