package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// ChartResult is what -chart reports (durations in milliseconds). The server renders charts
// in its helper process, nonroot-ls-helm; RSS is reported for both.
type ChartResult struct {
	FirstDiagP50    float64 `json:"first_diagnostics_p50_ms"`
	FirstDiagP95    float64 `json:"first_diagnostics_p95_ms"`
	ValuesEdit      Latency `json:"values_edit_to_publish"`
	Diagnostics     int     `json:"values_diagnostics"`
	ServerRSSMiB    float64 `json:"server_peak_rss_mib"`
	HelperRSSMiB    float64 `json:"helper_peak_rss_mib"`
	CombinedRSSMiB  float64 `json:"combined_peak_rss_mib"`
	RenderedByChild bool    `json:"rendered_by_helper"`
	HelperCPU       float64 `json:"helper_cpu_per_edit_ms"`
}

// runChart measures a chart as an editor sees it: didOpen of values.yaml → its first
// diagnostics (a new server each run, so it includes starting the helper and both renders),
// then edits of values.yaml → re-published diagnostics (every edit makes a text not seen
// before, so every edit renders the chart again).
func runChart(bin, chart string, edits, starts int, asJSON bool, out io.Writer) error {
	ws, err := os.MkdirTemp("", "lspbench-chart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	dst := filepath.Join(ws, filepath.Base(chart))
	if err := copyTree(chart, dst); err != nil {
		return err
	}
	values, err := os.ReadFile(filepath.Join(dst, "values.yaml"))
	if err != nil {
		return fmt.Errorf("-chart needs a chart folder with a values.yaml: %v", err)
	}
	u := uri.File(filepath.Join(dst, "values.yaml"))
	var res ChartResult
	var firsts []time.Duration
	for i := 0; i < starts; i++ {
		s, err := startServer(bin, ws)
		if err != nil {
			return err
		}
		t0 := time.Now()
		s.c.Open(s.ctx, u, "yaml", 1, string(values))
		p, err := s.c.Diagnostics(s.ctx, u, 1)
		if err != nil {
			s.kill()
			return err
		}
		firsts = append(firsts, time.Since(t0))
		res.Diagnostics = len(p.Diagnostics)
		if i < starts-1 {
			if err := s.shutdown(); err != nil {
				return err
			}
			continue
		}
		// The last server goes on with the edits.
		line := strings.Count(string(values[:strings.LastIndex(string(values), "\n")]), "\n")
		end := uint32(len(strings.Split(string(values), "\n")[line]))
		helperCPU0 := childrenCPU(s.cmd.Process.Pid)
		serverCPU0, _ := cpuTime(s.cmd.Process.Pid)
		var lat []time.Duration
		for j := 0; j < edits; j++ {
			// Each edit adds a space at the end of the last line: every version's text is new,
			// so no render is served from the cache of earlier ones.
			v := int32(j + 2)
			at := protocol.Position{Line: uint32(line), Character: end + uint32(j)}
			r, text := protocol.Range{Start: at, End: at}, " "
			t := time.Now()
			if err := s.c.Change(s.ctx, u, v, r, text); err != nil {
				s.kill()
				return err
			}
			if _, err := s.c.Diagnostics(s.ctx, u, v); err != nil {
				s.kill()
				return err
			}
			lat = append(lat, time.Since(t))
		}
		serverCPU1, _ := cpuTime(s.cmd.Process.Pid)
		res.ValuesEdit = Latency{N: len(lat), P50: ms(pct(lat, 50)), P95: ms(pct(lat, 95)), Max: ms(slices.Max(lat)), CPU: ms(serverCPU1-serverCPU0) / float64(len(lat))}
		res.HelperCPU = ms(childrenCPU(s.cmd.Process.Pid)-helperCPU0) / float64(len(lat))
		hwm, err := peakRSS(s.cmd.Process.Pid)
		if err != nil {
			s.kill()
			return err
		}
		res.ServerRSSMiB = float64(hwm) / 1024
		for _, pid := range children(s.cmd.Process.Pid) {
			if h, err := peakRSS(pid); err == nil {
				res.HelperRSSMiB += float64(h) / 1024
				res.RenderedByChild = true
			}
		}
		res.CombinedRSSMiB = res.ServerRSSMiB + res.HelperRSSMiB
		if err := s.shutdown(); err != nil {
			return err
		}
	}
	res.FirstDiagP50, res.FirstDiagP95 = ms(pct(firsts, 50)), ms(pct(firsts, 95))
	if asJSON {
		return jsonOut(out, res)
	}
	fmt.Fprintf(out, "didOpen values.yaml → first publishDiagnostics (%s, new server each, %d runs): p50 %.1f ms, p95 %.1f ms (%d diagnostics)\n", filepath.Base(chart), starts, res.FirstDiagP50, res.FirstDiagP95, res.Diagnostics)
	fmt.Fprintf(out, "values.yaml edit → publishDiagnostics (re-render each edit), %d edits: p50 %.2f ms, p95 %.2f ms, max %.2f ms; CPU per edit: server %.2f ms, nonroot-ls-helm %.2f ms\n", res.ValuesEdit.N, res.ValuesEdit.P50, res.ValuesEdit.P95, res.ValuesEdit.Max, res.ValuesEdit.CPU, res.HelperCPU)
	fmt.Fprintf(out, "peak RSS (VmHWM): server %.1f MiB + nonroot-ls-helm %.1f MiB = %.1f MiB\n", res.ServerRSSMiB, res.HelperRSSMiB, res.CombinedRSSMiB)
	loadavg(out)
	return nil
}

// children returns the pids of a process's children (Linux).
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// childrenCPU returns the CPU time of a process's children.
func childrenCPU(pid int) time.Duration {
	var d time.Duration
	for _, c := range children(pid) {
		if t, err := cpuTime(c); err == nil {
			d += t
		}
	}
	return d
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
