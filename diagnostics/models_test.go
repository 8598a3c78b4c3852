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

// A file read from disk keeps its models only while it is among the files used most
// recently; its kept summaries and an open document's models stay.
func TestModelCacheDropsModelsOfFilesNotOpen(t *testing.T) {
	e, err := New(nil, Options{Groups: []*Group{{Name: "summaries", Kept: []any{summaryKey{}}}}, ModelCacheBudget: 3 * (modelCacheFileCost + len("FROM x\n"))})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for i := range 10 {
		paths = append(paths, write(t, dir, fmt.Sprintf("s%d/Dockerfile", i), "FROM x\n"))
	}
	s := e.NewSnapshot([]string{dir}, Config{})
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
	e.models.mu.Lock()
	cost := e.models.cost
	e.models.mu.Unlock()
	if cost > 3*(modelCacheFileCost+len("FROM x\n")) {
		t.Errorf("cache cost %d over its budget", cost)
	}
}

// The files holding OpenShift objects, brought up to date from the previous snapshot's,
// equal a fresh snapshot's over random edits, saves, closes, creations and deletions.
func TestOpenShiftFilesUpdateEqualsFresh(t *testing.T) {
	asked := 0
	e, err := New(nil, Options{Groups: []*Group{{Name: "detector", OpenShift: func(f *File) bool {
		asked++
		return strings.Contains(f.Text, "kind: Route")
	}}}})
	if err != nil {
		t.Fatal(err)
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
	s := e.NewSnapshot([]string{dir}, Config{})
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
		fresh := e.NewSnapshot([]string{dir}, Config{})
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
	walked := newTestSnapshot(t, []string{dir}, Config{})
	paths := walked.Walk()
	if len(paths) != 7 {
		t.Fatalf("walk = %v", paths)
	}
	for _, p := range paths {
		w, err := walked.File(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := newTestSnapshot(t, []string{dir}, Config{}).File(p)
		if err != nil {
			t.Fatal(err)
		}
		if w.Kind != f.Kind || w.Text != f.Text || w.Path != f.Path {
			t.Errorf("%s: walked %v %q, read alone %v %q", p, w.Kind, w.Text, f.Kind, f.Text)
		}
	}
}

// An open document's model is built from the previous version's: only the last version whose
// models were computed is kept, and it is let go once the new model exists.
func TestPreviousVersion(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "Dockerfile", "FROM disk\n")
	s := newTestSnapshot(t, []string{dir}, Config{})
	disk, _ := s.File(p)
	disk.Memo(heavyKey{}, func() any { return "disk" })
	s1 := s.WithFile(p, 1, "dockerfile", "FROM v1\n")
	f1, _ := s1.File(p)
	if f1.Previous() != disk {
		t.Fatalf("v1 starts from %v, want the disk version", f1.Previous())
	}
	f1.Memo(heavyKey{}, func() any { return "v1" })
	f1.ReleasePrevious()
	s2 := s1.WithFile(p, 2, "dockerfile", "FROM v2\n")
	f2, _ := s2.File(p)
	// v2 is never analysed: v3 starts from v1, and v2 holds nothing.
	s3 := s2.WithFile(p, 3, "dockerfile", "FROM v3\n")
	f3, _ := s3.File(p)
	if f3.Previous() != f1 || f2.Previous() != nil || f1.Previous() != nil {
		t.Fatalf("v3 starts from %p (want v1 %p); v2 keeps %p, v1 keeps %p", f3.Previous(), f1, f2.Previous(), f1.Previous())
	}
	if v, ok := f3.Previous().Peek(heavyKey{}); !ok || v != "v1" {
		t.Fatalf("v1's model: %v %v", v, ok)
	}
}
