package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReproduce regenerates the catalog from the committed input list and overlay and
// compares it with the committed catalog.json. It needs the git mirrors of the source
// repositories (NONROOT_MIRRORS, default /work/.mirror) and skips without them.
func TestReproduce(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerating reads ~2500 files from the mirrors (-short)")
	}
	root := os.Getenv("NONROOT_MIRRORS")
	if root == "" {
		root = "/work/.mirror"
	}
	m := newMirrors(root)
	if _, err := m.gitDir("docker-library/official-images"); err != nil {
		t.Skipf("the source mirrors are absent (%v): set NONROOT_MIRRORS to the folder holding them to check the catalog", err)
	}
	dir := ".."
	out, _, err := run(m, dir, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(dir, "catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, out) {
		t.Fatalf("catalog.json differs from what the generator makes from sources.yaml and overlay.yaml (%d vs %d bytes): run go run ./diagnostics/dockerfile/imagecatalog/gen", len(old), len(out))
	}
}

func TestParseLibrary(t *testing.T) {
	lib := []byte(`# comment
Maintainers: x (@x)
GitRepo: https://github.com/docker-library/postgres.git

Tags: 17.2, 17, latest
SharedTags: 17-shared
Architectures: amd64, arm64v8
GitCommit: 0123456789012345678901234567890123456789
Directory: 17/bookworm

Tags: 17-windowsservercore
Architectures: windows-amd64
GitCommit: 0123456789012345678901234567890123456789
Directory: 17/windows
Constraints: windowsservercore-ltsc2022

Tags: bookworm
Builder: oci-import
File: index.json
amd64-GitCommit: 1111111111111111111111111111111111111111
amd64-Directory: bookworm/oci
arm64v8-GitCommit: 2222222222222222222222222222222222222222
`)
	es := parseLibrary(lib)
	if len(es) != 3 {
		t.Fatalf("%d entries: %+v", len(es), es)
	}
	if e := es[0]; e.GitRepo != "docker-library/postgres" || e.Directory != "17/bookworm" || len(e.Tags) != 4 || e.File != "Dockerfile" || e.Windows {
		t.Errorf("entry 0: %+v", e)
	}
	if !es[1].Windows {
		t.Errorf("entry 1 is Windows: %+v", es[1])
	}
	if e := es[2]; e.Builder != "oci-import" || e.GitCommit != "1111111111111111111111111111111111111111" || e.Directory != "bookworm/oci" || e.File != "index.json" {
		t.Errorf("entry 2: %+v", e)
	}
}
