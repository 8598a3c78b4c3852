package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/server"
	"github.com/nonroot-ls/nonroot-ls/server/lspclient"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeHelperEnv); mode != "" {
		fakeHelper(mode) // this test binary plays nonroot-ls-helm (helmhelper_test.go)
		return
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds nonroot-ls and nonroot-ls-helm (once per test binary) and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "nonroot-ls-test")
		if binErr != nil {
			return
		}
		binPath, binErr = lspclient.Build(binDir)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type procRWC struct {
	io.ReadCloser
	io.WriteCloser
}

func (p procRWC) Close() error {
	err := p.WriteCloser.Close()
	if err2 := p.ReadCloser.Close(); err == nil {
		err = err2
	}
	return err
}

// startBinary runs `nonroot-ls <args>` with the test hooks on and connects a client to it.
func startBinary(t *testing.T, ctx context.Context, bin string, args ...string) (*lspclient.Client, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), server.TestHooksEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return lspclient.New(ctx, procRWC{stdout, stdin}), cmd
}

// TestLSPSession drives the built binary over stdio: initialize → didOpen → diagnostics →
// 50 incremental edits (inserts at 0:0, é and 😀, CRLF) → the final diagnostics equal those of
// the same text opened fresh → hover → codeAction → fixAll → a panicking request answers with
// an error and the server keeps answering → shutdown/exit with exit code 0.
func TestLSPSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	c, cmd := startBinary(t, ctx, bin, "--stdio")

	yes := true
	initParams := &protocol.InitializeParams{Capabilities: protocol.ClientCapabilities{
		Workspace: &protocol.WorkspaceClientCapabilities{WorkspaceEdit: &protocol.WorkspaceEditClientCapabilities{DocumentChanges: &yes}},
	}}
	initParams.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: uri.File(dir), Name: "ws"}})
	res, err := c.Initialize(ctx, initParams)
	if err != nil {
		t.Fatal(err)
	}
	if res.Capabilities.PositionEncoding != protocol.PositionEncodingKindUTF16 {
		t.Errorf("position encoding %q", res.Capabilities.PositionEncoding)
	}

	// The engine's own NR001 on a broken config file, with hover.
	cfgURI := uri.File(filepath.Join(dir, ".nonroot-ls.yaml"))
	c.Open(ctx, cfgURI, "yaml", 1, "rulez: {}\n")
	cfgDiags := mustDiags(t, ctx, c, cfgURI, 1)
	if len(cfgDiags) != 1 || code(cfgDiags[0]) != "NR001" {
		t.Fatalf("config diagnostics %+v", cfgDiags)
	}
	if hv := hover(t, ctx, c, cfgURI, 0, 2); hv == nil || !strings.Contains(hv.Contents.(*protocol.MarkupContent).Value, "NR001") {
		t.Errorf("hover on the config error: %+v", hv)
	}
	// Fix the config: its diagnostics go away.
	c.Change(ctx, cfgURI, 2, protocol.Range{Start: protocol.Position{}, End: protocol.Position{Line: 0, Character: 5}}, "rules")
	if ds := mustDiags(t, ctx, c, cfgURI, 2); len(ds) != 0 {
		t.Errorf("config diagnostics after fixing it: %+v", ds)
	}

	// A binary Dockerfile gets NR001; the session carries on.
	binURI := uri.File(filepath.Join(dir, "bin", "Dockerfile"))
	c.Open(ctx, binURI, "dockerfile", 1, "FROM a\n\x00\x01\x02")
	if ds := mustDiags(t, ctx, c, binURI, 1); len(ds) != 1 || code(ds[0]) != "NR001" {
		t.Errorf("binary Dockerfile: %+v", ds)
	}

	content := "# syntax=docker/dockerfile:1\r\nFROM alpine:3.20 AS build\r\nRUN apk add --no-cache build-base\r\n\r\nFROM alpine:3.20\r\nCOPY --from=build /usr/bin/make /usr/local/bin/\r\nEXPOSE 80\r\nUSER root\r\nCMD [\"make\"]\r\n"
	docURI := uri.File(filepath.Join(dir, "app", "Dockerfile"))
	c.Open(ctx, docURI, "dockerfile", 1, content)
	mustDiags(t, ctx, c, docURI, 1)
	for v := int32(2); v <= 51; v++ {
		l := text.NewLines(content)
		var start, end text.Pos
		var ins string
		switch v % 5 {
		case 0:
			ins = fmt.Sprintf("# é😀 edit %d\r\n", v) // insert at 0:0
		case 1:
			ins = "LABEL note=\"😀\"\n"
			start = text.Pos{Line: l.Count() - 1}
			end = start
		case 2:
			// Type a character after the emoji of line 0 (when it is one of ours).
			if i := strings.Index(l.Line(0), "😀"); i >= 0 {
				start = text.Pos{Line: 0, Col: i + len("😀")}
				end = start
				ins = "é"
			}
		case 3:
			// Replace "é" (one UTF-16 unit, two bytes) on the first line that has one.
			for n := 0; n < l.Count(); n++ {
				if i := strings.Index(l.Line(n), "é"); i >= 0 {
					start, end = text.Pos{Line: n, Col: i}, text.Pos{Line: n, Col: i + len("é")}
					ins = "e"
					break
				}
			}
		case 4:
			// Delete a whole CRLF line (the first comment line), terminator included.
			if strings.HasPrefix(l.Line(0), "# é") || strings.HasPrefix(l.Line(0), "# e") {
				start, end = text.Pos{Line: 0}, text.Pos{Line: 1}
			}
		}
		r := protocol.Range{Start: toLSP(l, start), End: toLSP(l, end)}
		content = content[:l.Offset(start)] + ins + content[l.Offset(end):]
		if err := c.Change(ctx, docURI, v, r, ins); err != nil {
			t.Fatal(err)
		}
	}
	final := mustDiags(t, ctx, c, docURI, 51)
	freshURI := uri.File(filepath.Join(dir, "fresh", "Dockerfile"))
	c.Open(ctx, freshURI, "dockerfile", 1, content)
	fresh := mustDiags(t, ctx, c, freshURI, 1)
	if !reflect.DeepEqual(withoutURIs(final), withoutURIs(fresh)) {
		t.Fatalf("diagnostics after 50 edits differ from a fresh open of the same text:\n%+v\n%+v", final, fresh)
	}
	t.Logf("%d diagnostics after the edits: %v", len(final), codes(final))

	// Hover on every diagnostic names its rule.
	for _, d := range final {
		hv := hover(t, ctx, c, docURI, d.Range.Start.Line, d.Range.Start.Character)
		if hv == nil || !strings.Contains(hv.Contents.(*protocol.MarkupContent).Value, code(d)) {
			t.Errorf("hover on %s: %+v", code(d), hv)
		}
	}
	hover(t, ctx, c, docURI, 0, 0) // anywhere: answers (maybe null)

	// Code actions over the whole document: versioned edits of version 51.
	whole := protocol.Range{End: protocol.Position{Line: uint32(text.NewLines(content).Count())}}
	for _, a := range codeActions(t, ctx, c, docURI, whole) {
		for _, dc := range a.Edit.DocumentChanges {
			tde := dc.(*protocol.TextDocumentEdit)
			if tde.TextDocument.URI == docURI && (tde.TextDocument.Version == nil || *tde.TextDocument.Version != 51) {
				t.Errorf("action %q edits version %v", a.Title, tde.TextDocument.Version)
			}
		}
	}
	// USER root is NR102 with a preferred quick-fix.
	{
		if !slices.Contains(codes(final), "NR102") {
			t.Errorf("USER root: no NR102 in %v", codes(final))
		}
		preferred := false
		for _, a := range codeActions(t, ctx, c, docURI, whole, protocol.CodeActionKindQuickFix) {
			if a.IsPreferred != nil && *a.IsPreferred && len(a.Diagnostics) == 1 && code(a.Diagnostics[0]) == "NR102" {
				preferred = true
			}
		}
		if !preferred {
			t.Errorf("no preferred quick-fix for NR102")
		}
	}
	// fixAll: one minimal edit whose result is what codeactions.FixAll computes; afterwards
	// there is nothing left to fix.
	if as := codeActions(t, ctx, c, docURI, whole, "source.fixAll.nonroot-ls"); len(as) > 0 {
		tde := as[0].Edit.DocumentChanges[0].(*protocol.TextDocumentEdit)
		if len(as) != 1 || len(tde.Edits) != 1 {
			t.Fatalf("fix all: %d actions, %d edits", len(as), len(tde.Edits))
		}
		e := tde.Edits[0].(*protocol.TextEdit)
		path := filepath.Join(dir, "app", "Dockerfile")
		rep, err := codeactions.FixAll(context.Background(), alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(path, 51, "dockerfile", content), path)
		if err != nil {
			t.Fatal(err)
		}
		l := text.NewLines(content)
		start, end := l.Offset(l.FromUTF16(int(e.Range.Start.Line), int(e.Range.Start.Character))), l.Offset(l.FromUTF16(int(e.Range.End.Line), int(e.Range.End.Character)))
		if got := content[:start] + e.NewText + content[end:]; got != rep.Text {
			t.Errorf("fix all gives\n%q\nwant\n%q", got, rep.Text)
		}
		content = rep.Text
		c.Change(ctx, docURI, 52, e.Range, e.NewText)
		mustDiags(t, ctx, c, docURI, 52)
		if as := codeActions(t, ctx, c, docURI, whole, "source.fixAll.nonroot-ls"); len(as) != 0 {
			t.Errorf("fix all is not idempotent: %v", as[0].Edit)
		}
	} else {
		c.Change(ctx, docURI, 52, protocol.Range{}, "")
	}

	// A panic in a handler answers that request with an error; the server lives on.
	var je *jsonrpc2.Error
	if err := c.Call(ctx, server.TestPanicMethod, nil, nil); !errors.As(err, &je) || je.Code != jsonrpc2.InternalError {
		t.Fatalf("panic hook: %v", err)
	}
	hover(t, ctx, c, docURI, 0, 0)
	c.Change(ctx, docURI, 53, protocol.Range{}, "# after the panic\r\n")
	mustDiags(t, ctx, c, docURI, 53)

	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v (want exit code 0)", err)
	}
}

