// Package server is the nonroot-ls language server. It is the only package that speaks LSP
// (go.lsp.dev/protocol, jsonrpc2, uri); everything it answers comes from an immutable
// [diagnostics.Snapshot] and from [codeactions].
//
// Layout, one file per LSP area: lifecycle.go (initialize/shutdown/exit), textsync.go
// (didOpen/didChange/didClose/didSave), publish.go (publishDiagnostics), hover.go,
// codeaction.go, navigation.go (definition, references), configuration.go (settings, workspace
// folders), watch.go (the workspace scan and file watcher), workspacepublish.go (the problems
// of files that are not open), position.go (encodings),
// state.go (the per-document state, all in one place), testhook.go.
//
// Dispatch. go.lsp.dev/jsonrpc2 runs a handler inline on the connection's read loop. Every
// notification is applied there, so document changes are applied strictly in wire order and
// a request always sees the state produced by the notifications sent before it. A request
// captures the current [state] on the read loop, then releases the loop ([jsonrpc2.Async]) and
// runs concurrently against that immutable state; `$/cancelRequest` cancels its context.
// A panic in any handler is recovered: a request is answered with an error, a notification
// is logged, and the connection lives on. A notification never returns an error (that would
// close the connection): problems go to window/logMessage.
//
// The method table ([requests], [notifications]) lists every method the server answers, and
// [capabilities] everything it advertises; a new LSP feature is a new file with its handler
// plus one line in each. A request handler reads the immutable state it is given (st.snap,
// st.doc, st.linesFor, s.client.enc for positions) and passes its ctx to the engine, which
// stops early when the request is cancelled. A notification that changes what the engine
// sees calls s.change(paths, func(st *state) *state { n := st.clone(); …; return n }), which
// stores the new state and republishes diagnostics (e.g. didChangeWatchedFiles: n.snap =
// n.snap.WithDiskChanges(paths...)). Work that calls the client (client/registerCapability,
// window/workDoneProgress/create, $/progress) runs on its own goroutine under the connection's
// context (s.goBackground), which shutdown and the end of the connection cancel.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// Name is the server's name in initialize's serverInfo and the source of its diagnostics.
const Name = "nonroot-ls"

// TestHooksEnv enables the test-only requests (see testhook.go) when set to "1".
const TestHooksEnv = "NONROOT_LS_TEST_HOOKS"

// Options configure a Server.
type Options struct {
	// NewEngine builds the analysis engine (diagnostics/all builds the product's); log is
	// where the engine reports internal errors (the client's log and Options.Log). Required.
	NewEngine func(log func(msg string)) *diagnostics.Engine
	// Version is reported in serverInfo.
	Version string
	// Log receives the server's own log lines (stderr for `serve`); nil discards them.
	Log io.Writer
	// TestHooks enables the test-only requests; New also enables them when TestHooksEnv=1.
	TestHooks bool
}

// requestFunc answers a request against st, the state at the time the request arrived.
// It runs concurrently with later messages; st never changes under it.
type requestFunc func(ctx context.Context, s *Server, st *state, params jsonrpc2.RawMessage) (any, error)

// notificationFunc applies a notification. It runs on the read loop, strictly in order.
// It must not block on the client (no Conn.Call; use a goroutine) and reports problems
// with s.logf instead of returning them.
type notificationFunc func(ctx context.Context, s *Server, params jsonrpc2.RawMessage)

// requests are the request methods the server answers.
var requests = map[string]requestFunc{
	protocol.MethodInitialize:             initialize,
	protocol.MethodShutdown:               shutdown,
	protocol.MethodTextDocumentHover:      hover,
	protocol.MethodTextDocumentCodeAction: codeAction,
	protocol.MethodTextDocumentDefinition: definition,
	protocol.MethodTextDocumentReferences: references,
}

// notifications are the notification methods the server applies ($/cancelRequest is
// handled by the dispatcher itself).
var notifications = map[string]notificationFunc{
	protocol.MethodInitialized:                        initialized,
	protocol.MethodExit:                               exit,
	protocol.MethodTextDocumentDidOpen:                didOpen,
	protocol.MethodTextDocumentDidChange:              didChange,
	protocol.MethodTextDocumentDidClose:               didClose,
	protocol.MethodTextDocumentDidSave:                didSave,
	protocol.MethodWorkspaceDidChangeConfiguration:    didChangeConfiguration,
	protocol.MethodWorkspaceDidChangeWorkspaceFolders: didChangeWorkspaceFolders,
	protocol.MethodWorkspaceDidChangeWatchedFiles:     didChangeWatchedFiles,
}

// testRequests exist only with Options.TestHooks (testhook.go).
var testRequests = map[string]requestFunc{
	TestPanicMethod: testPanic,
	testBlockMethod: testBlock,
}

