package workspace

import (
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
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
)

// genWorkspace writes a workspace of n files: n/10 services, each a folder with a Dockerfile,
// and 9 manifests per service under deploy/ that run its image (with a registry, a tag and,
// for every third, a digest).
func genWorkspace(tb testing.TB, dir string, n int) {
	tb.Helper()
	services := n / 10
	for i := 0; i < services; i++ {
		name := fmt.Sprintf("svc%05d", i)
		write(tb, dir, filepath.Join("services", name, "Dockerfile"),
			"FROM alpine:3.21 AS build\nRUN adduser -D -u 10001 app\nFROM alpine:3.21\nCOPY --from=build /etc/passwd /etc/passwd\nUSER app\nENTRYPOINT [\"/app\"]\n")
		for j := 0; j < 9; j++ {
			ref := "registry.example.com:5000/acme/" + name + ":v" + strconv.Itoa(j)
			if j%3 == 0 {
				ref += "@sha256:" + strings.Repeat("ab", 32)
			}
			write(tb, dir, filepath.Join("deploy", name, fmt.Sprintf("deploy-%d.yaml", j)),
				"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "+name+"\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: app\n          image: "+ref+"\n          ports:\n            - containerPort: 8080\n")
		}
	}
}

// BenchmarkColdIndex is a cold index of generated workspaces: a new snapshot (nothing read),
// the walk, every file read and classified, and the graph linking each manifest to its
// Dockerfile. Reports the linked uses and the peak RSS of the process.
func BenchmarkColdIndex(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		dir := b.TempDir()
		genWorkspace(b, dir, n)
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			var linked int
			for b.Loop() {
				s := diagnostics.NewSnapshot([]string{dir}, diagnostics.Config{})
				g := For(s)
				linked = 0
				for _, u := range g.Uses {
					if u.Link != nil {
						linked++
					}
				}
			}
			if linked != n/10*9 {
				b.Fatalf("linked %d uses, want %d", linked, n/10*9)
			}
			b.ReportMetric(float64(linked), "links")
			b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
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
	s := diagnostics.NewSnapshot([]string{dir}, diagnostics.Config{})
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

// BenchmarkColdIndexModels is the cold index with every model built: the graph, plus the
// Dockerfile model of each Dockerfile and the workload model of each manifest.
func BenchmarkColdIndexModels(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		dir := b.TempDir()
		genWorkspace(b, dir, n)
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			var s *diagnostics.Snapshot
			for b.Loop() {
				s = diagnostics.NewSnapshot([]string{dir}, diagnostics.Config{})
				For(s)
				for _, p := range s.Walk() {
					f, _ := s.File(p)
					switch f.Kind {
					case diagnostics.KindDockerfile:
						dockerfile.Of(f)
					case diagnostics.KindManifest:
						kube.ForFile(f)
					}
				}
			}
			b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MiB")
			runtime.KeepAlive(s)
		})
	}
}

// BenchmarkEditRepublish is the re-publication after a Dockerfile edit in an indexed 10k-file
// workspace: the new snapshot, the files that depend on the Dockerfile (5 manifests run its
// image), and their diagnostics with every rule. Unrelated files are not analysed again.
func BenchmarkEditRepublish(b *testing.B) {
	dir := b.TempDir()
	genWorkspace(b, dir, 10000)
	write(b, dir, "services/hot/Dockerfile", "FROM alpine:3.21\nRUN adduser -D -u 10001 app\nUSER app\n")
	for i := 0; i < 5; i++ {
		write(b, dir, fmt.Sprintf("deploy/hot/deploy-%d.yaml", i),
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hot\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: app\n          image: ghcr.io/acme/hot:v"+strconv.Itoa(i)+"\n")
	}
	s := diagnostics.NewSnapshot([]string{dir}, diagnostics.Config{})
	for _, p := range s.Walk() {
		s.Diagnose(p)
	}
	df := filepath.Join(s.Roots()[0], "services", "hot", "Dockerfile")
	users := []string{"app", "10001"}
	var times []time.Duration
	v := int32(1)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		v++
		s = s.WithFile(df, v, "dockerfile", "FROM alpine:3.21\nRUN adduser -D -u 10001 app\nUSER "+users[v%2]+"\n")
		deps := s.Dependents(df)
		if len(deps) != 5 {
			b.Fatalf("dependents = %v", deps)
		}
		nr301 := 0
		for _, p := range deps {
			for _, f := range s.Diagnose(p) {
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
