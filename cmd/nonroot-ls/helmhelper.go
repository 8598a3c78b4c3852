package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize"
)

// helperName is the program that renders charts with Helm's engine and builds kustomizations
// with kustomize's (cmd/nonroot-ls-helm). It is installed next to nonroot-ls (`go install
// …/cmd/...@latest`); keeping Helm, kustomize and the Kubernetes client types out of this
// binary halves its start-up time and memory.
const helperName = "nonroot-ls-helm"

// helper runs nonroot-ls-helm on demand and keeps it for later requests. Requests go one at a
// time; one that runs past its deadline gets the helper killed (it is started again for the
// next one), so a template loop costs at most the render timeout and never this process.
type helper struct {
	path string // absolute; "" when not found (err says why)
	err  error

	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	enc  *json.Encoder
	dec  *json.Decoder
	done chan struct{} // closed when cmd has exited
}

// findHelper locates nonroot-ls-helm next to this program's own executable: never on a
// search path and never in a workspace.
func findHelper() *helper {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return &helper{err: fmt.Errorf("cannot locate %s: %v", helperName, err)}
	}
	name := helperName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	p := filepath.Join(filepath.Dir(exe), name)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return &helper{err: fmt.Errorf("Helm charts and kustomizations are built by %s, which is not installed next to %s (install both: go install github.com/nonroot-ls/nonroot-ls/cmd/...@latest)", helperName, exe)}
	}
	return &helper{path: p}
}

// Render implements [helm.RenderFunc] over the helper's pipe.
func (h *helper) Render(ctx context.Context, req *helm.RenderRequest) (map[string]string, error) {
	var resp helm.RenderResponse
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = helm.RenderTimeout
	}
	if err := h.call(ctx, req, &resp, timeout, "rendering the chart"); err != nil {
		return nil, &helm.RenderError{Message: err.Error()}
	}
	return resp.Result()
}

// Build implements [kustomize.BuildFunc] over the helper's pipe.
func (h *helper) Build(ctx context.Context, req *kustomize.BuildRequest) (string, error) {
	var resp kustomize.BuildResponse
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = kustomize.BuildTimeout
	}
	if err := h.call(ctx, helperRequest{Kustomize: req}, &resp, timeout, "building the kustomization"); err != nil {
		return "", err
	}
	if resp.Err != "" {
		return "", errors.New(resp.Err)
	}
	return resp.YAML, nil
}

// helperRequest is a request of the helper protocol: a Helm render (the fields of
// helm.RenderRequest) or, with Kustomize set, a kustomize build.
type helperRequest struct {
	*helm.RenderRequest
	Kustomize *kustomize.BuildRequest `json:"kustomize,omitempty"`
}

// call sends one request and reads its answer into resp, within timeout (what the work is
// allowed) plus a grace period; past it, or when ctx is done first, the helper is killed.
func (h *helper) call(ctx context.Context, req, resp any, timeout time.Duration, what string) error {
	if h.err != nil {
		return h.err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.start(); err != nil {
		return fmt.Errorf("starting %s: %v", helperName, err)
	}
	ch := make(chan error, 1)
	enc, dec := h.enc, h.dec
	go func() {
		err := enc.Encode(req)
		if err == nil {
			err = dec.Decode(resp)
		}
		ch <- err
	}()
	// The helper stops a slow render itself; the grace period covers one stuck between two
	// of its checks.
	timer := time.NewTimer(timeout + time.Second)
	defer timer.Stop()
	select {
	case err := <-ch:
		if err != nil {
			reason := err.Error()
			select {
			case <-h.done: // it died: its exit status says more than the broken pipe
				reason = h.cmd.ProcessState.String()
			case <-time.After(100 * time.Millisecond):
			}
			h.stop()
			return fmt.Errorf("%s failed: %s", helperName, reason)
		}
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	h.stop()
	return fmt.Errorf("%s took longer than %s and was stopped (a loop or recursion?)", what, timeout)
}

// start runs the helper unless it is running.
func (h *helper) start() error {
	if h.cmd != nil {
		select {
		case <-h.done:
			h.cmd = nil
		default:
			return nil
		}
	}
	cmd := exec.Command(h.path)
	cmd.Dir = filepath.Dir(h.path)
	cmd.Stderr = os.Stderr // its panics, with their stacks, reach the server's log
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	h.cmd, h.in, h.enc, h.dec, h.done = cmd, in, json.NewEncoder(in), json.NewDecoder(out), done
	return nil
}

// stop kills the helper; the next render starts a new one.
func (h *helper) stop() {
	if h.cmd == nil {
		return
	}
	h.in.Close()
	h.cmd.Process.Kill()
	<-h.done
	h.cmd = nil
}
