package server

import (
	"context"
	"errors"
	"io"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// frameReader is the part of jsonrpc2's LSP header stream that reads one frame's body.
type frameReader interface {
	ReadFrame(ctx context.Context) ([]byte, int64, error)
}

// lenientStream is the LSP header framing that outlives a frame whose body is not a JSON-RPC
// message: the framing is still in sync, so the frame is answered with a Parse error (or
// Invalid Request), id null, as JSON-RPC says, and the next frame is read. (jsonrpc2's own
// read loop ends the connection on such a frame.) A broken header cannot be resynchronised:
// its error ends the connection, and Run logs it.
//
// It has no ReadFrame method of its own, so the connection reads through Read.
type lenientStream struct {
	jsonrpc2.Stream
	frames frameReader
	s      *Server
}

func newLenientStream(rwc io.ReadWriteCloser, s *Server) jsonrpc2.Stream {
	st := jsonrpc2.NewHeaderStream(rwc)
	fr, ok := st.(frameReader)
	if !ok {
		return st
	}
	return &lenientStream{Stream: st, frames: fr, s: s}
}

func (l *lenientStream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		body, n, err := l.frames.ReadFrame(ctx)
		if err != nil {
			return nil, 0, err
		}
		msg, err := jsonrpc2.DecodeMessage(body)
		if err == nil {
			return msg, n, nil
		}
		var je *jsonrpc2.Error
		if !errors.As(err, &je) {
			je = jsonrpc2.ErrParse
		}
		l.s.logf(protocol.MessageTypeWarning, "a frame of %d bytes is not a JSON-RPC message (%v): answered with error %d", len(body), err, je.Code)
		if _, err := l.Stream.Write(ctx, jsonrpc2.NewResponse(jsonrpc2.ID{}, nil, je)); err != nil {
			return nil, 0, err
		}
	}
}
