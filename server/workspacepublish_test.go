package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// These tests cover the workspace scope (workspacepublish.go): the problems of files that are
// not open are published once the scan has ended, and cleared when the files are deleted,
// ignored or leave the scope. Every wait is for a message from the server.

// publishedCodes waits until u's newest publication satisfies ok and returns it.
func publishedCodes(h *harness, u uri.URI, what string, ok func(*protocol.PublishDiagnosticsParams) bool) *protocol.PublishDiagnosticsParams {
	h.t.Helper()
	p, err := h.c.WaitFor(h.ctx, u, what, ok)
	if err != nil {
		latest, n := h.c.Latest(u)
		h.t.Fatalf("%v (latest of %d publications: %+v)", err, n, latest)
	}
	return p
}

func with(code string) func(*protocol.PublishDiagnosticsParams) bool {
	return func(p *protocol.PublishDiagnosticsParams) bool { return slices.Contains(codes(p.Diagnostics), code) }
}

func cleared(p *protocol.PublishDiagnosticsParams) bool { return len(p.Diagnostics) == 0 }

// pushSettings sends didChangeConfiguration with the settings themselves (the harness's
// clients do not answer workspace/configuration, so the server takes what is pushed).
func pushSettings(h *harness, settings string) {
	h.t.Helper()
	if err := h.c.Notify(h.ctx, protocol.MethodWorkspaceDidChangeConfiguration, &protocol.DidChangeConfigurationParams{Settings: protocol.LSPAny(settings)}); err != nil {
		h.t.Fatal(err)
	}
}

// TestWorkspaceProblemsWithoutOpening: with no document open, the Dockerfile's and the
// manifest's problems are published (without a version) as `check` reports them, the
// manifest's NR301 pointing at the Dockerfile's USER line.
func TestWorkspaceProblemsWithoutOpening(t *testing.T) {
	dir := wsFiles(t)
	h := start(t, dir, ptrCaps(), "")
	du, mu := h.uri("app/Dockerfile"), h.uri("deploy/pod.yaml")
	dp := publishedCodes(h, du, "NR103 of the Dockerfile", with("NR103"))
	mp := publishedCodes(h, mu, "NR301 of the manifest", with("NR301"))
	for _, p := range []*protocol.PublishDiagnosticsParams{dp, mp} {
		if _, ok := p.Version.Get(); ok {
			t.Errorf("%s published with a version: it is not open", p.URI)
		}
	}
	// The same findings as the CLI's engine on the files on disk.
	snap := testEngine(nil).NewSnapshot([]string{dir}, diagnostics.Config{})
	for _, p := range []*protocol.PublishDiagnosticsParams{dp, mp} {
		var want []string
		for _, f := range snap.Diagnose(context.Background(), p.URI.FsPath()) {
			if f.File == p.URI.FsPath() {
				want = append(want, f.RuleID)
			}
		}
		if got := codes(p.Diagnostics); !slices.Equal(got, want) {
			t.Errorf("%s: published %v, check reports %v", p.URI, got, want)
		}
	}
	for _, d := range mp.Diagnostics {
		if c, _ := d.Code.(protocol.String); c == "NR301" {
			if len(d.RelatedInformation) == 0 || d.RelatedInformation[0].Location.URI != du || d.RelatedInformation[0].Location.Range != rng(2, 5, 2, 8) {
				t.Errorf("NR301 related information %+v, want the USER argument of app/Dockerfile", d.RelatedInformation)
			}
		}
	}
}

// TestWorkspaceProblemsClearedOnDelete: the Dockerfile is deleted on disk; the watcher's
// event clears its problems, and the manifest, no longer linked, loses NR301.
func TestWorkspaceProblemsClearedOnDelete(t *testing.T) {
	dir := wsFiles(t)
	h := start(t, dir, ptrCaps(), "")
	du, mu := h.uri("app/Dockerfile"), h.uri("deploy/pod.yaml")
	publishedCodes(h, du, "NR103 of the Dockerfile", with("NR103"))
	publishedCodes(h, mu, "NR301 of the manifest", with("NR301"))
	if err := os.Remove(filepath.Join(dir, "app", "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	if err := h.c.Notify(h.ctx, protocol.MethodWorkspaceDidChangeWatchedFiles, &protocol.DidChangeWatchedFilesParams{
		Changes: []protocol.FileEvent{{URI: du, Type: protocol.FileChangeTypeDeleted}}}); err != nil {
		t.Fatal(err)
	}
	publishedCodes(h, du, "the deleted Dockerfile's problems cleared", cleared)
	publishedCodes(h, mu, "the manifest without NR301", func(p *protocol.PublishDiagnosticsParams) bool { return !with("NR301")(p) })
}

