package server

import (
	"context"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// hover shows the documentation of the findings under the cursor and what the file's model
// says about the thing there (Snapshot.Hover), as Markdown.
func hover(ctx context.Context, s *Server, st *state, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.HoverParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	path := uriPath(p.TextDocument.URI)
	lines := st.linesFor(path)
	if lines == nil {
		return nil, nil
	}
	h := st.snap.Hover(ctx, path, s.client.enc.toPos(lines, p.Position))
	if h == nil || ctx.Err() != nil {
		return nil, nil
	}
	kind := protocol.MarkupKindMarkdown
	if !s.client.markdown {
		kind = protocol.MarkupKindPlainText
	}
	res := &protocol.Hover{Contents: &protocol.MarkupContent{Kind: kind, Value: h.Markdown}}
	if !h.Range.IsZero() {
		r := s.client.enc.fromRange(lines, h.Range)
		res.Range = &r
	}
	return res, nil
}
