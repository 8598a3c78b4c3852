package diagnostics

import "testing"

// TestOverrideWinsOverConfigFile: command-line settings beat .nonroot-ls.yaml, which beats
// editor settings; the override survives WithRoots and WithFile.
func TestOverrideWinsOverConfigFile(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "Dockerfile", "FROM x\nRUN BAD\n")
	write(t, dir, ConfigFileName, "profile: docker\nrules:\n  NR999: error\n")
	s := NewSnapshot([]string{dir}, Config{Profile: "openshift", Rules: map[string]string{"NR999": "hint"}})
	if c := s.ConfigFor(df); c.Profile != "docker" || c.Rules["NR999"] != "error" {
		t.Fatalf("without override: %+v", c)
	}
	s = s.WithOverride(Config{Profile: "openshift"})
	s = s.WithRoots([]string{dir}).WithFile(df, 1, "dockerfile", "FROM x\nRUN BAD\n")
	if c := s.ConfigFor(df); c.Profile != "openshift" || c.Rules["NR999"] != "error" {
		t.Fatalf("with override: %+v", c)
	}
	if p := s.ProfileFor(df); p != ProfileOpenShift {
		t.Fatalf("profile %q", p)
	}
}
