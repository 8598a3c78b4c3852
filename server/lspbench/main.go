// Command lspbench measures the nonroot-ls language server as an editor sees it: it starts
// the real binary, speaks LSP over its stdio and reports
//
//   - initialize + first publishDiagnostics, including process start (a 60-line Dockerfile),
//     p50/p95 over -starts runs;
//   - edit → publishDiagnostics latency, p50/p95/max over -edits incremental edits, for a
//     60-line multi-stage Dockerfile and a generated 2,000-line one;
//   - the server's peak RSS (VmHWM from /proc/<pid>/status) after all of it.
//
// With -workspace it measures instead, for each size, a fresh server's cold index of a
// generated workspace (1 Dockerfile and 9 linked Deployments per 10 files): process start →
// the end of the index's $/progress, the server's CPU time and peak RSS then, and the
// Dockerfile edit → re-publication of the 5 (not open) manifests linked to it.
//
// Usage (from the repository root):
//
//	go run ./server/lspbench                 # builds ./cmd/nonroot-ls (+ nonroot-ls-helm) into a temp dir
//	go run ./server/lspbench -bin ./nonroot-ls -edits 200 -starts 20 -json
//	go run ./server/lspbench -chart ../shared/corpus/helm/bitnami-nginx  # a Helm chart: values.yaml
//	go run ./server/lspbench -kustomize     # edits of a kustomize overlay's patch
//	go run ./server/lspbench -workspace 1000,5000,10000   # cold index of generated workspaces
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/dockerfiletest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube/kubetest"
	"github.com/nonroot-ls/nonroot-ls/server/lspclient"
)

func main() {
	bin := flag.String("bin", "", "nonroot-ls binary (default: go build ./cmd/nonroot-ls into a temp dir)")
	edits := flag.Int("edits", 200, "edits per document size")
	starts := flag.Int("starts", 20, "process starts for the initialize+first-diagnostics measure")
	asJSON := flag.Bool("json", false, "print the results as JSON")
	manifests := flag.Bool("manifests", false, "measure Kubernetes manifests (an 84-line Deployment, a 3,000-line multi-document file) instead of Dockerfiles")
	chart := flag.String("chart", "", "measure a Helm chart folder instead: didOpen of its values.yaml → diagnostics, values edits, RSS of server + helper")
	kust := flag.Bool("kustomize", false, "measure a kustomize application instead (20 Deployments, 3 overlays): edits of an overlay's patch → its diagnostics, RSS of server + helper")
	wsSizes := flag.String("workspace", "", "measure the cold index of generated workspaces of these sizes (comma-separated file counts, e.g. 1000,5000,10000) and the re-publication of 5 linked manifests after -edits Dockerfile edits, instead")
	flag.Parse()
	if err := benchmark(*bin, *chart, *wsSizes, *manifests, *kust, *edits, *starts, *asJSON); err != nil {
		fmt.Fprintf(os.Stderr, "lspbench: %v\n", err)
		os.Exit(1)
	}
}

func benchmark(bin, chart, wsSizes string, manifests, kust bool, edits, starts int, asJSON bool) error {
	var sizes []int
	if wsSizes != "" {
		var err error
		if sizes, err = parseSizes(wsSizes); err != nil {
			return err
		}
	}
	if bin == "" {
		dir, err := os.MkdirTemp("", "lspbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if bin, err = lspclient.Build(dir); err != nil {
			return err
		}
	}
	switch {
	case chart != "":
		return runChart(bin, chart, edits, starts, asJSON, os.Stdout)
	case kust:
		return runKustomize(bin, edits, asJSON, os.Stdout)
	case sizes != nil:
		return runWorkspace(bin, sizes, edits, asJSON, os.Stdout)
	}
	doc := dockerfileDoc
	if manifests {
		doc = manifestDoc
	}
	return run(bin, doc, edits, starts, asJSON, os.Stdout)
}

