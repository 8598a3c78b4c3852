package diagnostics

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type heavyKey struct{}

type summaryKey struct{}

func init() { KeepMemo(summaryKey{}) }

// A file read from disk keeps its models only while it is among the files used most
// recently; its kept summaries and an open document's models stay.
func TestModelCacheDropsModelsOfFilesNotOpen(t *testing.T) {
	defer SetModelCacheBudget(SetModelCacheBudget(3 * (modelCacheFileCost + len("FROM x\n"))))
	dir := t.TempDir()
	var paths []string
	for i := range 10 {
		paths = append(paths, write(t, dir, fmt.Sprintf("s%d/Dockerfile", i), "FROM x\n"))
	}
	s := NewSnapshot([]string{dir}, Config{})
	s = s.WithFile(paths[9], 1, "dockerfile", "FROM open\n")
	computed := map[string]int{}
	model := func(p string, key any) string {
		f, err := s.File(p)
		if err != nil {
			t.Fatal(err)
		}
		return f.Memo(key, func() any {
			computed[fmt.Sprintf("%s %T", p, key)]++
			return "model of " + f.Text
		}).(string)
	}
	first := map[string]string{}
	for _, p := range paths {
		first[p] = model(p, heavyKey{})
		model(p, summaryKey{})
	}
	// The three files used last are cached: nothing is computed again.
	for _, p := range paths[6:] {
		model(p, heavyKey{})
	}
	for _, p := range paths[6:] {
		if n := computed[p+" diagnostics.heavyKey"]; n != 1 {
			t.Errorf("%s: model computed %d times, want 1 (cached)", p, n)
		}
	}
	// The others were dropped and are computed again, equal; their summaries were kept.
	for _, p := range paths[:6] {
		if got := model(p, heavyKey{}); got != first[p] {
			t.Errorf("%s: recomputed model %q, want %q", p, got, first[p])
		}
		if n := computed[p+" diagnostics.heavyKey"]; n != 2 {
			t.Errorf("%s: model computed %d times, want 2 (dropped, then computed again)", p, n)
		}
	}
	for _, p := range paths {
		model(p, summaryKey{})
		if n := computed[p+" diagnostics.summaryKey"]; n != 1 {
			t.Errorf("%s: summary computed %d times, want 1 (kept)", p, n)
		}
	}
	// The open document's model never left.
	if n := computed[paths[9]+" diagnostics.heavyKey"]; n != 1 {
		t.Errorf("open document: model computed %d times, want 1", n)
	}
	models.mu.Lock()
	cost := models.cost
	models.mu.Unlock()
	if cost > 3*(modelCacheFileCost+len("FROM x\n")) {
		t.Errorf("cache cost %d over its budget", cost)
	}
}

// The files holding OpenShift objects, brought up to date from the previous snapshot's,
// equal a fresh snapshot's over random edits, saves, closes, creations and deletions.
func TestOpenShiftFilesUpdateEqualsFresh(t *testing.T) {
	old := profileDetector
	defer func() { profileDetector = old }()
	asked := 0
	profileDetector = func(f *File) bool {
		asked++
		return strings.Contains(f.Text, "kind: Route")
	}
	dir := t.TempDir()
	manifest := func(i int, route bool) string {
		kind := "Service"
		if route {
			kind = "Route"
		}
		return fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata:\n  name: m%d\n", kind, i)
	}
	var paths []string
	for i := range 12 {
		paths = append(paths, write(t, dir, fmt.Sprintf("d%d/m%d.yaml", i%3, i), manifest(i, i == 4)))
	}
	s := NewSnapshot([]string{dir}, Config{})
	if got := s.OpenShiftFiles(); !slices.Equal(got, paths[4:5]) {
		t.Fatalf("OpenShiftFiles = %v", got)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for step := range 300 {
		i := rnd.IntN(len(paths))
		p := paths[i]
		route := rnd.IntN(3) == 0
		switch rnd.IntN(5) {
		case 0, 1:
			s = s.WithFile(p, int32(step+1), "yaml", manifest(i, route))
		case 2:
			s = s.WithoutFile(p)
		case 3:
			write(t, dir, filepath.Join(filepath.Base(filepath.Dir(p)), filepath.Base(p)), manifest(i, route))
			s = s.WithDiskChanges(p)
		case 4:
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			s = s.WithDiskChanges(p)
		}
		asked = 0
		got := s.OpenShiftFiles()
		if asked > 1 {
			t.Fatalf("step %d: the detector was asked about %d files, want at most the changed one", step, asked)
		}
		fresh := NewSnapshot([]string{dir}, Config{})
		for q, f := range s.overlays {
			fresh = fresh.WithFile(q, f.Version, f.LanguageID, f.Text)
		}
		if want := fresh.OpenShiftFiles(); !slices.Equal(got, want) {
			t.Fatalf("step %d: updated %v, fresh %v", step, got, want)
		}
		if got, want := s.ProfileFor(p), fresh.ProfileFor(p); got != want {
			t.Fatalf("step %d: profile %s, fresh %s", step, got, want)
		}
	}
}

// The walk reads files GOMAXPROCS at a time, resolving each folder once: every file reads and
// classifies as File reads it alone.
func TestWalkReadsAsFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n")
	write(t, dir, "chart/values.yaml", "image: x\n")
	write(t, dir, "chart/templates/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n")
	write(t, dir, "chart/templates/sub/pod.yaml", "apiVersion: v1\nkind: Pod\n")
	write(t, dir, "k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n")
	write(t, dir, "svc/Dockerfile", "FROM x\n")
	write(t, dir, "svc/a/b/c/Containerfile", "FROM y\n")
	if err := os.Symlink(filepath.Join(dir, "svc"), filepath.Join(dir, "linked")); err != nil {
		t.Skip(err)
	}
	walked := NewSnapshot([]string{dir}, Config{})
	paths := walked.Walk()
	if len(paths) != 7 {
		t.Fatalf("walk = %v", paths)
	}
	for _, p := range paths {
		w, err := walked.File(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewSnapshot([]string{dir}, Config{}).File(p)
		if err != nil {
			t.Fatal(err)
		}
		if w.Kind != f.Kind || w.Text != f.Text || w.Path != f.Path {
			t.Errorf("%s: walked %v %q, read alone %v %q", p, w.Kind, w.Text, f.Kind, f.Text)
		}
	}
}
