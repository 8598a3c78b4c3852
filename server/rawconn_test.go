package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.lsp.dev/uri"
)

// rawConn speaks JSON-RPC frames to a server by hand, so a test chooses request IDs and can
// send frames no client library would (invalid JSON, a broken header).
type rawConn struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	code chan int
	stop context.CancelFunc
}

// startRaw runs a server with the test engine on a pipe.
func startRaw(t testing.TB) *rawConn { return startRawTB(t) }

// startRawTB is startRaw for benchmarks too.
func startRawTB(t testing.TB) *rawConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, b := net.Pipe()
	rc := &rawConn{t: t, conn: b, r: bufio.NewReader(b), code: make(chan int, 1)}
	go func() { rc.code <- New(Options{NewEngine: testEngine, TestHooks: true}).Run(ctx, a) }()
	rc.stop = cancel
	t.Cleanup(rc.close)
	return rc
}

// close ends the connection and the server.
func (c *rawConn) close() {
	c.conn.Close()
	c.stop()
}

// send writes one frame with body as it is.
func (c *rawConn) send(body string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.conn, fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// sendJSON writes one frame holding v.
func (c *rawConn) sendJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(string(b))
}

// rawMessage is any incoming message.
type rawMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// read returns the next message the server sends (within d).
func (c *rawConn) read(d time.Duration) rawMessage {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(d))
	h, err := textproto.NewReader(c.r).ReadMIMEHeader()
	if err != nil {
		c.t.Fatalf("reading a header: %v", err)
	}
	n, err := strconv.Atoi(h.Get("Content-Length"))
	if err != nil {
		c.t.Fatalf("bad Content-Length %q", h.Get("Content-Length"))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		c.t.Fatalf("reading a body: %v", err)
	}
	var m rawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		c.t.Fatalf("server sent invalid JSON %q: %v", body, err)
	}
	return m
}

// response reads messages until the response with id arrives (notifications are skipped).
func (c *rawConn) response(id string, d time.Duration) rawMessage {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m := c.read(time.Until(deadline))
		if m.Method == "" && string(m.ID) == id {
			return m
		}
	}
}

// initialize sends initialize (id 1, workspace folders dirs) and initialized.
func (c *rawConn) initialize(dirs ...string) {
	c.t.Helper()
	folders := []map[string]string{}
	for _, d := range dirs {
		folders = append(folders, map[string]string{"uri": string(uri.File(d)), "name": filepath.Base(d)})
	}
	c.sendJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{"capabilities": map[string]any{}, "workspaceFolders": folders}})
	if m := c.response("1", 10*time.Second); m.Error != nil {
		c.t.Fatalf("initialize: %+v", m.Error)
	}
	c.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
}
