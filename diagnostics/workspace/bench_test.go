package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/workspace/workspacetest"
)

func genWorkspace(tb testing.TB, dir string, n int) {
	tb.Helper()
	if err := workspacetest.Generate(dir, n); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkColdIndex is the language server's cold index of generated workspaces
// (Snapshot.Index): a new snapshot (nothing read), the walk, every file read and classified,
// its summaries, and the graph linking each manifest to its Dockerfile. Reports the linked
// uses, the live heap after it (the snapshot kept) and the peak RSS of the process (which
// includes the smaller sizes and the generation before it).
func BenchmarkColdIndex(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		dir := b.TempDir()
		genWorkspace(b, dir, n)
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			var s *diagnostics.Snapshot
			for b.Loop() {
				s = testEngine(b).NewSnapshot([]string{dir}, diagnostics.Config{})
				s.Index(context.Background(), nil)
			}
			linked := 0
			for _, u := range For(s).Uses {
				if u.Link != nil {
					linked++
				}
			}
			if linked != n/10*9 {
				b.Fatalf("linked %d uses, want %d", linked, n/10*9)
			}
			b.ReportMetric(float64(linked), "links")
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MiB")
			b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
			runtime.KeepAlive(s)
		})
	}
}

// peakRSSMiB is the process's peak resident set (VmHWM), 0 where /proc is absent.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	runtime.KeepAlive(data)
	return 0
}

// BenchmarkEditGraph is the graph's share of an edit: a Dockerfile of an indexed 10k-file
// workspace changes in the editor, and the new snapshot's graph names the manifests to
// re-publish. Reports the p50/p95 of the edits.
func BenchmarkEditGraph(b *testing.B) {
	dir := b.TempDir()
	genWorkspace(b, dir, 10000)
	s := testEngine(b).NewSnapshot([]string{dir}, diagnostics.Config{})
	For(s)
	df := filepath.Join(s.Roots()[0], "services", "svc00007", "Dockerfile")
	v := int32(1)
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		v++
		s = s.WithFile(df, v, "dockerfile", "FROM alpine:3.21\nUSER 10001\n")
		if got := For(s).ManifestsUsing(df); len(got) != 9 {
			b.Fatalf("ManifestsUsing = %d files", len(got))
		}
		times = append(times, time.Since(start))
	}
	reportPercentiles(b, times)
}

func reportPercentiles(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	p := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
}

// BenchmarkEditRepublish is the re-publication after a Dockerfile edit in an indexed 10k-file
// workspace: the new snapshot, the files that depend on the Dockerfile (5 manifests run its
// image), and their diagnostics with every rule. Unrelated files are not analysed again.
func BenchmarkEditRepublish(b *testing.B) {
	dir := b.TempDir()
	genWorkspace(b, dir, 10000)
	if _, _, err := workspacetest.GenerateHot(dir); err != nil {
		b.Fatal(err)
	}
	s := testEngine(b).NewSnapshot([]string{dir}, diagnostics.Config{})
	s.Index(context.Background(), nil)
	df := filepath.Join(s.Roots()[0], "services", "hot", "Dockerfile")
	users := []string{"app", "10001"}
	var times []time.Duration
	v := int32(1)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		v++
		s = s.WithFile(df, v, "dockerfile", workspacetest.HotDockerfile(users[v%2]))
		deps := s.Dependents(df)
		if len(deps) != 5 {
			b.Fatalf("dependents = %v", deps)
		}
		nr301 := 0
		for _, p := range deps {
			for _, f := range s.Diagnose(context.Background(), p) {
				if f.RuleID == "NR301" {
					nr301++
				}
			}
		}
		if want := map[bool]int{true: 5, false: 0}[users[v%2] == "app"]; nr301 != want {
			b.Fatalf("NR301 findings = %d, want %d", nr301, want)
		}
		times = append(times, time.Since(start))
	}
	reportPercentiles(b, times)
}

// BenchmarkWorkflowIndex is the cold read of one GitHub Actions workflow of 10,000 jobs (each a
// docker/build-push-action step, every tenth over a two-entry matrix): parse, matrix expansion
// and the declarations, plus the file's NR001 pass. Reports the declarations read.
func BenchmarkWorkflowIndex(b *testing.B) {
	dir := b.TempDir()
	var w strings.Builder
	w.WriteString("on: push\njobs:\n")
	for i := range 10000 {
		fmt.Fprintf(&w, "  j%d:\n    runs-on: ubuntu-latest\n", i)
		if i%10 == 0 {
			w.WriteString("    strategy:\n      matrix:\n        arch: [amd64, arm64]\n")
		}
		fmt.Fprintf(&w, "    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with:\n          context: services/svc%05d\n          tags: ghcr.io/acme/svc%05d:${{ github.sha }}\n", i%100, i)
		fmt.Fprintf(&w, "      - run: docker build -t ghcr.io/acme/run%05d:1 -f services/svc%05d/Dockerfile .\n", i, i%100)
	}
	write(b, dir, ".github/workflows/big.yml", w.String())
	path := filepath.Join(dir, ".github/workflows/big.yml")
	var n int
	cpu0 := processCPU()
	for b.Loop() {
		s := testEngine(b).NewSnapshot([]string{dir}, diagnostics.Config{})
		f, err := s.File(path)
		if err != nil {
			b.Fatal(err)
		}
		n = len(declsOf(f).decls)
		if fs := s.Diagnose(context.Background(), path); len(fs) != 0 {
			b.Fatalf("findings on the workflow: %v", fs)
		}
	}
	if n != 22000 {
		b.Fatalf("%d declarations, want 22000", n)
	}
	b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op") // the wall time is the machine's load too
	b.ReportMetric(float64(n), "decls")
	b.ReportMetric(float64(len(w.String()))/(1<<20), "MiB")
}

