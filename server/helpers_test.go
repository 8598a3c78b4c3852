package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kbuild"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/server/lspclient"
)

// testRule is only in this package's test engine: it reports "root" in a "# as root"
// comment line and every "TODO". Test documents are comments (or valid non-root Dockerfiles),
// so the real rule groups stay quiet and the server tests do not depend on them.
var testRule = &diagnostics.Rule{
	ID:       "NR990",
	Title:    "Test rule",
	Severity: diagnostics.SeverityWarning,
	Kinds:    []diagnostics.FileKind{diagnostics.KindDockerfile},
	Doc:      diagnostics.Doc{Why: "test why", Runtime: "test runtime", Fix: "test fix"},
	FixTitle: "Replace it",
	Fix:      fixTestRule,
	Run: func(pass *diagnostics.Pass) {
		l := pass.File.Lines()
		for n := 0; n < l.Count(); n++ {
			line := l.Line(n)
			if rest, ok := strings.CutPrefix(line, "# as root"); ok && (rest == "" || rest[0] == ' ') {
				pass.Report(diagnostics.Finding{
					Range:   text.Range{Start: text.Pos{Line: n, Col: 5}, End: text.Pos{Line: n, Col: 9}},
					Message: "the container runs as root",
					Related: []diagnostics.Related{{File: pass.File.Path, Range: l.LineRange(0), Message: "first line"}},
				})
			}
			if line == "# PANIC" {
				panic("test rule: deliberate panic") // for TestRulePanicIsLoggedNR001
			}
			if line == "# SLOW" {
				// A diagnosis that lasts until its request is cancelled or the test releases it.
				var release <-chan struct{}
				if g := slowGate.Load(); g != nil {
					release = *g
				}
				select {
				case <-release:
				case <-pass.Context().Done():
				}
			}
			if i := strings.Index(line, "TODO"); i >= 0 {
				pass.Reportf(text.Range{Start: text.Pos{Line: n, Col: i}, End: text.Pos{Line: n, Col: i + 4}}, "a TODO")
			}
		}
	},
}

// slowGate, when set, releases the diagnoses of "# SLOW" documents when it is closed.
var slowGate atomic.Pointer[chan struct{}]

// testEngine is the product's engine (charts rendered, kustomizations built in-process) with testRule.
func testEngine(log func(string)) *diagnostics.Engine {
	e, err := diagnostics.New(append(slices.Clone(all.Rules), testRule), diagnostics.Options{
		Groups: all.Groups(all.Options{HelmRender: helmrender.Render, KustomizeBuild: kbuild.Build}), Log: log,
	})
	if err != nil {
		panic(err)
	}
	return e
}

func fixTestRule(_ context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	if !strings.Contains(f.Message, "root") {
		return []codeactions.Action{{Title: "Mark DONE", Preferred: true, Edits: []codeactions.FileEdit{{Path: f.File, Edits: []text.Edit{{Range: f.Range, NewText: "DONE"}}}}}}
	}
	return []codeactions.Action{
		{Title: "Run as 10001", Preferred: true, Edits: []codeactions.FileEdit{{Path: f.File, Edits: []text.Edit{{Range: f.Range, NewText: "10001"}}}}},
		{Title: "Note it elsewhere", Edits: []codeactions.FileEdit{
			{Path: f.File, Edits: []text.Edit{{Range: text.Range{Start: f.Range.Start, End: f.Range.Start}, NewText: ""}}},
			{Path: filepath.Join(filepath.Dir(f.File), "NOTES"), Edits: []text.Edit{{NewText: "root\n"}}},
		}},
	}
}

type harness struct {
	t      *testing.T
	c      *lspclient.Client
	s      *Server
	dir    string
	code   chan int
	ctx    context.Context
	cancel context.CancelFunc
}

// start runs a server over net.Pipe with a client, initialized with the given
// capabilities and the workspace folder dir (created when empty).
func start(t *testing.T, dir string, caps protocol.ClientCapabilities, initOpts string) *harness {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	a, b := net.Pipe()
	s := New(Options{NewEngine: testEngine, TestHooks: true})
	h := &harness{t: t, s: s, dir: dir, code: make(chan int, 1), ctx: ctx, cancel: cancel}
	go func() { h.code <- s.Run(ctx, a) }()
	h.c = lspclient.New(ctx, b)
	p := &protocol.InitializeParams{Capabilities: caps}
	p.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: uri.File(dir), Name: "ws"}})
	if initOpts != "" {
		p.InitializationOptions = protocol.LSPAny(initOpts)
	}
	if _, err := h.c.Initialize(ctx, p); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	t.Cleanup(func() {
		h.c.Close()
		cancel()
	})
	return h
}

func (h *harness) uri(name string) uri.URI { return uri.File(filepath.Join(h.dir, name)) }

// tree writes files into a new folder, for a workspace that exists before the server starts.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// write writes a file of the workspace and tells the server, as an editor's file watcher
// does (workspace/didChangeWatchedFiles): what the server reads next sees the new content.
func (h *harness) write(name, content string) {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	typ := protocol.FileChangeTypeChanged
	if _, err := os.Stat(p); err != nil {
		typ = protocol.FileChangeTypeCreated
	}
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if h.c == nil {
		return // before the session: the server walks the folder when it starts
	}
	if err := h.c.Notify(h.ctx, protocol.MethodWorkspaceDidChangeWatchedFiles, &protocol.DidChangeWatchedFilesParams{
		Changes: []protocol.FileEvent{{URI: h.uri(name), Type: typ}}}); err != nil {
		h.t.Fatal(err)
	}
}

// waitFor waits, without polling, until ok holds (see lspclient.Client.Wait).
func (h *harness) waitFor(what string, ok func() bool) {
	h.t.Helper()
	if err := h.c.Wait(h.ctx, what, ok); err != nil {
		h.t.Fatalf("%v; logs %q", err, h.c.Logs())
	}
}

func (h *harness) open(name, content string) uri.URI {
	h.t.Helper()
	u := h.uri(name)
	if err := h.c.Open(h.ctx, u, "dockerfile", 1, content); err != nil {
		h.t.Fatal(err)
	}
	return u
}

func (h *harness) diags(u uri.URI, version int32) []protocol.Diagnostic {
	h.t.Helper()
	p, err := h.c.Diagnostics(h.ctx, u, version)
	if err != nil {
		h.t.Fatal(err)
	}
	return p.Diagnostics
}

// shutdown sends shutdown+exit and returns the server's exit code.
func (h *harness) shutdown() int {
	h.t.Helper()
	if err := h.c.Shutdown(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	select {
	case c := <-h.code:
		return c
	case <-h.ctx.Done():
		h.t.Fatal("server did not exit")
	}
	return -1
}

func codes(ds []protocol.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		c, _ := d.Code.(protocol.String)
		out = append(out, string(c))
	}
	return out
}

func ptrCaps() protocol.ClientCapabilities { return protocol.ClientCapabilities{} }
