package editors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/server/lspclient"
)

// These tests run real editor clients (Neovim, Emacs eglot, VS Code's protocol stack on Node)
// against the nonroot-ls binary built from this tree. Each skips, saying why, when its editor
// is not installed — unless NONROOT_REQUIRE_EDITORS is set (CI sets it after installing them),
// in which case a missing editor fails the test.

// requireEditors reports whether missing editors are failures rather than skips.
func requireEditors() bool { return os.Getenv("NONROOT_REQUIRE_EDITORS") != "" }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// repoRoot is the directory holding go.mod (the parent of editors/).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// server builds ./cmd/nonroot-ls once per test run and returns the binary's path.
func server(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "cmd", "nonroot-ls")); err != nil {
		t.Skip("skipping: ./cmd/nonroot-ls is not in this tree (the language server has not been merged)")
	}
	if alltest.Engine().RuleByID("NR102") == nil {
		t.Skip("skipping: the Dockerfile rules (NR102) are not in this tree")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "nonroot-ls-editors-")
		if buildErr != nil {
			return
		}
		binPath, buildErr = lspclient.Build(buildDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// need returns the path of an editor's executable or skips the test.
func need(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if requireEditors() {
			t.Fatalf("%s is not installed and NONROOT_REQUIRE_EDITORS is set (%s)", name, install)
		}
		t.Skipf("skipping: %s is not installed (%s)", name, install)
	}
	return p
}

// workspace copies testdata/workspace to a fresh directory.
func workspace(t *testing.T) string {
	t.Helper()
	return copyTree(t, filepath.Join("testdata", "workspace"))
}

// copyTree copies src to a fresh directory of the same name and returns it (symlinks
// resolved, so that editors and the server agree on paths).
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := filepath.EvalSymlinks(dst); err == nil {
		dst = r
	}
	return dst
}

// engineSnapshot is the engine's view of a workspace: what the server must agree with.
func engineSnapshot(ws string) *diagnostics.Snapshot {
	return alltest.Engine().NewSnapshot([]string{ws}, diagnostics.Config{})
}

// fixedDockerfile applies the engine's preferred fix of NR102 to the workspace's Dockerfile
// and writes the result to a file: the text an editor's quick-fix must produce.
func fixedDockerfile(t *testing.T, ws string) string {
	t.Helper()
	s := engineSnapshot(ws)
	df := filepath.Join(ws, "Dockerfile")
	f, err := s.File(df)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range s.Diagnose(context.Background(), df) {
		if fd.RuleID != "NR102" {
			continue
		}
		for _, a := range codeactions.For(context.Background(), s, fd) {
			if !a.Preferred {
				continue
			}
			fixed, err := text.Apply(f.Text, a.Edits[0].Edits)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "Dockerfile.fixed")
			if err := os.WriteFile(out, []byte(fixed), 0o644); err != nil {
				t.Fatal(err)
			}
			return out
		}
		t.Fatalf("the engine has no preferred fix for %v", fd)
	}
	t.Fatalf("the engine reports no NR102 in %s: %v", df, s.Diagnose(context.Background(), df))
	return ""
}

// engineRange returns the range of rule's first finding in path as the server must publish
// it: "line:col:endline:endcol", 0-based, UTF-16 columns. ok is false when the rule is not
// registered in this build.
func engineRange(t *testing.T, ws, rel, rule string) (r string, ok bool) {
	t.Helper()
	if alltest.Engine().RuleByID(rule) == nil {
		return "", false
	}
	s := engineSnapshot(ws)
	path := filepath.Join(ws, rel)
	f, err := s.File(path)
	if err != nil {
		t.Fatal(err)
	}
	l := f.Lines()
	for _, fd := range s.Diagnose(context.Background(), path) {
		if fd.RuleID == rule {
			return fmt.Sprintf("%d:%d:%d:%d", fd.Range.Start.Line, l.ToUTF16(fd.Range.Start),
				fd.Range.End.Line, l.ToUTF16(fd.Range.End)), true
		}
	}
	t.Fatalf("the engine reports no %s in %s", rule, rel)
	return "", false
}

// results reads a client test's result file: PASS/FAIL lines and a final DONE.
func results(t *testing.T, client, path string, run error, output []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%s wrote no results (%v): %v\n%s", client, err, run, output)
	}
	defer f.Close()
	done, passed := false, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "DONE":
			done = true
		case strings.HasPrefix(line, "PASS "):
			passed++
			t.Logf("%s: %s", client, line)
		case strings.HasPrefix(line, "FAIL "):
			t.Errorf("%s: %s", client, line)
		default:
			t.Logf("%s: %s", client, line)
		}
	}
	if !done {
		t.Errorf("%s did not finish (%v)\n%s", client, run, output)
	}
	if passed == 0 {
		t.Errorf("%s passed no check", client)
	}
	if run != nil && !t.Failed() {
		t.Errorf("%s exited with %v\n%s", client, run, output)
	}
}