// processCPU is the user and system CPU time the process has used (0 where /proc is absent),
// in clock ticks of 10 ms.
func processCPU() time.Duration {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// BenchmarkManifestEditCatalog is what the catalog adds to a manifest edit: each iteration
// edits two 10-Deployment manifests, one whose containers run public images the catalog knows
// (their NR3xx findings come from catalog entries) and one whose images nothing knows,
// alternately so that the machine's drift hits both, each diagnosed with every workspace,
// Dockerfile and Kubernetes rule. Reports the p50/p95 of each kind of edit and their
// difference (catalog-p95-added-ms).
func BenchmarkManifestEditCatalog(b *testing.B) {
	public := []string{"postgres:16", "redis:7.2", "nginx:1.27", "mysql:8.4", "mongo:7", "jenkins/jenkins:lts", "memcached:1.6",
		"grafana/grafana:11.2.0", "bitnami/postgresql:16", "gcr.io/distroless/static-debian12:nonroot"}
	var unknown []string
	for i := range public {
		unknown = append(unknown, fmt.Sprintf("registry.example.com/team/app%d:1.0", i))
	}
	manifest := func(images []string, edit int32) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, "# edit %d\n", edit)
		for i, img := range images {
			fmt.Fprintf(&sb, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d%d\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: c%d\n          image: %s\n          volumeMounts:\n            - {name: conf, mountPath: /etc/app}\n      volumes:\n        - {name: conf, configMap: {name: app}}\n", i, i, img)
		}
		return sb.String()
	}
	dir := b.TempDir()
	paths := []string{filepath.Join(dir, "k8s", "catalog.yaml"), filepath.Join(dir, "k8s", "unknown.yaml")}
	sets := [][]string{public, unknown}
	if err := os.MkdirAll(filepath.Join(dir, "k8s"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i, p := range paths {
		if err := os.WriteFile(p, []byte(manifest(sets[i], 0)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s := testEngine(b).NewSnapshot([]string{dir}, diagnostics.Config{})
	for _, p := range paths {
		s.Diagnose(context.Background(), p) // the catalog is loaded, the repositories' entries decoded
	}
	times := [2][]time.Duration{}
	v := int32(1)
	b.ResetTimer()
	for b.Loop() {
		v++
		for i, p := range paths {
			text := manifest(sets[i], v)
			start := time.Now()
			s = s.WithFile(p, v, "yaml", text)
			fs := s.Diagnose(context.Background(), p)
			times[i] = append(times[i], time.Since(start))
			if i == 0 && len(fs) == 0 {
				b.Fatal("no findings for the public images")
			}
		}
	}
	b.StopTimer()
	q := func(ts []time.Duration, f float64) float64 {
		ts = slices.Clone(ts)
		slices.Sort(ts)
		return float64(ts[int(f*float64(len(ts)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(times[0], 0.5), "catalog-p50-ms")
	b.ReportMetric(q(times[0], 0.95), "catalog-p95-ms")
	b.ReportMetric(q(times[1], 0.5), "unknown-p50-ms")
	b.ReportMetric(q(times[1], 0.95), "unknown-p95-ms")
	b.ReportMetric(q(times[0], 0.95)-q(times[1], 0.95), "catalog-p95-added-ms")
}

// BenchmarkImageFacts is the catalog's share of a manifest edit: the image facts the NR3xx
// rules judge, made for each of 10 containers (imageOf: the workspace link, then the catalog
// lookup and the facts of its entry), for public images the catalog knows and for images
// nothing knows; the graph is the snapshot's (built once). Reports the p50/p95 of the
// 10-container passes.
func BenchmarkImageFacts(b *testing.B) {
	sets := map[string][]string{
		"catalog": {"postgres:16", "redis:7.2", "nginx:1.27", "mysql:8.4", "mongo:7", "jenkins/jenkins:lts", "memcached:1.6",
			"grafana/grafana:11.2.0", "bitnami/postgresql:16", "gcr.io/distroless/static-debian12:nonroot"},
	}
	for i := range 10 {
		sets["unknown"] = append(sets["unknown"], fmt.Sprintf("registry.example.com/team/app%d:1.0", i))
	}
	dir := b.TempDir()
	s := testEngine(b).NewSnapshot([]string{dir}, diagnostics.Config{})
	file := filepath.Join(dir, "k8s", "apps.yaml")
	For(s)
	for _, kind := range []string{"catalog", "unknown"} {
		b.Run("images="+kind, func(b *testing.B) {
			for _, img := range sets[kind] {
				imageOf(s, file, img, text.Range{}) // entries decoded
			}
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				for _, img := range sets[kind] {
					imageOf(s, file, img, text.Range{})
				}
				times = append(times, time.Since(start))
			}
			reportPercentiles(b, times)
		})
	}
}
