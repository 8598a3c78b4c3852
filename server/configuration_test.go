package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

func TestSettingsFrom(t *testing.T) {
	for _, tc := range []struct {
		in      string
		profile string
		rule    string
		err     bool
	}{
		{``, "", "", false},
		{`null`, "", "", false},
		{`{"nonroot": null}`, "", "", false},
		{`{"nonroot": {"profile": "openshift", "rules": {"NR990": "off"}}}`, "openshift", "off", false},
		{`{"profile": "docker", "rules": {"NR990": "error"}}`, "docker", "error", false},
		{`{"nonroot": {"profile": "bogus"}}`, "bogus", "", true},
		{`[1]`, "", "", true},
	} {
		c, err := settingsFrom(testEngine(nil), []byte(tc.in))
		if (err != nil) != tc.err || c.Profile != tc.profile || c.Rules["NR990"] != tc.rule {
			t.Errorf("settingsFrom(%s) = %+v, %v", tc.in, c, err)
		}
	}
}

func TestInitializationOptions(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, `{"nonroot": {"rules": {"NR990": "off"}}}`)
	u := h.open("Dockerfile", "# as root\n")
	if ds := h.diags(u, 1); len(ds) != 0 {
		t.Fatalf("NR990 is off in initializationOptions: %+v", ds)
	}
}

func TestDidChangeConfigurationPush(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.open("Dockerfile", "# as root\n")
	if ds := h.diags(u, 1); len(ds) != 1 || ds[0].Severity != protocol.DiagnosticSeverityWarning {
		t.Fatalf("before: %+v", ds)
	}
	h.c.Notify(h.ctx, protocol.MethodWorkspaceDidChangeConfiguration, &protocol.DidChangeConfigurationParams{Settings: protocol.LSPAny(`{"nonroot": {"rules": {"NR990": "error"}}}`)})
	waitFor(t, h, u, func(ds []protocol.Diagnostic) bool {
		return len(ds) == 1 && ds[0].Severity == protocol.DiagnosticSeverityError
	})
}

func TestWorkspaceConfigurationPull(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{Workspace: &protocol.WorkspaceClientCapabilities{Configuration: ptr(true)}}, "")
	u := h.open("Dockerfile", "# as root\n")
	h.diags(u, 1)
	h.c.SetSettings([]byte(`{"rules": {"NR990": "hint"}}`))
	// Empty settings: the server asks for section "nonroot".
	h.c.Notify(h.ctx, protocol.MethodWorkspaceDidChangeConfiguration, &protocol.DidChangeConfigurationParams{Settings: protocol.LSPAny(`{}`)})
	waitFor(t, h, u, func(ds []protocol.Diagnostic) bool {
		return len(ds) == 1 && ds[0].Severity == protocol.DiagnosticSeverityHint
	})
	// Bad settings are reported with window/logMessage, not by closing the connection.
	h.c.Notify(h.ctx, protocol.MethodWorkspaceDidChangeConfiguration, &protocol.DidChangeConfigurationParams{Settings: protocol.LSPAny(`{"nonroot": {"profile": "nope"}}`)})
	h.waitFor("a log message about the bad profile", func() bool { return logged(h, "unknown profile") })
	if hv := hoverAt(h, u, 0, 6); hv == nil {
		t.Fatal("server stopped answering after bad settings")
	}
}

func logged(h *harness, s string) bool {
	for _, l := range h.c.Logs() {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, h *harness, u uri.URI, ok func([]protocol.Diagnostic) bool) {
	t.Helper()
	waitPublished(h, u, "the diagnostics awaited", ok)
}

// TestInvalidConfigFile: the engine's NR001 on a broken .nonroot-ls.yaml reaches the client.
func TestInvalidConfigFile(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.uri(diagnostics.ConfigFileName)
	h.c.Open(h.ctx, u, "yaml", 1, "profile: kubernetes\nrulez: {}\n")
	ds := h.diags(u, 1)
	if len(ds) != 1 || codes(ds)[0] != "NR001" || !strings.Contains(messageOf(ds[0]), "rulez") {
		t.Fatalf("diagnostics of a broken config: %+v", ds)
	}
}

func TestWorkspaceFoldersChange(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	other := t.TempDir()
	h.c.Notify(h.ctx, protocol.MethodWorkspaceDidChangeWorkspaceFolders, &protocol.DidChangeWorkspaceFoldersParams{Event: protocol.WorkspaceFoldersChangeEvent{
		Added: []protocol.WorkspaceFolder{{URI: uri.File(other), Name: "other"}}, Removed: []protocol.WorkspaceFolder{}}})
	u := h.open("Dockerfile", "# as root\n")
	h.diags(u, 1)
	st := h.s.current()
	if len(st.folders) != 2 || st.folders[1] != other {
		t.Fatalf("folders %v", st.folders)
	}
}