// Result is what the bench reports (durations in milliseconds).
type Result struct {
	InitFirstDiagP50 float64            `json:"init_first_diagnostics_p50_ms"`
	InitFirstDiagP95 float64            `json:"init_first_diagnostics_p95_ms"`
	InitCPUP50       float64            `json:"init_first_diagnostics_server_cpu_p50_ms"`
	Edits            map[string]Latency `json:"edit_to_publish"`
	PeakRSSMiB       float64            `json:"peak_rss_mib"`
	Diagnostics      map[string]int     `json:"diagnostics_per_document"`
}

// Latency summarises edit → publishDiagnostics times. CPU is the server process's user+system
// CPU time per edit (from /proc/<pid>/stat), which the machine's load does not inflate.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	Max float64 `json:"max_ms"`
	CPU float64 `json:"server_cpu_per_edit_ms"`
}

// docKind is what the bench opens: its language ID, file name, the two sizes measured, a
// generator of an n-line document, and the line whose end the edits toggle a space at.
type docKind struct {
	languageID, name string
	sizes            [2]int
	generate         func(n int) string
	editLine         func(n int) int
}

var dockerfileDoc = docKind{"dockerfile", "Dockerfile", [2]int{60, 2000}, dockerfiletest.Generate, dockerfiletest.EditLine}

var manifestDoc = docKind{"yaml", "deploy.yaml", [2]int{84, 3000}, kubetest.Generate, func(int) int { return kubetest.EditLine }}

func run(bin string, doc docKind, edits, starts int, asJSON bool, out io.Writer) error {
	ws, err := os.MkdirTemp("", "lspbench-ws")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	res := Result{Edits: map[string]Latency{}, Diagnostics: map[string]int{}}

	var inits, cpus []time.Duration
	for i := 0; i < starts; i++ {
		d, cpu, err := initAndFirst(bin, ws, doc)
		if err != nil {
			return err
		}
		inits, cpus = append(inits, d), append(cpus, cpu)
	}
	res.InitFirstDiagP50, res.InitFirstDiagP95 = ms(pct(inits, 50)), ms(pct(inits, 95))
	res.InitCPUP50 = ms(pct(cpus, 50))

	// One server for both sizes, as in an editor session.
	s, err := startServer(bin, ws)
	if err != nil {
		return err
	}
	defer s.kill()
	for _, n := range doc.sizes {
		cpu0, err := cpuTime(s.cmd.Process.Pid)
		if err != nil {
			return err
		}
		ds, lat, err := editLatency(s, ws, doc, n, edits)
		if err != nil {
			return err
		}
		cpu1, err := cpuTime(s.cmd.Process.Pid)
		if err != nil {
			return err
		}
		key := strconv.Itoa(n) + "-lines"
		res.Edits[key] = Latency{N: len(lat), P50: ms(pct(lat, 50)), P95: ms(pct(lat, 95)), Max: ms(slices.Max(lat)), CPU: ms(cpu1-cpu0) / float64(len(lat)+1)}
		res.Diagnostics[key] = ds
	}
	hwm, err := peakRSS(s.cmd.Process.Pid)
	if err != nil {
		return err
	}
	res.PeakRSSMiB = float64(hwm) / 1024
	if err := s.shutdown(); err != nil {
		return err
	}

	if asJSON {
		return jsonOut(out, res)
	}
	fmt.Fprintf(out, "initialize + first publishDiagnostics (incl. process start, %d-line %s, %d runs): p50 %.2f ms, p95 %.2f ms; server CPU p50 %.0f ms\n", doc.sizes[0], doc.name, starts, res.InitFirstDiagP50, res.InitFirstDiagP95, res.InitCPUP50)
	for _, n := range doc.sizes {
		k := strconv.Itoa(n) + "-lines"
		l := res.Edits[k]
		fmt.Fprintf(out, "edit → publishDiagnostics, %s (%d diagnostics), %d edits: p50 %.3f ms, p95 %.3f ms, max %.3f ms; server CPU %.3f ms/edit\n", k, res.Diagnostics[k], l.N, l.P50, l.P95, l.Max, l.CPU)
	}
	fmt.Fprintf(out, "peak RSS (VmHWM): %.1f MiB\n", res.PeakRSSMiB)
	loadavg(out)
	return nil
}