// TestLSPExitWithoutShutdown: exit without shutdown ends the process with code 1.
func TestLSPExitWithoutShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, cmd := startBinary(t, ctx, bin, "serve")
	if _, err := c.Initialize(ctx, &protocol.InitializeParams{}); err != nil {
		t.Fatal(err)
	}
	c.Notify(ctx, protocol.MethodExit, nil)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit without shutdown: %v, want exit code 1", err)
	}
}

func toLSP(l *text.Lines, p text.Pos) protocol.Position {
	return protocol.Position{Line: uint32(p.Line), Character: uint32(l.ToUTF16(p))}
}

func mustDiags(t *testing.T, ctx context.Context, c *lspclient.Client, u uri.URI, v int32) []protocol.Diagnostic {
	t.Helper()
	p, err := c.Diagnostics(ctx, u, v)
	if err != nil {
		t.Fatal(err)
	}
	return p.Diagnostics
}

func hover(t *testing.T, ctx context.Context, c *lspclient.Client, u uri.URI, line, char uint32) *protocol.Hover {
	t.Helper()
	var hv *protocol.Hover
	if err := c.Call(ctx, protocol.MethodTextDocumentHover, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: protocol.Position{Line: line, Character: char}}}, &hv); err != nil {
		t.Fatalf("hover: %v", err)
	}
	return hv
}

