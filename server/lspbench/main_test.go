package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube/kubetest"
)

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := pct(ds, 50); p != 50*time.Millisecond {
		t.Errorf("p50 %v", p)
	}
	if p := pct(ds, 95); p != 95*time.Millisecond {
		t.Errorf("p95 %v", p)
	}
	if p := pct(ds[:1], 95); p != 100*time.Millisecond {
		t.Errorf("p95 of one %v", p)
	}
}

func TestProcReaders(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	cpu, err := cpuTime(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("cpuTime = %v, %v", cpu, err)
	}
	rss, err := peakRSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Errorf("peakRSS = %v, %v", rss, err)
	}
}

func TestGenerateManifest(t *testing.T) {
	for _, n := range []int{84, 3000} {
		src := kubetest.Generate(n)
		if got := strings.Count(src, "\n"); got < n || got > n+42 {
			t.Errorf("kubetest.Generate(%d) has %d lines", n, got)
		}
		if !diagnostics.LooksLikeManifest([]byte(src)) {
			t.Errorf("kubetest.Generate(%d) is not read as a manifest", n)
		}
	}
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("1000, 5000,10000")
	if err != nil || len(got) != 3 || got[0] != 1000 || got[1] != 5000 || got[2] != 10000 {
		t.Errorf("parseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "1k", "5", "100,"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
}
