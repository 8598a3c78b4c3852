//go:build unix

package editors

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestVSCodeE2E runs the packaged extension in a real VS Code: code-server (VS Code in the
// browser) with the .vsix installed, the user settings pointing nonroot.server.path at the
// binary built from this tree, driven through its UI by headless Chromium
// (vscode/test/e2e/vscode.e2e.ts). It needs what vscode/test/e2e/install.sh installs
// (code-server in a cache, Debian's chromium) and npm ci in editors/vscode (puppeteer-core).
//
// The screenshots of the Problems panel are written to the test's artifact directory, kept
// with `go test ./editors -run TestVSCodeE2E -artifacts -outputdir DIR`.
func TestVSCodeE2E(t *testing.T) {
	dir := vscodeDir(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "puppeteer-core")); err != nil {
		missing(t, "editors/vscode/node_modules/puppeteer-core is missing (run `npm ci` in editors/vscode)")
	}
	cs := codeServer(t)
	browser := chromium(t)
	bin := server(t)
	vsix := packageVSIX(t, dir)
	if out, err := runWithTimeout(t, 60*time.Second, "node", []string{"esbuild.mjs", "--tests"}, nil, dir); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, out)
	}

	ws := copyTree(t, filepath.Join("testdata", "e2e"))
	fixed := cliFixed(t, bin, ws, filepath.Join("deploy", "api.yaml"))

	// code-server's own state, all in temporary directories (HOME too: it writes a default
	// config and logs there).
	home := t.TempDir()
	data := filepath.Join(home, "data")
	exts := filepath.Join(home, "extensions")
	cfg := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(cfg, []byte("bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csEnv := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache")}
	common := []string{"--config", cfg, "--user-data-dir", data, "--extensions-dir", exts}

	out, err := runWithTimeout(t, 60*time.Second, cs, append(common, "--install-extension", vsix), csEnv, home)
	if err != nil || !bytes.Contains(out, []byte("successfully installed")) {
		t.Fatalf("code-server --install-extension %s: %v\n%s", vsix, err, out)
	}
	settings := fmt.Sprintf(`{
  "nonroot.server.path": %q,
  "nonroot.trace.server": "messages",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "git.enabled": false
}
`, bin)
	if err := os.MkdirAll(filepath.Join(data, "User"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "User", "settings.json"), []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	base := startCodeServer(t, cs, append(common, "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
		"--disable-getting-started-override", "--ignore-last-opened", ws), csEnv, home)
	t.Logf("code-server listens on %s (%v)", base, time.Since(start).Round(time.Millisecond))
	defer func() {
		if t.Failed() {
			logExtensionOutput(t, data)
		}
	}()

	artifacts := t.ArtifactDir()
	result := filepath.Join(t.TempDir(), "result")
	env := []string{
		"NONROOT_E2E_URL=" + base + "?folder=" + ws,
		"NONROOT_WS=" + ws,
		"NONROOT_CHROMIUM=" + browser,
		"NONROOT_FIXED=" + fixed,
		"NONROOT_ARTIFACTS=" + artifacts,
		"NONROOT_RESULT=" + result,
		// Chromium's crash reports and the like go to the temporary home.
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
	}
	out, err = runGroup(t, 5*time.Minute, "node", []string{filepath.Join("dist", "e2e", "vscode.e2e.js")}, env, dir)
	results(t, "vscode", result, err, out)

	// The checks the script made in the UI, made again from here: the manifest on disk is
	// what `nonroot-ls fix` writes, and the screenshot is a PNG.
	want, _ := os.ReadFile(fixed)
	if got, err := os.ReadFile(filepath.Join(ws, "deploy", "api.yaml")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("deploy/api.yaml after the quick-fix (%v):\n%s\nwant (nonroot-ls fix):\n%s", err, got, want)
	}
	shot := filepath.Join(artifacts, "problems.png")
	if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("no screenshot of the Problems panel at %s (%v)", shot, err)
	} else {
		t.Logf("screenshot of the Problems panel: %s (kept with -artifacts)", shot)
	}
}

// missing skips the test, or fails it when NONROOT_REQUIRE_EDITORS is set.
func missing(t *testing.T, why string) {
	t.Helper()
	if requireEditors() {
		t.Fatalf("%s and NONROOT_REQUIRE_EDITORS is set", why)
	}
	t.Skip("skipping: " + why)
}

const installE2E = "run editors/vscode/test/e2e/install.sh"

// codeServer finds code-server: $NONROOT_CODE_SERVER, the install script's cache, or PATH.
func codeServer(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NONROOT_CODE_SERVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("NONROOT_CODE_SERVER=%s: %v", p, err)
		}
		return p
	}
	if p := filepath.Join(e2eCache(), "bin", "code-server"); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath("code-server"); err == nil {
		return p
	}
	missing(t, fmt.Sprintf("code-server is not installed (%s; looked in %s and on PATH)", installE2E, filepath.Join(e2eCache(), "bin")))
	return ""
}

// chromium finds the browser: $NONROOT_CHROMIUM or Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NONROOT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, fmt.Sprintf("chromium is not installed (apt-get install -y chromium, or %s)", installE2E))
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// cliFixed runs `nonroot-ls fix` on a copy of ws and returns the path of rel in that copy:
// the text the editor's preferred quick-fix must produce.
func cliFixed(t *testing.T, bin, ws, rel string) string {
	t.Helper()
	cp := copyTree(t, ws)
	out, err := exec.Command(bin, "fix", cp).CombinedOutput()
	if err != nil {
		t.Fatalf("nonroot-ls fix %s: %v\n%s", cp, err, out)
	}
	t.Logf("nonroot-ls fix on a copy: %s", bytes.TrimSpace(out))
	before, _ := os.ReadFile(filepath.Join(ws, rel))
	after, err := os.ReadFile(filepath.Join(cp, rel))
	if err != nil || bytes.Equal(before, after) {
		t.Fatalf("nonroot-ls fix leaves %s unchanged (%v): nothing to compare the quick-fix with", rel, err)
	}
	return filepath.Join(cp, rel)
}

var listening = regexp.MustCompile(`HTTP server listening on (http://127\.0\.0\.1:\d+/)`)

// startCodeServer starts code-server in its own process group, waits for the line that
// gives its address, and stops the group when the test ends.
func startCodeServer(t *testing.T, cs string, args, env []string, dir string) string {
	t.Helper()
	cmd := exec.Command(cs, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var log bytes.Buffer
	addr := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			log.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-waited
		}
		<-copied
		if t.Failed() {
			t.Logf("code-server's output:\n%s", log.String())
		}
	})
	select {
	case a := <-addr:
		return a
	case <-copied:
		t.Fatalf("code-server exited before listening:\n%s", log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("code-server did not listen within 60s:\n%s", log.String())
	}
	return ""
}

// runGroup runs a command in its own process group (node and the Chromium it starts) and
// kills the whole group when it overruns d.
func runGroup(t *testing.T, d time.Duration, name string, args, env []string, dir string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s ran %v", filepath.Base(name), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		return out, fmt.Errorf("%w (killed after %v)", ctx.Err(), d)
	}
	return out, err
}

// logExtensionOutput logs the extension's output channel (the server's log and the LSP
// trace) as code-server saved it.
func logExtensionOutput(t *testing.T, data string) {
	t.Helper()
	_ = filepath.WalkDir(filepath.Join(data, "logs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() && (strings.HasSuffix(p, "nonroot-ls.log") || strings.HasSuffix(p, "remoteexthost.log")) {
			b, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("%s:\n%s", p, b)
		}
		return nil
	})
}
