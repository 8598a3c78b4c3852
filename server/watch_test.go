package server

import (
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// TestScanProgressAndWatcher: a client that supports work-done progress and dynamic watcher
// registration gets the watcher registered and the workspace scan reported begin → end.
func TestScanProgressAndWatcher(t *testing.T) {
	dir := t.TempDir()
	caps := protocol.ClientCapabilities{
		Workspace: &protocol.WorkspaceClientCapabilities{DidChangeWatchedFiles: &protocol.DidChangeWatchedFilesClientCapabilities{DynamicRegistration: ptr(true)}},
		Window:    &protocol.WindowClientCapabilities{WorkDoneProgress: ptr(true)},
	}
	h := start(t, dir, caps, "")
	h.write("a/Dockerfile", "FROM alpine\nUSER root\n")
	h.write("b/pod.yaml", "apiVersion: v1\nkind: Pod\n")
	deadline := time.Now().Add(10 * time.Second)
	var seen string
	for time.Now().Before(deadline) {
		var b strings.Builder
		for _, r := range h.c.Received() {
			switch r.Method {
			case protocol.MethodClientRegisterCapability:
				if strings.Contains(string(r.Params), protocol.MethodWorkspaceDidChangeWatchedFiles) && strings.Contains(string(r.Params), "Dockerfile") {
					b.WriteString("register ")
				}
			case protocol.MethodWindowWorkDoneProgressCreate:
				b.WriteString("create ")
			case protocol.MethodProgress:
				for _, k := range []string{"begin", "end"} {
					if strings.Contains(string(r.Params), `"kind":"`+k+`"`) {
						b.WriteString(k + " ")
					}
				}
			}
		}
		if seen = b.String(); seen == "register create begin end " {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("received %q, want register, create, begin, end; logs %q", seen, h.c.Logs())
}

// TestWithoutCapabilitiesNoWatcherNoProgress: nothing is asked of a client that did not offer it.
func TestWithoutCapabilitiesNoWatcherNoProgress(t *testing.T) {
	h := start(t, "", ptrCaps(), "")
	u := h.open("Dockerfile", "USER root\n")
	h.diags(u, 1)
	time.Sleep(50 * time.Millisecond)
	for _, r := range h.c.Received() {
		if r.Method == protocol.MethodClientRegisterCapability || r.Method == protocol.MethodProgress || r.Method == protocol.MethodWindowWorkDoneProgressCreate {
			t.Errorf("unexpected %s", r.Method)
		}
	}
}