func codeActions(t *testing.T, ctx context.Context, c *lspclient.Client, u uri.URI, r protocol.Range, only ...protocol.CodeActionKind) []*protocol.CodeAction {
	t.Helper()
	var res []protocol.CommandOrCodeAction
	if err := c.Call(ctx, protocol.MethodTextDocumentCodeAction, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: r,
		Context: protocol.CodeActionContext{Diagnostics: []protocol.Diagnostic{}, Only: only}}, &res); err != nil {
		t.Fatalf("codeAction: %v", err)
	}
	var out []*protocol.CodeAction
	for _, x := range res {
		out = append(out, x.(*protocol.CodeAction))
	}
	return out
}

func code(d protocol.Diagnostic) string {
	s, _ := d.Code.(protocol.String)
	return string(s)
}

func codes(ds []protocol.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, code(d))
	}
	return out
}

func withoutURIs(ds []protocol.Diagnostic) []protocol.Diagnostic {
	out := make([]protocol.Diagnostic, len(ds))
	for i, d := range ds {
		d.RelatedInformation = append([]protocol.DiagnosticRelatedInformation(nil), d.RelatedInformation...)
		for j := range d.RelatedInformation {
			d.RelatedInformation[j].Location.URI = ""
		}
		out[i] = d
	}
	return out
}

// TestServeArguments: the ways editors start the server all serve LSP on stdio.
func TestServeArguments(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, args := range [][]string{{"serve"}, {"serve", "--stdio"}, {"--stdio"}, {"serve", "--stdio", "--clientProcessId=42"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, cmd := startBinary(t, ctx, bin, args...)
		res, err := c.Initialize(ctx, &protocol.InitializeParams{})
		if err != nil || res.ServerInfo.Name != "nonroot-ls" {
			t.Fatalf("%q: initialize: %v %+v", args, err, res)
		}
		if err := c.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("%q: exit %v", args, err)
		}
		cancel()
	}
}

// TestExitWithBlockingStdin: editors (Python, Node) hand the server a blocking stdin pipe
// and keep it open after exit; the server must still end promptly with exit code 0.
func TestExitWithBlockingStdin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// os.Pipe makes both ends non-blocking for Go's poller; a child inherits that, which
	// would hide the problem. Make the child's end blocking, as other runtimes do.
	if err := syscall.SetNonblock(int(inR.Fd()), false); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Stdin = inR
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	defer inW.Close()
	c := lspclient.New(ctx, procRWC{stdout, nopCloser{inW}})
	if _, err := c.Initialize(ctx, &protocol.InitializeParams{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the server did not exit after shutdown/exit while its stdin stayed open")
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
