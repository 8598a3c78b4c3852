package server

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/nonroot-ls/nonroot-ls/server/lspclient"
)

func TestInitializeCapabilities(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	var res protocol.InitializeResult
	// A second initialize is refused; the first one's result is checked through a fresh server.
	if err := h.c.Call(h.ctx, protocol.MethodInitialize, &protocol.InitializeParams{}, &res); !isCode(err, jsonrpc2.InvalidRequest) {
		t.Errorf("second initialize: %v, want InvalidRequest", err)
	}

	for _, tc := range []struct {
		offered []protocol.PositionEncodingKind
		want    protocol.PositionEncodingKind
	}{
		{nil, protocol.PositionEncodingKindUTF16},
		{[]protocol.PositionEncodingKind{"utf-32", "utf-16"}, protocol.PositionEncodingKindUTF16},
		{[]protocol.PositionEncodingKind{"utf-16", "utf-8"}, protocol.PositionEncodingKindUTF8},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a, b := net.Pipe()
		go New(Options{NewEngine: testEngine, Version: "v1.2.3"}).Run(ctx, a)
		c := lspclient.New(ctx, b)
		res, err := c.Initialize(ctx, &protocol.InitializeParams{Capabilities: protocol.ClientCapabilities{General: &protocol.GeneralClientCapabilities{PositionEncodings: tc.offered}}})
		if err != nil {
			t.Fatal(err)
		}
		caps := res.Capabilities
		if caps.PositionEncoding != tc.want {
			t.Errorf("offered %v: encoding %q, want %q", tc.offered, caps.PositionEncoding, tc.want)
		}
		sync, ok := caps.TextDocumentSync.(*protocol.TextDocumentSyncOptions)
		if !ok || sync.Change == nil || *sync.Change != protocol.TextDocumentSyncKindIncremental || sync.OpenClose == nil || !*sync.OpenClose {
			t.Errorf("textDocumentSync = %#v, want incremental with open/close", caps.TextDocumentSync)
		}
		if caps.HoverProvider != protocol.Boolean(true) {
			t.Errorf("hoverProvider = %v", caps.HoverProvider)
		}
		ca, ok := caps.CodeActionProvider.(*protocol.CodeActionOptions)
		if !ok || len(ca.CodeActionKinds) != 2 || ca.CodeActionKinds[1] != "source.fixAll.nonroot-ls" {
			t.Errorf("codeActionProvider = %#v", caps.CodeActionProvider)
		}
		if v, _ := res.ServerInfo.Version.Get(); res.ServerInfo.Name != "nonroot-ls" || v != "v1.2.3" {
			t.Errorf("serverInfo = %+v", res.ServerInfo)
		}
		c.Close()
		cancel()
	}
}

func isCode(err error, code jsonrpc2.Code) bool {
	var je *jsonrpc2.Error
	return errors.As(err, &je) && je.Code == code
}

func TestRequestBeforeInitialize(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := net.Pipe()
	code := make(chan int, 1)
	go func() { code <- New(Options{NewEngine: testEngine}).Run(ctx, a) }()
	c := lspclient.New(ctx, b)
	err := c.Call(ctx, protocol.MethodTextDocumentHover, &protocol.HoverParams{}, nil)
	if !isCode(err, jsonrpc2.ServerNotInitialized) {
		t.Fatalf("hover before initialize: %v, want ServerNotInitialized", err)
	}
	// exit without shutdown: exit code 1.
	if err := c.Notify(ctx, protocol.MethodExit, nil); err != nil {
		t.Fatal(err)
	}
	if got := <-code; got != 1 {
		t.Fatalf("exit without shutdown: code %d, want 1", got)
	}
}

func TestShutdownExit(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	if err := h.c.Call(h.ctx, protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatal(err)
	}
	// After shutdown, requests are refused.
	if err := h.c.Call(h.ctx, protocol.MethodTextDocumentHover, &protocol.HoverParams{}, nil); !isCode(err, jsonrpc2.InvalidRequest) {
		t.Errorf("hover after shutdown: %v, want InvalidRequest", err)
	}
	if err := h.c.Notify(h.ctx, protocol.MethodExit, nil); err != nil {
		t.Fatal(err)
	}
	if got := <-h.code; got != 0 {
		t.Fatalf("exit code %d, want 0", got)
	}
}

