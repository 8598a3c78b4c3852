package dockerfile_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/dockerfiletest"
)

// maxBytesPerLine bounds what a diagnosed Dockerfile keeps in memory, per line of its text
// (the text itself, its model and its findings), so that a 50,000-line file stays well within
// the 200 MiB budget once the garbage of its parsing is counted.
const maxBytesPerLine = 1800

// TestLargeDockerfileMemory diagnoses lspbench's generated 50,000-line Dockerfile and measures
// the heap it keeps (after a collection, with the snapshot alive).
func TestLargeDockerfileMemory(t *testing.T) {
	const lines = 50000
	src := dockerfiletest.Generate(lines)
	dir := t.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	eng := alltest.Engine()
	before := liveHeap()
	s := eng.NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(path, 1, "dockerfile", src)
	s.Diagnose(context.Background(), path)
	kept := liveHeap() - before
	runtime.KeepAlive(s)
	if perLine := kept / lines; perLine > maxBytesPerLine {
		t.Errorf("a %d-line Dockerfile keeps %d MiB, %d bytes a line (at most %d)", lines, kept>>20, perLine, maxBytesPerLine)
	}
	t.Logf("kept %.1f MiB, %d bytes a line", float64(kept)/(1<<20), kept/lines)
}

func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
