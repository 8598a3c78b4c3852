package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// mirrors reads files of upstream repositories from the bare git directories the search
// tool's fetch leaves under a root: <root>/<owner>+<name>/repo (or repo/.git). It only reads
// (git cat-file); nothing of a fetched repository is run.
type mirrors struct {
	root  string
	dirs  map[string]string // owner/name → git dir ("" when absent)
	cache map[string][]byte // repo\x00commit\x00path → content
	reads int
}

func newMirrors(root string) *mirrors {
	return &mirrors{root: root, dirs: map[string]string{}, cache: map[string][]byte{}}
}

// gitDir returns the git directory of repo ("owner/name"), or an error saying it is absent.
func (m *mirrors) gitDir(repo string) (string, error) {
	if d, ok := m.dirs[repo]; ok {
		if d == "" {
			return "", fmt.Errorf("no mirror of %s under %s", repo, m.root)
		}
		return d, nil
	}
	base := filepath.Join(m.root, strings.Replace(repo, "/", "+", 1), "repo")
	for _, d := range []string{filepath.Join(base, ".git"), base} {
		if st, err := os.Stat(filepath.Join(d, "objects")); err == nil && st.IsDir() {
			m.dirs[repo] = d
			return d, nil
		}
	}
	m.dirs[repo] = ""
	return "", fmt.Errorf("no mirror of %s under %s", repo, m.root)
}

// has reports whether the mirror of repo has the commit.
func (m *mirrors) has(repo, commit string) bool {
	d, err := m.gitDir(repo)
	if err != nil {
		return false
	}
	return exec.Command("git", "--git-dir="+d, "cat-file", "-e", commit+"^{commit}").Run() == nil
}

// read returns the file at path in repo at commit.
func (m *mirrors) read(repo, commit, path string) ([]byte, error) {
	key := repo + "\x00" + commit + "\x00" + path
	if b, ok := m.cache[key]; ok {
		if b == nil {
			return nil, fmt.Errorf("%s@%s: %s: not found", repo, short(commit), path)
		}
		return b, nil
	}
	d, err := m.gitDir(repo)
	if err != nil {
		return nil, err
	}
	m.reads++
	var out, errb bytes.Buffer
	cmd := exec.Command("git", "--git-dir="+d, "cat-file", "blob", commit+":"+path)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		m.cache[key] = nil
		return nil, fmt.Errorf("%s@%s: %s: not found", repo, short(commit), path)
	}
	b := out.Bytes()
	if b == nil {
		b = []byte{}
	}
	m.cache[key] = b
	return b, nil
}

// resolve returns the full commit hash of rev (a branch, tag or commit) in repo.
func (m *mirrors) resolve(repo, rev string) (string, error) {
	d, err := m.gitDir(repo)
	if err != nil {
		return "", err
	}
	out, err := exec.Command("git", "--git-dir="+d, "rev-parse", "--verify", rev+"^{commit}").Output()
	if err != nil {
		return "", fmt.Errorf("%s: no revision %s", repo, rev)
	}
	return strings.TrimSpace(string(out)), nil
}

// log returns the commits of repo that changed path, newest first (at most n).
func (m *mirrors) log(repo, path string, n int) ([]string, error) {
	d, err := m.gitDir(repo)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command("git", "--git-dir="+d, "log", "--format=%H", fmt.Sprintf("-n%d", n), "HEAD", "--", path).Output()
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
