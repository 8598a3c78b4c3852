package server

import "testing"

// TestStalePullDoesNotOverwritePush: the answer to a workspace/configuration pull sent before
// a didChangeConfiguration push arrives after it; the pushed (newer) settings stay. Found by
// the VS Code protocol test in editors/ under load.
func TestStalePullDoesNotOverwritePush(t *testing.T) {
	s := New(Options{NewEngine: testEngine})
	pull := s.nextSettingsSeq() // initialized: the server asks for the settings
	push := s.nextSettingsSeq() // the user changes a setting: the client pushes it
	s.applySettingsInOrder([]byte(`{"nonroot": {"profile": "docker"}}`), push)
	s.applySettingsInOrder([]byte(`{"profile": "openshift"}`), pull) // the pull's answer, late
	if got := s.current().settings.Profile; got != "docker" {
		t.Fatalf("profile = %q after a stale pull answer, want the pushed %q", got, "docker")
	}
	// A pull sent after the push is newer and applies.
	later := s.nextSettingsSeq()
	s.applySettingsInOrder([]byte(`{"profile": "openshift"}`), later)
	if got := s.current().settings.Profile; got != "openshift" {
		t.Fatalf("profile = %q, want the newer pulled %q", got, "openshift")
	}
}
