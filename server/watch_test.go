package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// TestScanProgressAndWatcher: a client that supports work-done progress and dynamic watcher
// registration gets the watcher registered and the workspace scan reported begin → end.
func TestScanProgressAndWatcher(t *testing.T) {
	caps := protocol.ClientCapabilities{
		Workspace: &protocol.WorkspaceClientCapabilities{DidChangeWatchedFiles: &protocol.DidChangeWatchedFilesClientCapabilities{DynamicRegistration: ptr(true)}},
		Window:    &protocol.WindowClientCapabilities{WorkDoneProgress: ptr(true)},
	}
	dir := tree(t, map[string]string{"a/Dockerfile": "FROM alpine\nUSER root\n", "b/pod.yaml": "apiVersion: v1\nkind: Pod\n"})
	h := start(t, dir, caps, "")
	var seen string
	h.waitFor("register, create, begin, end", func() bool {
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
		seen = b.String()
		return seen == "register create begin end "
	})
}

// TestWithoutCapabilitiesNoWatcherNoProgress: nothing is asked of a client that did not offer it.
func TestWithoutCapabilitiesNoWatcherNoProgress(t *testing.T) {
	h := start(t, "", ptrCaps(), "")
	u := h.open("Dockerfile", "USER root\n")
	h.diags(u, 1)
	// Everything the server sends (its background work included) is sent before it exits,
	// and the client has handled it all when its connection ends.
	if code := h.shutdown(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	<-h.c.Done()
	for _, r := range h.c.Received() {
		if r.Method == protocol.MethodClientRegisterCapability || r.Method == protocol.MethodProgress || r.Method == protocol.MethodWindowWorkDoneProgressCreate {
			t.Errorf("unexpected %s", r.Method)
		}
	}
}
