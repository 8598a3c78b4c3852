// Package lspclient is a small LSP client for tests and benchmarks of nonroot-ls: it speaks
// to a server over any stream (an in-memory pipe, or a child process's stdio), records the
// diagnostics the server publishes and answers workspace/configuration.
package lspclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// Client is one client connection.
type Client struct {
	conn jsonrpc2.Conn

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever the server sends something
	latest   map[uri.URI]*protocol.PublishDiagnosticsParams
	count    map[uri.URI]int
	order    []uri.URI // URIs in the order of their publications
	logs     []string
	settings json.RawMessage
	received []Received
}

// New starts a client over rwc (Content-Length framing).
func New(ctx context.Context, rwc io.ReadWriteCloser) *Client {
	c := &Client{changed: make(chan struct{}), latest: map[uri.URI]*protocol.PublishDiagnosticsParams{}, count: map[uri.URI]int{}}
	c.conn = jsonrpc2.NewConn(jsonrpc2.NewStream(rwc), jsonrpc2.WithCodec(codec{}))
	c.conn.Go(ctx, c.handle)
	return c
}

// SetSettings sets what the client answers to workspace/configuration (one item per request item).
func (c *Client) SetSettings(v json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings = v
}

func (c *Client) handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	defer c.signal()
	c.mu.Lock()
	c.received = append(c.received, Received{Method: strings.Clone(req.Method()), Params: append(json.RawMessage(nil), req.Params()...)})
	c.mu.Unlock()
	defer c.signal()
	switch req.Method() {
	case protocol.MethodClientRegisterCapability, protocol.MethodWindowWorkDoneProgressCreate:
		return nil, nil
	case protocol.MethodTextDocumentPublishDiagnostics:
		var p protocol.PublishDiagnosticsParams
		if err := protocol.Unmarshal(req.Params(), &p); err != nil {
			return nil, nil
		}
		c.mu.Lock()
		c.latest[p.URI] = &p
		c.count[p.URI]++
		c.order = append(c.order, p.URI)
		c.mu.Unlock()
		return nil, nil
	case protocol.MethodWindowLogMessage:
		var p protocol.LogMessageParams
		if protocol.Unmarshal(req.Params(), &p) == nil {
			c.mu.Lock()
			c.logs = append(c.logs, p.Message)
			c.mu.Unlock()
		}
		return nil, nil
	case protocol.MethodWorkspaceConfiguration:
		var p protocol.ConfigurationParams
		if err := protocol.Unmarshal(req.Params(), &p); err != nil {
			return nil, err
		}
		c.mu.Lock()
		s := c.settings
		c.mu.Unlock()
		if s == nil {
			s = json.RawMessage("null")
		}
		out := make([]json.RawMessage, len(p.Items))
		for i := range out {
			out[i] = s
		}
		return out, nil
	}
	if req.IsCall() {
		return nil, jsonrpc2.NewError(jsonrpc2.MethodNotFound, req.Method())
	}
	return nil, nil
}

// signal wakes the waiters: something arrived.
func (c *Client) signal() {
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// Wait waits until cond returns true: it is called now and after each message the server
// sends (publications, log messages, progress, requests).
func (c *Client) Wait(ctx context.Context, what string, cond func() bool) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-ch:
		}
	}
}

// WaitFor waits until the newest publication for u satisfies ok and returns it.
func (c *Client) WaitFor(ctx context.Context, u uri.URI, what string, ok func(*protocol.PublishDiagnosticsParams) bool) (*protocol.PublishDiagnosticsParams, error) {
	var got *protocol.PublishDiagnosticsParams
	err := c.Wait(ctx, fmt.Sprintf("%s of %s", what, u), func() bool {
		got, _ = c.Latest(u)
		return got != nil && ok(got)
	})
	return got, err
}

// Received is a request or notification the server sent.
type Received struct {
	Method string
	Params json.RawMessage
}

// Received returns every request and notification received so far, in order.
func (c *Client) Received() []Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Received(nil), c.received...)
}

// Call sends a request and decodes its result.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	_, err := c.conn.Call(ctx, method, params, result)
	return err
}

// Notify sends a notification.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	return c.conn.Notify(ctx, method, params)
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.conn.Done() }

// Diagnostics waits for a publication for u whose version is at least version (any version
// when version < 0) and returns the newest one.
func (c *Client) Diagnostics(ctx context.Context, u uri.URI, version int32) (*protocol.PublishDiagnosticsParams, error) {
	for {
		c.mu.Lock()
		p, ch := c.latest[u], c.changed
		c.mu.Unlock()
		if p != nil {
			v, ok := p.Version.Get()
			if version < 0 || (ok && v >= version) || (!ok && version == 0) {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for diagnostics of %s version %d: %w", u, version, ctx.Err())
		case <-ch:
		}
	}
}

// Published waits until at least n publications for u have arrived (versioned or not) and
// returns the newest one.
func (c *Client) Published(ctx context.Context, u uri.URI, n int) (*protocol.PublishDiagnosticsParams, error) {
	for {
		c.mu.Lock()
		p, got, ch := c.latest[u], c.count[u], c.changed
		c.mu.Unlock()
		if got >= n {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for publication %d of %s (%d arrived): %w", n, u, got, ctx.Err())
		case <-ch:
		}
	}
}

// Latest returns the newest publication for u (nil when none) and how many arrived.
func (c *Client) Latest(u uri.URI) (*protocol.PublishDiagnosticsParams, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest[u], c.count[u]
}

// Order returns the URIs of all publications so far, in arrival order.
func (c *Client) Order() []uri.URI {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uri.URI(nil), c.order...)
}

// Logs returns the window/logMessage messages received so far.
func (c *Client) Logs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.logs...)
}

// Initialize sends initialize (with the given capabilities, folders and options) and initialized.
func (c *Client) Initialize(ctx context.Context, p *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	var res protocol.InitializeResult
	if err := c.Call(ctx, protocol.MethodInitialize, p, &res); err != nil {
		return nil, err
	}
	return &res, c.Notify(ctx, protocol.MethodInitialized, &protocol.InitializedParams{})
}

// Open sends didOpen.
func (c *Client) Open(ctx context.Context, u uri.URI, languageID string, version int32, text string) error {
	return c.Notify(ctx, protocol.MethodTextDocumentDidOpen, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: u, LanguageID: protocol.LanguageKind(languageID), Version: version, Text: text}})
}

// Change sends one incremental didChange.
func (c *Client) Change(ctx context.Context, u uri.URI, version int32, r protocol.Range, text string) error {
	return c.Notify(ctx, protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: r, Text: text}},
	})
}

// Shutdown sends shutdown and exit.
func (c *Client) Shutdown(ctx context.Context) error {
	if err := c.Call(ctx, protocol.MethodShutdown, nil, nil); err != nil {
		return err
	}
	return c.Notify(ctx, protocol.MethodExit, nil)
}

type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		return m, nil
	case nil:
		return []byte("null"), nil
	case []json.RawMessage:
		return json.Marshal(m)
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