// TestWorkspaceProblemsClearedWhenIgnored: a settings change that ignores deploy/ clears the
// manifest's problems; dropping it publishes them again.
func TestWorkspaceProblemsClearedWhenIgnored(t *testing.T) {
	h := start(t, wsFiles(t), ptrCaps(), "")
	mu := h.uri("deploy/pod.yaml")
	publishedCodes(h, mu, "NR301 of the manifest", with("NR301"))
	pushSettings(h, `{"nonroot": {"ignore": ["deploy/**"]}}`)
	publishedCodes(h, mu, "the ignored manifest's problems cleared", cleared)
	pushSettings(h, `{"nonroot": {}}`)
	publishedCodes(h, mu, "NR301 again", with("NR301"))
}

// TestDiagnosticsScopeSetting: scope openFiles clears the problems of the files that are not
// open (the open one stays); workspace brings them back.
func TestDiagnosticsScopeSetting(t *testing.T) {
	h := start(t, wsFiles(t), ptrCaps(), "")
	du, mu := h.uri("app/Dockerfile"), h.uri("deploy/pod.yaml")
	publishedCodes(h, du, "NR103 of the Dockerfile", with("NR103"))
	if err := h.c.Open(h.ctx, mu, "yaml", 1, wsManifest); err != nil {
		t.Fatal(err)
	}
	h.diags(mu, 1)
	pushSettings(h, `{"nonroot": {"diagnostics": {"scope": "openFiles"}}}`)
	publishedCodes(h, du, "the Dockerfile's problems cleared (scope openFiles)", cleared)
	if p, _ := h.c.Latest(mu); !with("NR301")(p) {
		t.Errorf("the open manifest lost NR301: %+v", p)
	}
	pushSettings(h, `{"nonroot": {"diagnostics": {"scope": "workspace"}}}`)
	publishedCodes(h, du, "the Dockerfile's problems again (scope workspace)", with("NR103"))
}

// TestClosedDocumentShowsItsDiskProblems: a document edited in the editor and closed without
// saving goes back to its problems on disk, in one publication (no clearing in between).
func TestClosedDocumentShowsItsDiskProblems(t *testing.T) {
	h := start(t, wsFiles(t), ptrCaps(), "")
	du := h.uri("app/Dockerfile")
	publishedCodes(h, du, "NR103 of the Dockerfile", with("NR103"))
	h.open("app/Dockerfile", strings.Replace(wsDockerfile, "USER app", "USER 10001", 1))
	if ds := h.diags(du, 1); slices.Contains(codes(ds), "NR103") {
		t.Fatalf("the edited Dockerfile still has NR103: %v", codes(ds))
	}
	_, n := h.c.Latest(du)
	if err := h.c.Notify(h.ctx, protocol.MethodTextDocumentDidClose, &protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: du}}); err != nil {
		t.Fatal(err)
	}
	p, err := h.c.Published(h.ctx, du, n+1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Version.Get(); ok || !with("NR103")(p) {
		t.Errorf("after close, the first publication is %+v, want the disk's NR103 without a version", p)
	}
}

// TestLargeWorkspacePublishesOpenFilesOnly: above diagnostics.MaxWorkspaceFiles files, the
// unset scope publishes the open documents only and says so once; scope workspace publishes
// them all.
func TestLargeWorkspacePublishesOpenFilesOnly(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i <= diagnostics.MaxWorkspaceFiles; i++ {
		p := filepath.Join(dir, fmt.Sprintf("svc%04d", i), "Dockerfile")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("FROM alpine:3.21\nUSER app\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := start(t, dir, ptrCaps(), "")
	err := h.c.Wait(h.ctx, "the log message about the workspace's size", func() bool {
		return slices.ContainsFunc(h.c.Logs(), func(m string) bool { return strings.Contains(m, "only the problems of open files are published") })
	})
	if err != nil {
		t.Fatal(err)
	}
	open := h.open("svc0000/Dockerfile", "FROM alpine:3.21\nUSER app\n")
	h.diags(open, 1)
	// The run that logged published nothing for the files that are not open, and every later
	// run came after the open document's publication.
	for _, u := range h.c.Order() {
		if u != open {
			t.Fatalf("%s published, though not open in a workspace of %d files", u, diagnostics.MaxWorkspaceFiles+1)
		}
	}
	pushSettings(h, `{"nonroot": {"diagnostics": {"scope": "workspace"}}}`)
	last := h.uri(fmt.Sprintf("svc%04d/Dockerfile", diagnostics.MaxWorkspaceFiles))
	publishedCodes(h, last, "NR103 of a file that is not open (scope workspace)", with("NR103"))
}