func jsonOut(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func loadavg(out io.Writer) {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(out, "load average during the run: %s", b)
	}
}

type proc struct {
	cmd *exec.Cmd
	c   *lspclient.Client
	ctx context.Context
	end context.CancelFunc
}

type rwc struct {
	io.ReadCloser
	io.WriteCloser
}

func (p rwc) Close() error {
	p.WriteCloser.Close()
	return p.ReadCloser.Close()
}

func startServer(bin, ws string) (*proc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cmd := exec.Command(bin, "serve")
	in, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	o, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	p := &proc{cmd: cmd, c: lspclient.New(ctx, rwc{o, in}), ctx: ctx, end: cancel}
	init := &protocol.InitializeParams{}
	init.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: uri.File(ws), Name: "bench"}})
	if _, err := p.c.Initialize(ctx, init); err != nil {
		p.kill()
		return nil, fmt.Errorf("initialize: %v", err)
	}
	return p, nil
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
	p.end()
}

func (p *proc) shutdown() error {
	defer p.end()
	if err := p.c.Shutdown(p.ctx); err != nil {
		return err
	}
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("server exit: %v", err)
	}
	return nil
}

// initAndFirst measures process start → initialize → didOpen → first publishDiagnostics,
// and the server's CPU time until then.
func initAndFirst(bin, ws string, doc docKind) (time.Duration, time.Duration, error) {
	t0 := time.Now()
	s, err := startServer(bin, ws)
	if err != nil {
		return 0, 0, err
	}
	u := uri.File(filepath.Join(ws, "start", doc.name))
	s.c.Open(s.ctx, u, doc.languageID, 1, doc.generate(doc.sizes[0]))
	if _, err := s.c.Diagnostics(s.ctx, u, 1); err != nil {
		s.kill()
		return 0, 0, err
	}
	d := time.Since(t0)
	cpu, err := cpuTime(s.cmd.Process.Pid)
	if err != nil {
		s.kill()
		return 0, 0, err
	}
	return d, cpu, s.shutdown()
}

// editLatency opens an n-line document and times edits until each one's diagnostics arrive.
func editLatency(s *proc, ws string, doc docKind, n, edits int) (int, []time.Duration, error) {
	u := uri.File(filepath.Join(ws, strconv.Itoa(n), doc.name))
	src := doc.generate(n)
	s.c.Open(s.ctx, u, doc.languageID, 1, src)
	first, err := s.c.Diagnostics(s.ctx, u, 1)
	if err != nil {
		return 0, nil, err
	}
	line := uint32(doc.editLine(n))
	end := uint32(len(strings.Split(src, "\n")[line]))
	var lat []time.Duration
	for i := 0; i < edits; i++ {
		v := int32(i + 2)
		r := protocol.Range{Start: protocol.Position{Line: line, Character: end}, End: protocol.Position{Line: line, Character: end}}
		text := " "
		if i%2 == 1 {
			r.End.Character = end + 1
			text = ""
		}
		t0 := time.Now()
		if err := s.c.Change(s.ctx, u, v, r, text); err != nil {
			return 0, nil, err
		}
		if _, err := s.c.Diagnostics(s.ctx, u, v); err != nil {
			return 0, nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	return len(first.Diagnostics), lat, nil
}

// peakRSS returns VmHWM (KiB) of a process.
func peakRSS(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak RSS needs /proc (Linux): %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// cpuTime returns a process's user+system CPU time (Linux /proc/<pid>/stat, clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time needs /proc (Linux): %v", err)
	}
	// Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
