package diagtest

import (
	"os"
	"path/filepath"
)

// SkipTB is the part of testing.TB CorpusDir uses.
type SkipTB interface {
	Fatal(args ...any)
	Skipf(format string, args ...any)
}

// CorpusDir returns the shared corpus of real third-party files, ../shared/corpus next to the
// repository root (the folder holding go.mod), with symlinks resolved so its paths agree with
// a snapshot's. The test is skipped when the corpus is absent.
func CorpusDir(t SkipTB) string {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("no go.mod above %s", dir)
			return ""
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(c, "labels.yaml")); err != nil {
		t.Skipf("corpus not present at ../shared/corpus")
		return ""
	}
	if real, err := filepath.EvalSymlinks(c); err == nil {
		c = real
	}
	return c
}
