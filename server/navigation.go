package server

import (
	"context"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// definition answers textDocument/definition from Snapshot.Definition: on an `image:` value
// of a manifest or compose file, the linked Dockerfile's built stage.
func definition(ctx context.Context, s *Server, st *state, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DefinitionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	return s.navigate(ctx, st, p.TextDocument, p.Position, func(path string, pos text.Pos) []diagnostics.Location {
		return st.snap.Definition(ctx, path, pos)
	})
}

// references answers textDocument/references from Snapshot.References: on a Dockerfile's
// FROM or USER, every manifest container and compose service that runs the image. With
// includeDeclaration the position's own definition comes first.
func references(ctx context.Context, s *Server, st *state, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.ReferenceParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	return s.navigate(ctx, st, p.TextDocument, p.Position, func(path string, pos text.Pos) []diagnostics.Location {
		var locs []diagnostics.Location
		if p.Context.IncludeDeclaration {
			locs = append(locs, st.snap.Definition(ctx, path, pos)...)
		}
		return append(locs, st.snap.References(ctx, path, pos)...)
	})
}

// navigate answers a request for locations at a document position with find's.
func (s *Server) navigate(ctx context.Context, st *state, td protocol.TextDocumentIdentifier, p protocol.Position, find func(path string, pos text.Pos) []diagnostics.Location) (any, error) {
	path := uriPath(td.URI)
	lines := st.linesFor(path)
	if lines == nil {
		return []protocol.Location{}, nil
	}
	locs := find(path, s.client.enc.toPos(lines, p))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return s.toLocations(st, locs), nil
}

// toLocations converts engine locations to LSP locations in the negotiated encoding,
// dropping those whose file cannot be read.
func (s *Server) toLocations(st *state, locs []diagnostics.Location) []protocol.Location {
	out := []protocol.Location{}
	for _, l := range locs {
		lines := st.linesFor(l.File)
		if lines == nil {
			continue
		}
		out = append(out, protocol.Location{URI: st.uriFor(l.File), Range: s.client.enc.fromRange(lines, l.Range)})
	}
	return out
}
