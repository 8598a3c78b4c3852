package server

import (
	"context"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// references answers textDocument/references from Snapshot.References: on a Dockerfile's
// FROM or USER, every manifest container and compose service that runs the image. With
// includeDeclaration the position's own definition comes first.
func references(ctx context.Context, s *Server, st *state, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.ReferenceParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	path := uriPath(p.TextDocument.URI)
	lines := st.linesFor(path)
	if lines == nil {
		return []protocol.Location{}, nil
	}
	pos := s.client.enc.toPos(lines, p.Position)
	var locs []diagnostics.Location
	if p.Context.IncludeDeclaration {
		locs = append(locs, st.snap.Definition(ctx, path, pos)...)
	}
	locs = append(locs, st.snap.References(ctx, path, pos)...)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return s.toLocations(st, locs), nil
}
