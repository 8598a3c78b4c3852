package dockerfile_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/dockerfiletest"
)

// multiStage generates a realistic multi-stage Dockerfile of about n lines.
func multiStage(n int) string {
	var b strings.Builder
	b.WriteString("# syntax=docker/dockerfile:1\nARG GO_VERSION=1.23\nARG UID=10001\n")
	stage := 0
	for strings.Count(b.String(), "\n")+stage+12 < n {
		fmt.Fprintf(&b, "\nFROM golang:${GO_VERSION} AS build%d\nWORKDIR /src\n", stage)
		fmt.Fprintf(&b, "RUN apt-get update && \\\n    apt-get install -y --no-install-recommends git ca-certificates && \\\n    rm -rf /var/lib/apt/lists/*\n")
		fmt.Fprintf(&b, "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n")
		fmt.Fprintf(&b, "RUN CGO_ENABLED=0 go build -o /out/app%d ./cmd/app%d\n", stage, stage)
		stage++
	}
	b.WriteString("\nFROM alpine:3.20\nARG UID\nRUN addgroup -S -g 10001 app && adduser -S -D -u ${UID} -G app app && \\\n    mkdir -p /var/lib/app && chown ${UID}:0 /var/lib/app && chmod g=u /var/lib/app\n")
	for i := 0; i < stage; i++ {
		fmt.Fprintf(&b, "COPY --from=build%d /out/app%d /usr/local/bin/\n", i, i)
	}
	b.WriteString("VOLUME /var/lib/app\nEXPOSE 8080\nUSER ${UID}:0\nENTRYPOINT [\"app0\"]\n")
	return b.String()
}

func benchDiagnose(b *testing.B, lines int) {
	src := multiStage(lines)
	dir := b.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	base := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	if got := strings.Count(src, "\n"); got < lines*85/100 || got > lines*115/100 {
		b.Fatalf("generated %d lines", got)
	}
	s := base.WithFile(path, 1, "dockerfile", src)
	if fs := s.Diagnose(context.Background(), path); len(fs) > 3 {
		b.Fatalf("unexpected findings on the benchmark file: %v", fs)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// An edit: the next snapshot with the changed document, then diagnostics (the
		// server's path: each version's model starts from the previous one's).
		edited := src + fmt.Sprintf("# edit %d\n", i)
		s = s.WithFile(path, int32(i+2), "dockerfile", edited)
		s.Diagnose(context.Background(), path)
	}
	b.StopTimer()
	// CPU time per op (process user+system, GC included): meaningful on a loaded machine,
	// where wall time also measures other processes.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkDiagnose60 is the edit path on a 60-line multi-stage Dockerfile.
func BenchmarkDiagnose60(b *testing.B) { benchDiagnose(b, 60) }

// BenchmarkDiagnose2000 is the edit path on a 2,000-line multi-stage Dockerfile.
func BenchmarkDiagnose2000(b *testing.B) { benchDiagnose(b, 2000) }

// BenchmarkDiagnoseEdit2000 is lspbench's edit on its generated 2,000-line Dockerfile: a
// blank appended to, then removed from, a RUN line in the middle, then diagnostics.
func BenchmarkDiagnoseEdit2000(b *testing.B) {
	src := dockerfiletest.Generate(2000)
	lines := strings.Split(src, "\n")
	n := dockerfiletest.EditLine(2000)
	lines[n] += " "
	versions := [2]string{src, strings.Join(lines, "\n")}
	dir := b.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	base := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	s := base.WithFile(path, 1, "dockerfile", src)
	s.Diagnose(context.Background(), path)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s = s.WithFile(path, int32(i+2), "dockerfile", versions[(i+1)%2])
		s.Diagnose(context.Background(), path)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDiagnose50000 diagnoses lspbench's generated 50,000-line Dockerfile from nothing
// (a new engine's snapshot each time: no model of an earlier version to start from). The
// budget is 1 s and 200 MiB for such a file; live-MiB is the heap in use after the diagnosis
// (the models and findings it keeps), alloc-MiB/op what it allocated on the way.
func BenchmarkDiagnose50000(b *testing.B) {
	src := dockerfiletest.Generate(50000)
	dir := b.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	b.ReportAllocs()
	cpu0 := cpuTime()
	var live uint64
	for i := 0; i < b.N; i++ {
		s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(path, 1, "dockerfile", src)
		s.Diagnose(context.Background(), path)
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		live = max(live, ms.HeapAlloc)
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(live)/(1<<20), "live-MiB")
}
