package server

import (
	"context"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// definition answers textDocument/definition from Snapshot.Definition: on an `image:` value
// of a manifest or compose file, the linked Dockerfile's built stage.
func definition(ctx context.Context, s *Server, st *state, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DefinitionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	path := uriPath(p.TextDocument.URI)
	lines := st.linesFor(path)
	if lines == nil {
		return []protocol.Location{}, nil
	}
	locs := st.snap.Definition(ctx, path, s.client.enc.toPos(lines, p.Position))
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
