package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/workspace/workspacetest"
	"github.com/nonroot-ls/nonroot-ls/server/lspclient"
)

// WorkspaceResult is what `-workspace` reports for one workspace size (durations in ms).
type WorkspaceResult struct {
	Files int `json:"files"`
	// Index is process start → the end of the index's $/progress; IndexCPU the server's CPU
	// time until then.
	Index    float64 `json:"index_ms"`
	IndexCPU float64 `json:"index_server_cpu_ms"`
	// PeakRSSMiB is the server's VmHWM when the index has ended, RSSMiB its VmRSS then.
	PeakRSSMiB float64 `json:"index_peak_rss_mib"`
	RSSMiB     float64 `json:"index_rss_mib"`
	// Republish is Dockerfile edit → the 5 linked (not open) manifests re-published.
	Republish Latency `json:"republish"`
	// EditPeakRSSMiB is the server's VmHWM after the edits.
	EditPeakRSSMiB float64 `json:"edit_peak_rss_mib"`
}

// parseSizes reads -workspace's comma-separated file counts.
func parseSizes(arg string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(arg, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			return nil, fmt.Errorf("-workspace %q: want file counts of at least 10, comma-separated", arg)
		}
		out = append(out, n)
	}
	return out, nil
}

// runWorkspace measures, for each size, a fresh server's cold index of a generated workspace
// (workspacetest.Generate plus the 6 files of workspacetest.GenerateHot) and then the
// re-publication of the 5 manifests linked to the edited hot Dockerfile.
func runWorkspace(bin string, sizes []int, edits int, asJSON bool, out io.Writer) error {
	var res []WorkspaceResult
	for _, n := range sizes {
		r, err := workspaceOnce(bin, n, edits)
		if err != nil {
			return err
		}
		res = append(res, r)
		if !asJSON {
			fmt.Fprintf(out, "cold index, %d files (+6 hot): %.0f ms (server CPU %.0f ms), peak RSS %.1f MiB, RSS %.1f MiB after\n", r.Files, r.Index, r.IndexCPU, r.PeakRSSMiB, r.RSSMiB)
			l := r.Republish
			fmt.Fprintf(out, "  Dockerfile edit → 5 linked manifests re-published, %d edits: p50 %.3f ms, p95 %.3f ms, max %.3f ms; server CPU %.3f ms/edit; peak RSS %.1f MiB\n", l.N, l.P50, l.P95, l.Max, l.CPU, r.EditPeakRSSMiB)
		}
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(out, "load average during the run: %s", b)
	}
	return nil
}

func workspaceOnce(bin string, n, edits int) (WorkspaceResult, error) {
	r := WorkspaceResult{Files: n}
	ws, err := os.MkdirTemp("", "lspbench-ws")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(ws)
	if err := workspacetest.Generate(ws, n); err != nil {
		return r, err
	}
	df, manifests, err := workspacetest.GenerateHot(ws)
	if err != nil {
		return r, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	cmd := exec.Command(bin, "serve")
	in, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	o, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return r, err
	}
	s := &proc{cmd: cmd, c: lspclient.New(ctx, rwc{o, in}), ctx: ctx, end: cancel}
	defer s.kill()
	pid := cmd.Process.Pid
	init := &protocol.InitializeParams{}
	init.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: uri.File(ws), Name: "bench"}})
	init.Capabilities.Window = &protocol.WindowClientCapabilities{WorkDoneProgress: ptr(true)}
	// Measure the re-publication of the linked manifests that are not open, as their own
	// publications: without the workspace scope's publications of every file after the index
	// (which the default would choose below 1000 files).
	init.InitializationOptions = protocol.LSPAny(`{"diagnostics": {"scope": "openFiles"}}`)
	if _, err := s.c.Initialize(ctx, init); err != nil {
		return r, fmt.Errorf("initialize: %v", err)
	}
	if err := waitProgressEnd(ctx, s.c); err != nil {
		return r, err
	}
	r.Index = ms(time.Since(t0))
	cpu, err := cpuTime(pid)
	if err != nil {
		return r, err
	}
	r.IndexCPU = ms(cpu)
	hwm, rss, err := memory(pid)
	if err != nil {
		return r, err
	}
	r.PeakRSSMiB, r.RSSMiB = float64(hwm)/1024, float64(rss)/1024

	// Open the hot Dockerfile: its manifests get their NR301 published once, then each edit
	// toggles USER app ↔ USER 10001 and re-publishes all 5.
	du := uri.File(df)
	s.c.Open(ctx, du, "dockerfile", 1, workspacetest.HotDockerfile("app"))
	if _, err := s.c.Diagnostics(ctx, du, 1); err != nil {
		return r, err
	}
	want := map[uri.URI]int{}
	for _, m := range manifests {
		mu := uri.File(m)
		if _, err := s.c.Published(ctx, mu, 1); err != nil {
			return r, err
		}
		want[mu] = 1
	}
	line := uint32(strings.Count(workspacetest.HotDockerfile("app"), "\n") - 1)
	users := []string{"app", "10001"}
	var lat []time.Duration
	cpu0, err := cpuTime(pid)
	if err != nil {
		return r, err
	}
	for i := 0; i < edits; i++ {
		v := int32(i + 2)
		from, to := users[i%2], users[(i+1)%2]
		rg := protocol.Range{Start: protocol.Position{Line: line, Character: 5}, End: protocol.Position{Line: line, Character: uint32(5 + len(from))}}
		t := time.Now()
		if err := s.c.Change(ctx, du, v, rg, to); err != nil {
			return r, err
		}
		for mu := range want {
			want[mu]++
			p, err := s.c.Published(ctx, mu, want[mu])
			if err != nil {
				return r, err
			}
			if got, exp := hasRule(p, "NR301"), to == "app"; got != exp {
				return r, fmt.Errorf("%s after USER %s: NR301 published = %v", mu, to, got)
			}
		}
		lat = append(lat, time.Since(t))
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return r, err
	}
	r.Republish = Latency{N: len(lat), P50: ms(pct(lat, 50)), P95: ms(pct(lat, 95)), Max: ms(slices.Max(lat)), CPU: ms(cpu1-cpu0) / float64(len(lat))}
	if hwm, _, err = memory(pid); err != nil {
		return r, err
	}
	r.EditPeakRSSMiB = float64(hwm) / 1024
	return r, s.shutdown()
}

// waitProgressEnd waits for the $/progress "end" of the server's index.
func waitProgressEnd(ctx context.Context, c *lspclient.Client) error {
	for {
		for _, m := range c.Received() {
			if m.Method != protocol.MethodProgress {
				continue
			}
			var p struct {
				Value struct {
					Kind string `json:"kind"`
				} `json:"value"`
			}
			if json.Unmarshal(m.Params, &p) == nil && p.Value.Kind == "end" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the end of the index's $/progress: %w", ctx.Err())
		case <-c.Done():
			return fmt.Errorf("the server ended before its index did")
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func hasRule(p *protocol.PublishDiagnosticsParams, id string) bool {
	for _, d := range p.Diagnostics {
		if c, _ := d.Code.(protocol.String); string(c) == id {
			return true
		}
	}
	return false
}

// memory returns VmHWM and VmRSS (KiB) of a process.
func memory(pid int) (hwm, rss int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("RSS needs /proc (Linux): %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			switch f[0] {
			case "VmHWM:":
				hwm, _ = strconv.Atoi(f[1])
			case "VmRSS:":
				rss, _ = strconv.Atoi(f[1])
			}
		}
	}
	if hwm == 0 {
		return 0, 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
	}
	return hwm, rss, nil
}

func ptr[T any](v T) *T { return &v }