// Server is one language server connection.
type Server struct {
	opts Options
	eng  *diagnostics.Engine
	conn jsonrpc2.Conn

	// inflight are the requests being answered, for $/cancelRequest. (jsonrpc2.CancelHandler
	// does not fit: it derives each request's context from jsonrpc2's pooled one, which a
	// context.WithCancel goroutine may still read after the request is recycled, and panics.)
	inflightMu sync.Mutex
	inflight   map[jsonrpc2.ID]context.CancelFunc

	// ctx is the connection's context: every goroutine the server starts runs under it, and
	// shutdown (or the end of the connection) cancels it.
	ctx      context.Context
	stopWork context.CancelFunc
	work     sync.WaitGroup

	// mu serialises writers of cur (the read loop and the configuration fetcher);
	// readers load cur without locking.
	mu  sync.Mutex
	cur atomic.Pointer[state]

	phase    atomic.Int32 // phaseNew, phaseRunning, phaseShutdown
	exitCode atomic.Int32
	exited   chan struct{}
	exitOnce sync.Once

	client clientInfo // set once by initialize, read-only afterwards

	pub *publisher

	settingsOrder settingsOrder // see applySettingsInOrder
}

const (
	phaseNew int32 = iota
	phaseRunning
	phaseShutdown
)

// New returns a server that has not started yet.
func New(opts Options) *Server {
	if os.Getenv(TestHooksEnv) == "1" {
		opts.TestHooks = true
	}
	if opts.NewEngine == nil {
		panic("server: Options.NewEngine is required")
	}
	s := &Server{opts: opts, exited: make(chan struct{}), inflight: map[jsonrpc2.ID]context.CancelFunc{}}
	s.eng = opts.NewEngine(func(msg string) { s.logf(protocol.MessageTypeError, "%s", msg) })
	s.ctx, s.stopWork = context.WithCancel(context.Background())
	s.cur.Store(newState(s.eng))
	s.exitCode.Store(1)
	s.pub = newPublisher(s)
	return s
}

// Run serves the LSP over rwc (Content-Length framing) until the client sends exit or the
// stream ends. It returns the process exit code: 0 after shutdown+exit, 1 otherwise.
func (s *Server) Run(ctx context.Context, rwc io.ReadWriteCloser) int {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	stopWork := context.AfterFunc(ctx, s.stopWork)
	defer stopWork()
	s.conn = jsonrpc2.NewConn(newLenientStream(rwc, s), jsonrpc2.WithCodec(codec{}))
	go s.pub.run(s.ctx)
	s.conn.Go(ctx, s.handle)
	select {
	case <-s.conn.Done():
	case <-s.exited:
		// Close waits for in-flight handlers and closes the stream. A read blocked on a
		// pipe (stdin) is not interrupted by closing it, so do not wait for that: the
		// process exits anyway.
		go s.conn.Close()
		select {
		case <-s.conn.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	stop()
	s.stopWork()
	s.pub.wait()
	s.work.Wait()
	if err := s.conn.Err(); err != nil && !errors.Is(err, io.EOF) {
		s.logf(protocol.MessageTypeLog, "connection: %v", err)
	}
	return int(s.exitCode.Load())
}

// Serve runs a server over stdin/stdout and returns the exit code.
func Serve(ctx context.Context, opts Options) int {
	return New(opts).Run(ctx, stdio{})
}

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error {
	err := os.Stdin.Close()
	if err2 := os.Stdout.Close(); err == nil {
		err = err2
	}
	return err
}

// handle is the connection's handler: notifications in order, requests released.
func (s *Server) handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	method := req.Method()
	if !req.IsCall() {
		s.notify(ctx, method, req.Params())
		return nil, nil
	}
	fn, ok := requests[method]
	if !ok && s.opts.TestHooks {
		fn, ok = testRequests[method]
	}
	if !ok {
		return nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method not found: %s", method)
	}
	switch phase := s.phase.Load(); {
	case phase == phaseNew && method != protocol.MethodInitialize:
		return nil, jsonrpc2.NewError(jsonrpc2.ServerNotInitialized, "the server is not initialized")
	case phase != phaseNew && method == protocol.MethodInitialize:
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "initialize was already received")
	case phase == phaseShutdown:
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "the server is shutting down")
	}
	st := s.cur.Load()
	params := req.Params()
	// The request's own context is pooled by jsonrpc2 and must not be the parent of a
	// cancellable context that outlives it; derive from the connection's context instead.
	// The ID is registered before the read loop reads on, so a $/cancelRequest sent after
	// the request finds it.
	reqCtx := ctx
	ctx, cancel := context.WithCancel(jsonrpc2.DetachContext(ctx))
	id := req.ID()
	s.inflightMu.Lock()
	s.inflight[id] = cancel
	s.inflightMu.Unlock()
	defer func() {
		s.inflightMu.Lock()
		delete(s.inflight, id)
		s.inflightMu.Unlock()
		cancel()
	}()
	if method == protocol.MethodInitialize || method == protocol.MethodShutdown {
		// Lifecycle requests stay on the read loop: they change state.
		return s.callInline(ctx, method, fn, st, params)
	}
	// The rest overlap later messages.
	jsonrpc2.Async(reqCtx)
	return s.call(ctx, method, fn, st, slices.Clone(params))
}