func runWithTimeout(t *testing.T, d time.Duration, name string, args []string, env []string, dir string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s ran %v", filepath.Base(name), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, err
}

func TestNeovim(t *testing.T) {
	neovimSession(t, need(t, "nvim", "apt-get install -y neovim"))
}

// TestNeovimLSPConfig runs the same session on Neovim 0.11 or later, where the client starts
// from lsp/nonroot_ls.lua through vim.lsp.config + vim.lsp.enable. Debian 12's Neovim is 0.7.2:
// nvim/test/install.sh unpacks Debian sid's into the e2e cache ($NONROOT_NVIM011 names another).
func TestNeovimLSPConfig(t *testing.T) {
	neovimSession(t, nvim011(t))
}

// nvim011 finds a Neovim >= 0.11: $NONROOT_NVIM011, the one nvim/test/install.sh unpacks,
// or nvim on PATH when it is recent enough.
func nvim011(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NONROOT_NVIM011"); p != "" {
		return p
	}
	cands := []string{filepath.Join(e2eCache(), "bin", "nvim-sid")}
	if p, err := exec.LookPath("nvim"); err == nil {
		cands = append(cands, p)
	}
	var seen []string
	for _, p := range cands {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		cmd := exec.Command(p, "--version")
		tmp := t.TempDir() // Neovim creates its log under $XDG_STATE_HOME even for --version
		cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_STATE_HOME="+tmp)
		out, err := cmd.Output()
		first, _, _ := strings.Cut(string(out), "\n")
		if m := regexp.MustCompile(`^NVIM v0\.(\d+)\.`).FindStringSubmatch(first); err == nil && m != nil {
			if minor, _ := strconv.Atoi(m[1]); minor >= 11 {
				t.Logf("%s: %s", p, first)
				return p
			}
		}
		seen = append(seen, fmt.Sprintf("%s is %q", p, first))
	}
	if requireEditors() {
		t.Fatalf("no Neovim >= 0.11 (%v) and NONROOT_REQUIRE_EDITORS is set (run editors/nvim/test/install.sh)", seen)
	}
	t.Skipf("skipping: no Neovim >= 0.11 (%v; editors/nvim/test/install.sh unpacks Debian sid's)", seen)
	return ""
}

// e2eCache is where the install scripts of the editor tests put what Debian 12 does not
// package (vscode/test/e2e/install.sh: code-server; nvim/test/install.sh: a recent Neovim).
func e2eCache() string {
	if d := os.Getenv("NONROOT_E2E_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "nonroot-ls-e2e")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "nonroot-ls-e2e")
}

// neovimSession runs nvim/test/client_test.lua in nvim against the server.
func neovimSession(t *testing.T, nvim string) {
	t.Helper()
	bin := server(t)
	ws := workspace(t)
	env := []string{
		"NONROOT_LS=" + bin,
		"NONROOT_WS=" + ws,
		"NONROOT_RESULT=" + filepath.Join(t.TempDir(), "result"),
		"NONROOT_FIXED=" + fixedDockerfile(t, ws),
		"HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(), "XDG_DATA_HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(),
	}
	if r, ok := engineRange(t, ws, "deploy/deployment.yaml", "NR201"); ok {
		env = append(env, "NONROOT_NR201="+r)
	} else {
		t.Log("NR201 is not registered in this build: the manifest check is left out")
	}
	wd, _ := os.Getwd()
	args := []string{"--headless", "-u", "NONE", "-i", "NONE", "-n",
		"--cmd", "set rtp^=" + filepath.Join(wd, "nvim"),
		"-c", "luafile " + filepath.Join(wd, "nvim", "test", "client_test.lua")}
	out, err := runWithTimeout(t, 30*time.Second, nvim, args, env, ws)
	results(t, "nvim", envValue(env, "NONROOT_RESULT"), err, out)
}

// TestNeovimConfig loads lsp/nonroot_ls.lua and the legacy module in Neovim and checks what
// they return, without a server.
func TestNeovimConfig(t *testing.T) {
	nvim := need(t, "nvim", "apt-get install -y neovim")
	wd, _ := os.Getwd()
	result := filepath.Join(t.TempDir(), "result")
	env := []string{"NONROOT_LS=", "NONROOT_RESULT=" + result, "HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
	args := []string{"--headless", "-u", "NONE", "-i", "NONE", "-n",
		"--cmd", "set rtp^=" + filepath.Join(wd, "nvim"),
		"-c", "luafile " + filepath.Join(wd, "nvim", "test", "client_test.lua")}
	out, err := runWithTimeout(t, 30*time.Second, nvim, args, env, t.TempDir())
	results(t, "nvim", result, err, out)
}

func envValue(env []string, key string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, key+"="); ok {
			return v
		}
	}
	return ""
}

