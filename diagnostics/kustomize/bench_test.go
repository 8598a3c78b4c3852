package kustomize_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kustomize/kustomizetest"
)

func writeApp(tb testing.TB, dir string, resources, overlays int) {
	tb.Helper()
	if err := kustomizetest.WriteApp(dir, resources, overlays); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkEditPatch: one edit to an overlay's patch of a 3-overlay kustomization of 20
// resources, then its diagnostics: the overlay rebuilt with kustomize (in-process) and its
// 20 Deployments judged, their findings traced back. Reports the p95 per edit.
func BenchmarkEditPatch(b *testing.B) {
	dir := b.TempDir()
	writeApp(b, dir, 20, 3)
	s := alltest.Snapshot(dir)
	s.Index(context.Background(), nil)
	patch := filepath.Join(dir, "overlays/env1/security.yaml")
	base := filepath.Join(dir, "base/deploy-7.yaml")
	ctx := context.Background()
	if fs := s.Diagnose(ctx, patch); len(fs) != 0 {
		b.Fatalf("patch before the edits: %v", fs)
	}
	var lat []time.Duration
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		s = s.WithFile(patch, int32(i+1), "yaml", kustomizetest.Patch(1, fmt.Sprint(10001+i)))
		s.Diagnose(ctx, patch)
		s.Diagnose(ctx, base)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
}

// cpuTime is the CPU time this process has used (user and system): on a loaded machine it
// says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkColdIndex200: a workspace of 50 applications, each a base and 3 overlays (200
// kustomizations, 1,400 files): a fresh engine's cold index, as the server runs it before
// the first request.
func BenchmarkColdIndex200(b *testing.B) {
	dir := b.TempDir()
	for a := range 50 {
		writeApp(b, filepath.Join(dir, fmt.Sprintf("app%02d", a)), 5, 3)
	}
	for b.Loop() {
		s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
		s.Index(context.Background(), nil)
		if n := len(s.Walk()); n != 50*(1+5+3*2) {
			b.Fatalf("%d files", n)
		}
	}
}
