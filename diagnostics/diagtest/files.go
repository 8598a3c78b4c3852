package diagtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// WriteFiles writes files (slash-separated relative path → content) into a new temporary
// directory and returns it.
func WriteFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Workspace writes files into a new temporary directory and returns a snapshot of it by eng
// (the directory its only root) and the directory.
func Workspace(t testing.TB, eng *diagnostics.Engine, files map[string]string) (*diagnostics.Snapshot, string) {
	t.Helper()
	dir := WriteFiles(t, files)
	return eng.NewSnapshot([]string{dir}, diagnostics.Config{}), dir
}