func TestEglot(t *testing.T) {
	emacs := need(t, "emacs", "apt-get install -y emacs-nox elpa-eglot")
	bin := server(t)
	ws := workspace(t)
	env := []string{
		"NONROOT_LS=" + bin,
		"NONROOT_WS=" + ws,
		"NONROOT_RESULT=" + filepath.Join(t.TempDir(), "result"),
		"NONROOT_FIXED=" + fixedDockerfile(t, ws),
		"HOME=" + t.TempDir(),
	}
	wd, _ := os.Getwd()
	args := []string{"--batch", "-Q", "-l", filepath.Join(wd, "emacs", "test", "eglot-test.el")}
	out, err := runWithTimeout(t, 30*time.Second, emacs, args, env, ws)
	if bytes.Contains(out, []byte("Cannot open load file")) && bytes.Contains(out, []byte("eglot")) {
		if requireEditors() {
			t.Fatalf("eglot is not installed and NONROOT_REQUIRE_EDITORS is set (apt-get install -y elpa-eglot)\n%s", out)
		}
		t.Skipf("skipping: eglot is not installed (apt-get install -y elpa-eglot)\n%s", out)
	}
	results(t, "eglot", envValue(env, "NONROOT_RESULT"), err, out)
}

// vscodeDir returns editors/vscode with its npm packages installed, or skips.
func vscodeDir(t *testing.T) string {
	t.Helper()
	need(t, "node", "apt-get install -y nodejs npm")
	need(t, "npm", "apt-get install -y npm")
	wd, _ := os.Getwd()
	dir := filepath.Join(wd, "vscode")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "vscode-languageclient")); err != nil {
		if requireEditors() {
			t.Fatalf("editors/vscode/node_modules is missing and NONROOT_REQUIRE_EDITORS is set: run `npm ci` in editors/vscode")
		}
		t.Skip("skipping: editors/vscode has no node_modules (run `npm ci` in editors/vscode)")
	}
	return dir
}

var (
	packageOnce sync.Once
	vsixPath    string
	packageErr  error
	packageOut  []byte
)

// packageVSIX lints, bundles and packages the extension (npm run package) once per test run
// and returns the .vsix.
func packageVSIX(t *testing.T, dir string) string {
	t.Helper()
	packageOnce.Do(func() {
		packageOut, packageErr = runWithTimeout(t, 120*time.Second, "npm", []string{"run", "package"}, nil, dir)
		if packageErr == nil {
			vsixPath, packageErr = vsixIn(dir)
		}
	})
	if packageErr != nil {
		t.Fatalf("npm run package: %v\n%s", packageErr, packageOut)
	}
	return vsixPath
}

// vsixIn returns the .vsix that npm run package writes: nonroot-ls-<version>.vsix.
func vsixIn(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "nonroot-ls-"+pkg.Version+".vsix")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// nodeTestSummary checks the closing counts of `node --test` and returns "pass/fail/skipped".
func nodeTestSummary(t *testing.T, out []byte) string {
	t.Helper()
	count := func(k string) string {
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "# "+k+" "); ok {
				return v
			}
		}
		return "?"
	}
	if count("fail") != "0" || count("pass") == "0" || count("pass") == "?" {
		t.Errorf("node tests: pass %s, fail %s\n%s", count("pass"), count("fail"), out)
	}
	return fmt.Sprintf("pass %s, fail %s, skipped %s", count("pass"), count("fail"), count("skipped"))
}

// TestVSCodePackage lints, bundles and packages the extension into a .vsix, then runs the
// Node test that unpacks it and checks the manifest.
func TestVSCodePackage(t *testing.T) {
	dir := vscodeDir(t)
	packageVSIX(t, dir)
	out, err := runWithTimeout(t, 60*time.Second, "npm", []string{"test"}, []string{"NONROOT_LS=", "NONROOT_WS="}, dir)
	if err != nil {
		t.Fatalf("npm test: %v\n%s", err, out)
	}
	t.Log("manifest tests: " + nodeTestSummary(t, out))
	if !bytes.Contains(out, []byte("ok 1 - packaged .vsix")) {
		t.Errorf("the .vsix suite did not pass\n%s", out)
	}
}

// TestVSCodeProtocol drives the server with VS Code's protocol stack (test/protocol.test.ts).
func TestVSCodeProtocol(t *testing.T) {
	dir := vscodeDir(t)
	bin := server(t)
	ws := workspace(t)
	out, err := runWithTimeout(t, 60*time.Second, "node", []string{"esbuild.mjs", "--tests"}, nil, dir)
	if err != nil {
		t.Fatalf("esbuild: %v\n%s", err, out)
	}
	env := []string{"NONROOT_LS=" + bin, "NONROOT_WS=" + ws, "NONROOT_FIXED=" + fixedDockerfile(t, ws)}
	out, err = runWithTimeout(t, 30*time.Second, "node", []string{"--test", "dist/test/protocol.test.js"}, env, dir)
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Log("protocol tests: " + nodeTestSummary(t, out))
	if bytes.Contains(out, []byte("# SKIP")) {
		t.Errorf("protocol tests skipped\n%s", out)
	}
}
