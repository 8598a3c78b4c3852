package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
)

// helperName is the program that renders charts with Helm's engine (cmd/nonroot-ls-helm).
// It is installed next to nonroot-ls (`go install …/cmd/...@latest`); keeping Helm and the
// Kubernetes client types out of this binary halves its start-up time and memory.
const helperName = "nonroot-ls-helm"

// helper runs nonroot-ls-helm on demand and keeps it for later renders. Renders go one at a
// time; a render that runs past its deadline gets the helper killed (it is started again for
// the next one), so a template loop costs at most the render timeout and never this process.
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
		return &helper{err: fmt.Errorf("Helm charts are rendered by %s, which is not installed next to %s (install both: go install github.com/nonroot-ls/nonroot-ls/cmd/...@latest)", helperName, exe)}
	}
	return &helper{path: p}
}

// Render implements [helm.RenderFunc] over the helper's pipe.
func (h *helper) Render(ctx context.Context, req *helm.RenderRequest) (map[string]string, error) {
	if h.err != nil {
		return nil, &helm.RenderError{Message: h.err.Error()}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.start(); err != nil {
		return nil, &helm.RenderError{Message: fmt.Sprintf("starting %s: %v", helperName, err)}
	}
	type answer struct {
		resp helm.RenderResponse
		err  error
	}
	ch := make(chan answer, 1)
	enc, dec := h.enc, h.dec
	go func() {
		var a answer
		if a.err = enc.Encode(req); a.err == nil {
			a.err = dec.Decode(&a.resp)
		}
		ch <- a
	}()
	// The helper stops a slow render itself; the grace period covers a render stuck
	// between two of its checks.
	timeout := req.Timeout + time.Second
	if req.Timeout <= 0 {
		timeout = helm.RenderTimeout + time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-ch:
		if a.err != nil {
			reason := a.err.Error()
			select {
			case <-h.done: // it died: its exit status says more than the broken pipe
				reason = h.cmd.ProcessState.String()
			case <-time.After(100 * time.Millisecond):
			}
			h.stop()
			return nil, &helm.RenderError{Message: fmt.Sprintf("%s failed: %s", helperName, reason)}
		}
		return a.resp.Result()
	case <-timer.C:
	case <-ctx.Done():
	}
	h.stop()
	return nil, &helm.RenderError{Message: fmt.Sprintf("rendering the chart took longer than %s and was stopped (a template loop or recursion?)", timeout-time.Second)}
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
