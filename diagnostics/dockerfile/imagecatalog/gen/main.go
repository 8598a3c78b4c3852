// Command gen generates the image catalog (../catalog.json) from the images' own
// Dockerfiles and entrypoint scripts, read at pinned commits from local git mirrors of their
// repositories, by running nonroot-ls's Dockerfile engine on them. See ../README.md.
//
//	go run ./diagnostics/dockerfile/imagecatalog/gen [-mirrors DIR] [-check]
//	go run ./diagnostics/dockerfile/imagecatalog/gen -pin postgres,redis
//
// It reads sources.yaml (the input list) and overlay.yaml (facts a Dockerfile does not
// show, each with its citation) next to this file. It never touches the network and never
// runs anything from the mirrors: it reads files with git cat-file.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
)

func main() {
	def := os.Getenv("NONROOT_MIRRORS")
	if def == "" {
		def = "/work/.mirror"
	}
	dir := flag.String("dir", "diagnostics/dockerfile/imagecatalog", "the imagecatalog package folder (holding catalog.json and gen/)")
	root := flag.String("mirrors", def, "folder of the git mirrors, <owner>+<name>/repo each (env NONROOT_MIRRORS)")
	check := flag.Bool("check", false, "compare with the committed catalog.json instead of writing it")
	pin := flag.String("pin", "", "comma-separated official images: print the newest official-images commit of each whose Dockerfiles' commits the mirrors hold")
	quiet := flag.Bool("q", false, "do not list the rows skipped")
	flag.Parse()
	m := newMirrors(*root)
	if *pin != "" {
		if err := pinOfficial(m, strings.Split(*pin, ",")); err != nil {
			fail(err)
		}
		return
	}
	start := time.Now()
	logf := func(format string, args ...any) {
		if !*quiet {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		}
	}
	out, cat, err := run(m, *dir, logf)
	if err != nil {
		fail(err)
	}
	path := filepath.Join(*dir, "catalog.json")
	if *check {
		old, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		if !bytes.Equal(old, out) {
			fail(fmt.Errorf("%s differs from what the generator makes: regenerate it", path))
		}
		fmt.Fprintf(os.Stderr, "%s is up to date\n", path)
		return
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fail(err)
	}
	repos := map[string]bool{}
	for _, e := range cat.Images {
		for _, r := range e.Repositories {
			repos[r] = true
		}
		for _, r := range e.Namespaces {
			repos[r+"/*"] = true
		}
		for _, r := range e.RepoPatterns {
			repos[r] = true
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d entries, %d repositories, %d bytes, %d files read, in %v\n",
		path, len(cat.Images), len(repos), len(out), m.reads, time.Since(start).Round(time.Millisecond))
}

// run generates the catalog from the input list and overlay in dir/gen.
func run(m *mirrors, dir string, logf func(string, ...any)) ([]byte, *imagecatalog.Catalog, error) {
	in, overlay, err := readInputs(filepath.Join(dir, "gen"))
	if err != nil {
		return nil, nil, err
	}
	cat, err := generate(m, in, overlay, logf)
	if err != nil {
		return nil, nil, err
	}
	out, err := encode(cat)
	return out, cat, err
}

func readInputs(dir string) (*input, []*imagecatalog.Entry, error) {
	b, err := os.ReadFile(filepath.Join(dir, "sources.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var in input
	if err := yaml.UnmarshalStrict(b, &in); err != nil {
		return nil, nil, fmt.Errorf("sources.yaml: %v", err)
	}
	b, err = os.ReadFile(filepath.Join(dir, "overlay.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var ov struct {
		Images []*imagecatalog.Entry `json:"images"`
	}
	if err := yaml.UnmarshalStrict(b, &ov); err != nil {
		return nil, nil, fmt.Errorf("overlay.yaml: %v", err)
	}
	return &in, ov.Images, nil
}

// pinOfficial prints, for each official image, the newest commit of the official-images
// library file whose Dockerfile commits are all in the mirrors.
func pinOfficial(m *mirrors, names []string) error {
	const repo = "docker-library/official-images"
	for _, name := range names {
		name = strings.TrimSpace(name)
		commits, err := m.log(repo, "library/"+name, 200)
		if err != nil {
			return err
		}
		found := ""
		for _, c := range commits {
			b, err := m.read(repo, c, "library/"+name)
			if err != nil {
				continue
			}
			ok, n := true, 0
			for _, e := range parseLibrary(b) {
				if e.Windows || e.GitRepo == "" {
					continue
				}
				n++
				if !m.has(e.GitRepo, e.GitCommit) {
					ok = false
					break
				}
			}
			if ok && n > 0 {
				found = c
				break
			}
		}
		if found == "" {
			fmt.Printf("    # %s: no version of library/%s whose commits the mirrors hold\n", name, name)
			continue
		}
		fmt.Printf("    - name: %s\n      commit: %s\n", name, found)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
