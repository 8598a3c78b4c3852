package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kustomizetest"
)

// KustomizeResult is what -kustomize reports (durations in milliseconds). The server builds
// kustomizations in its helper process, nonroot-ls-helm; RSS is reported for both.
type KustomizeResult struct {
	PatchEdit    Latency `json:"patch_edit_to_publish"`
	HelperCPU    float64 `json:"helper_cpu_per_edit_ms"`
	ServerRSSMiB float64 `json:"server_peak_rss_mib"`
	HelperRSSMiB float64 `json:"helper_peak_rss_mib"`
}

// runKustomize measures a kustomize application of 20 Deployments and 3 overlays as an editor
// sees it: the first overlay's patch is open, and each edit changes its runAsUser (a text not
// seen before, so the overlay is built again) until the patch's diagnostics arrive.
func runKustomize(bin string, edits int, asJSON bool, out io.Writer) error {
	ws, err := os.MkdirTemp("", "lspbench-kustomize")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	if err := kustomizetest.WriteApp(ws, 20, 3); err != nil {
		return err
	}
	s, err := startServer(bin, ws)
	if err != nil {
		return err
	}
	defer s.kill()
	u := uri.File(filepath.Join(ws, "overlays/env1/security.yaml"))
	s.c.Open(s.ctx, u, "yaml", 1, kustomizetest.Patch(1, "10001"))
	if _, err := s.c.Diagnostics(s.ctx, u, 1); err != nil {
		return err
	}
	helperCPU0 := childrenCPU(s.cmd.Process.Pid)
	serverCPU0, _ := cpuTime(s.cmd.Process.Pid)
	at := protocol.Range{
		Start: protocol.Position{Line: kustomizetest.UIDLine, Character: kustomizetest.UIDCol},
		End:   protocol.Position{Line: kustomizetest.UIDLine, Character: kustomizetest.UIDCol + 5},
	}
	var lat []time.Duration
	for j := range edits {
		v := int32(j + 2)
		t := time.Now()
		if err := s.c.Change(s.ctx, u, v, at, fmt.Sprint(10002+j%89990)); err != nil {
			return err
		}
		if _, err := s.c.Diagnostics(s.ctx, u, v); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	serverCPU1, _ := cpuTime(s.cmd.Process.Pid)
	var res KustomizeResult
	res.PatchEdit = Latency{N: len(lat), P50: ms(pct(lat, 50)), P95: ms(pct(lat, 95)), Max: ms(slices.Max(lat)), CPU: ms(serverCPU1-serverCPU0) / float64(len(lat))}
	res.HelperCPU = ms(childrenCPU(s.cmd.Process.Pid)-helperCPU0) / float64(len(lat))
	hwm, err := peakRSS(s.cmd.Process.Pid)
	if err != nil {
		return err
	}
	res.ServerRSSMiB = float64(hwm) / 1024
	for _, pid := range children(s.cmd.Process.Pid) {
		if h, err := peakRSS(pid); err == nil {
			res.HelperRSSMiB += float64(h) / 1024
		}
	}
	if err := s.shutdown(); err != nil {
		return err
	}
	if asJSON {
		return jsonOut(out, res)
	}
	fmt.Fprintf(out, "overlay patch edit → publishDiagnostics (3 overlays × 20 Deployments, the overlay built again each edit), %d edits: p50 %.2f ms, p95 %.2f ms, max %.2f ms; CPU per edit: server %.2f ms, nonroot-ls-helm %.2f ms\n", res.PatchEdit.N, res.PatchEdit.P50, res.PatchEdit.P95, res.PatchEdit.Max, res.PatchEdit.CPU, res.HelperCPU)
	fmt.Fprintf(out, "peak RSS (VmHWM): server %.1f MiB + nonroot-ls-helm %.1f MiB\n", res.ServerRSSMiB, res.HelperRSSMiB)
	loadavg(out)
	return nil
}
