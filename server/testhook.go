package server

import (
	"context"
	"time"

	"go.lsp.dev/jsonrpc2"
)

// TestPanicMethod is a request that panics in its handler. It exists only when the server
// runs with NONROOT_LS_TEST_HOOKS=1 (or Options.TestHooks), so session tests can check that
// a panic answers that request with an error and the server keeps answering.
const TestPanicMethod = "nonroot/testPanic"

func testPanic(context.Context, *Server, *state, jsonrpc2.RawMessage) (any, error) {
	panic("test hook: deliberate panic")
}

// testBlockMethod blocks until the request is cancelled ($/cancelRequest) or 10 seconds pass.
const testBlockMethod = "nonroot/testBlock"

func testBlock(ctx context.Context, _ *Server, _ *state, _ jsonrpc2.RawMessage) (any, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(10 * time.Second):
		return nil, nil
	}
}
