package server

import (
	"context"

	"go.lsp.dev/jsonrpc2"
)

// TestPanicMethod is a request that panics in its handler. It exists only when the server
// runs with NONROOT_LS_TEST_HOOKS=1 (or Options.TestHooks), so session tests can check that
// a panic answers that request with an error and the server keeps answering.
const TestPanicMethod = "nonroot/testPanic"

func init() {
	testRequests[TestPanicMethod] = func(context.Context, *Server, *state, jsonrpc2.RawMessage) (any, error) {
		panic("test hook: deliberate panic")
	}
}