// callInline runs a request handler on the read loop. A panic answers the request with an
// error and is logged with its stack.
func (s *Server) callInline(ctx context.Context, method string, fn requestFunc, st *state, params jsonrpc2.RawMessage) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.logf(protocol.MessageTypeError, "panic in %s: %v\n%s", method, v, debug.Stack())
			result, err = nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error in %s: %v", method, v)
		}
	}()
	r, err := fn(ctx, s, st, params)
	return answered(ctx, r, err)
}

// call runs a request handler on its own goroutine and answers as soon as either it returns
// or ctx is cancelled: a cancelled request is always answered RequestCancelled, at once,
// whatever the handler is still doing (it sees ctx cancelled and stops early). A panic
// answers the request with an error and is logged with its stack.
func (s *Server) call(ctx context.Context, method string, fn requestFunc, st *state, params jsonrpc2.RawMessage) (any, error) {
	type answer struct {
		result any
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				s.logf(protocol.MessageTypeError, "panic in %s: %v\n%s", method, v, debug.Stack())
				done <- answer{nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error in %s: %v", method, v)}
			}
		}()
		r, err := fn(ctx, s, st, params)
		done <- answer{r, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
	}
	return answered(ctx, a.result, a.err)
}

// answered is a handler's answer as the client gets it: RequestCancelled whenever the
// request was cancelled, an InternalError for an error that is not a JSON-RPC one.
func answered(ctx context.Context, result any, err error) (any, error) {
	if ctx.Err() != nil {
		return nil, jsonrpc2.NewError(protocol.CodeRequestCancelled, "request cancelled")
	}
	if err != nil {
		var je *jsonrpc2.Error
		if !errors.As(err, &je) {
			err = jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
		}
	}
	return result, err
}

// notify applies a notification; it never fails the connection.
func (s *Server) notify(ctx context.Context, method string, params jsonrpc2.RawMessage) {
	defer func() {
		if v := recover(); v != nil {
			s.logf(protocol.MessageTypeError, "panic in %s: %v\n%s", method, v, debug.Stack())
		}
	}()
	if method == protocol.MethodCancelRequest {
		var p protocol.CancelParams
		if err := protocol.Unmarshal(params, &p); err != nil {
			s.logf(protocol.MessageTypeWarning, "%s: %v", method, err)
			return
		}
		var id jsonrpc2.ID
		switch v := p.ID.(type) {
		case protocol.Integer:
			id = jsonrpc2.NewNumberID(int64(v))
		case protocol.String:
			id = jsonrpc2.NewStringID(string(v))
		}
		s.inflightMu.Lock()
		cancel := s.inflight[id]
		s.inflightMu.Unlock()
		if cancel != nil {
			cancel()
		}
		return
	}
	fn, ok := notifications[method]
	if !ok {
		return // unknown notifications ($/setTrace, …) are ignored, as the LSP says
	}
	if s.phase.Load() == phaseNew && method != protocol.MethodExit {
		return // notifications before initialize are dropped
	}
	fn(ctx, s, params)
}

// update replaces the state with fn's result (under the writer lock) and returns it.
func (s *Server) update(fn func(*state) *state) *state {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := fn(s.cur.Load())
	s.cur.Store(n)
	return n
}

// change applies fn to the state (see update) and schedules publishing diagnostics; paths
// are the documents that changed (published first), nil for a workspace-wide change.
func (s *Server) change(paths []string, fn func(*state) *state) *state {
	st := s.update(fn)
	s.pub.changed(st, paths)
	return st
}

// goBackground runs fn on its own goroutine under the connection's context; Run waits for it.
func (s *Server) goBackground(fn func(ctx context.Context)) {
	s.work.Add(1)
	go func() {
		defer s.work.Done()
		defer func() {
			if v := recover(); v != nil {
				s.logf(protocol.MessageTypeError, "panic in background work: %v\n%s", v, debug.Stack())
			}
		}()
		fn(s.ctx)
	}()
}

// current returns the current state.
func (s *Server) current() *state { return s.cur.Load() }

// logf sends window/logMessage to the client and writes the line to Options.Log.
func (s *Server) logf(typ protocol.MessageType, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, "nonroot-ls: %s\n", msg)
	}
	if s.conn != nil {
		_ = s.conn.Notify(s.ctx, protocol.MethodWindowLogMessage, &protocol.LogMessageParams{Type: typ, Message: msg})
	}
}

// decode unmarshals params, answering InvalidParams on failure.
func decode(params jsonrpc2.RawMessage, v any) error {
	if len(params) == 0 {
		return jsonrpc2.NewError(jsonrpc2.InvalidParams, "missing params")
	}
	if err := protocol.Unmarshal(params, v); err != nil {
		return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params: %v", err)
	}
	return nil
}

// codec marshals payloads with protocol's union-aware codec (protocol's own is unexported).
type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	case nil:
		return []byte("null"), nil
	}
	return protocol.Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}
