package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// TestCancelCodeActions: 60 code-action requests on a real document, each cancelled right
// after it is sent, are all answered RequestCancelled (-32800), never with an internal error.
// The document's "# SLOW" line makes every diagnosis last until its request is cancelled, so
// the fix-all of each request is still running when its cancellation is read.
func TestCancelCodeActions(t *testing.T) {
	c := startRaw(t)
	c.initialize()
	uri := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "Dockerfile"))
	text := "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n# SLOW\nCOPY app /usr/local/bin/app\nUSER root\nCMD [\"app\"]\n"
	open, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": map[string]any{
		"textDocument": map[string]any{"uri": uri, "languageId": "dockerfile", "version": 1, "text": text}}})
	c.send(string(open))
	for i := range 60 {
		id := 1000 + i
		c.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"textDocument/codeAction","params":{"textDocument":{"uri":%q},"range":{"start":{"line":4,"character":5},"end":{"line":4,"character":9}},"context":{"diagnostics":[],"only":["source.fixAll"]}}}`, id, uri))
		c.send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":%d}}`, id))
	}
	got := map[string]rawMessage{}
	for deadline := time.Now().Add(30 * time.Second); len(got) < 60; {
		if m := c.read(time.Until(deadline)); m.Method == "" {
			got[string(m.ID)] = m
		}
	}
	for id, m := range got {
		if m.Error == nil || m.Error.Code != int(protocol.CodeRequestCancelled) {
			t.Errorf("request %s: result %s, error %+v; want RequestCancelled", id, m.Result, m.Error)
		}
	}
}

// TestInvalidJSONFrame: a well-framed body that is not JSON (or not a JSON-RPC message) is
// answered with Parse error (or Invalid Request), id null, and the connection goes on.
func TestInvalidJSONFrame(t *testing.T) {
	c := startRaw(t)
	c.initialize()
	for body, code := range map[string]int{
		`{"jsonrpc":"2.0","id":5,"method":`:                        -32700,
		`not json at all`:                                          -32700,
		`{"jsonrpc":"2.0","id":6,"method":"x","result":1}`:         -32600,
		`{"jsonrpc":"2.0","id":7,"method":"shutdown"} trailing {}`: -32700,
	} {
		c.send(body)
		m := c.response("null", 10*time.Second)
		if m.Error == nil || m.Error.Code != code {
			t.Errorf("%s: %+v, want error %d", body, m.Error, code)
		}
	}
	c.send(`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`)
	if m := c.response("2", 10*time.Second); m.Error != nil {
		t.Fatalf("shutdown after the bad frames: %+v", m.Error)
	}
	c.send(`{"jsonrpc":"2.0","method":"exit"}`)
	if code := <-c.code; code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestBrokenHeader: a header that cannot be read ends the connection (exit 1) with the
// reason logged.
func TestBrokenHeader(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	var log strings.Builder
	var mu sync.Mutex
	code := make(chan int, 1)
	go func() {
		code <- New(Options{NewEngine: testEngine, Log: lockedWriter{&mu, &log}}).Run(context.Background(), a)
	}()
	go io.Copy(io.Discard, b)
	b.SetWriteDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(b, "Content-Length: many\r\n\r\n{}")
	if got := <-code; got != 1 {
		t.Errorf("exit code %d", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(log.String(), "connection: jsonrpc2: invalid message header") {
		t.Errorf("log: %q", log.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