func TestEndOfStreamWithoutExit(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	h.c.Close()
	if got := <-h.code; got != 1 {
		t.Fatalf("exit code %d after the stream ended, want 1", got)
	}
}

func TestPanicAnswersWithErrorAndServerLivesOn(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.open("Dockerfile", "FROM alpine\nUSER 10001:0\n# as root\n")
	h.diags(u, 1)
	for i := 0; i < 3; i++ {
		err := h.c.Call(h.ctx, TestPanicMethod, nil, nil)
		if !isCode(err, jsonrpc2.InternalError) {
			t.Fatalf("panic hook: %v, want InternalError", err)
		}
	}
	var hv protocol.Hover
	if err := h.c.Call(h.ctx, protocol.MethodTextDocumentHover, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: protocol.Position{Line: 2, Character: 6}}}, &hv); err != nil {
		t.Fatalf("hover after panics: %v", err)
	}
	if hv.Contents == nil {
		t.Fatal("no hover after panics")
	}
	// Notifications keep working too.
	if err := h.c.Change(h.ctx, u, 2, protocol.Range{}, "# x\n"); err != nil {
		t.Fatal(err)
	}
	h.diags(u, 2)
	if code := h.shutdown(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestPanicHookDisabledByDefault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Setenv(TestHooksEnv, "")
	a, b := net.Pipe()
	go New(Options{NewEngine: testEngine}).Run(ctx, a)
	c := lspclient.New(ctx, b)
	if _, err := c.Initialize(ctx, &protocol.InitializeParams{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, TestPanicMethod, nil, nil); !isCode(err, jsonrpc2.MethodNotFound) {
		t.Fatalf("test hook without %s: %v, want MethodNotFound", TestHooksEnv, err)
	}
}

func TestUnknownMethods(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	if err := h.c.Call(h.ctx, "nonroot/noSuchMethod", nil, nil); !isCode(err, jsonrpc2.MethodNotFound) {
		t.Errorf("unknown request: %v, want MethodNotFound", err)
	}
	// An unknown notification and a malformed known one do not close the connection.
	h.c.Notify(h.ctx, "$/setTrace", map[string]string{"value": "off"})
	h.c.Notify(h.ctx, protocol.MethodTextDocumentDidOpen, jsonrpc2.RawMessage(`{"textDocument": 42}`))
	h.c.Notify(h.ctx, protocol.MethodTextDocumentDidChange, jsonrpc2.RawMessage(`{"textDocument":{"uri":"file:///nope","version":2},"contentChanges":[]}`))
	u := h.open("Dockerfile", "# as root\n")
	if ds := h.diags(u, 1); len(ds) != 1 {
		t.Fatalf("diagnostics after bad notifications: %v", ds)
	}
	if code := h.shutdown(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// TestCancelRequest: a cancelled request is answered RequestCancelled at once, while its
// handler is still running, and the connection goes on.
func TestCancelRequest(t *testing.T) {
	c := startRaw(t)
	c.initialize()
	for i := range 20 {
		id := strconv.Itoa(100 + i)
		c.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + testBlockMethod + `"}`)
		start := time.Now()
		c.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":` + id + `}}`)
		m := c.response(id, 5*time.Second)
		if m.Error == nil || m.Error.Code != int(protocol.CodeRequestCancelled) {
			t.Fatalf("request %s: %s %+v, want RequestCancelled", id, m.Result, m.Error)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("request %s answered %v after its cancellation", id, el)
		}
	}
	// A string ID is cancelled too.
	c.send(`{"jsonrpc":"2.0","id":"blk","method":"` + testBlockMethod + `"}`)
	c.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"blk"}}`)
	if m := c.response(`"blk"`, 5*time.Second); m.Error == nil || m.Error.Code != int(protocol.CodeRequestCancelled) {
		t.Fatalf("string id: %+v", m.Error)
	}
}
