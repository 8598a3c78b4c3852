package diagnostics

import (
	"context"
	"testing"
)

// TestOverrideWinsOverConfigFile: command-line settings beat .nonroot-ls.yaml, which beats
// editor settings; the override survives WithRoots and WithFile.
func TestOverrideWinsOverConfigFile(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "Dockerfile", "FROM x\nRUN BAD\n")
	write(t, dir, ConfigFileName, "profile: docker\nrules:\n  NR999: error\n")
	s := newTestSnapshot(t, []string{dir}, Config{Profile: "openshift", Rules: map[string]string{"NR999": "hint"}})
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

// TestDiagnoseIsMemoised: a snapshot diagnoses a file once; callers get their own slices.
func TestDiagnoseIsMemoised(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "Dockerfile", "FROM x\nRUN BAD\n")
	s := newTestSnapshot(t, []string{dir}, Config{})
	a := s.Diagnose(context.Background(), df)
	if len(a) != 1 {
		t.Fatalf("findings %v", a)
	}
	a[0].Message = "changed by the caller"
	if b := s.Diagnose(context.Background(), df); b[0].Message != "bad" {
		t.Fatalf("a caller's change leaked into the memo: %v", b)
	}
	// A new snapshot (another version of the file) is diagnosed afresh.
	if c := s.WithFile(df, 2, "dockerfile", "FROM x\nRUN BAD\nRUN BAD\n").Diagnose(context.Background(), df); len(c) != 2 {
		t.Fatalf("new version: %v", c)
	}
}
