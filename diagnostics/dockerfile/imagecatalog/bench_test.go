package imagecatalog

import (
	"slices"
	"testing"
	"time"
)

var benchRefs = []string{"postgres:16", "docker.io/library/nginx:1.27-alpine", "grafana/grafana:11.2.0", "bitnami/redis:7.2",
	"gcr.io/distroless/static-debian12:nonroot", "quay.io/sclorg/python-312-c9s:c9s", "acme/unknown:1", "${IMAGE}",
	"registry.k8s.io/ingress-nginx/controller:v1.11.0", "cgr.dev/chainguard/nginx:latest"}

// BenchmarkLookup is a lookup of an indexed repository (its entries decoded by an earlier
// lookup; loading is BenchmarkLoad). Reports the p50/p95 of the lookups in µs.
func BenchmarkLookup(b *testing.B) {
	for _, ref := range benchRefs {
		_ = Lookup(ref)
	}
	b.ReportAllocs()
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		_ = Lookup(benchRefs[i%len(benchRefs)])
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	p := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Nanoseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-µs")
	b.ReportMetric(p(0.95), "p95-µs")
}

// BenchmarkLoad is what the first lookup pays: indexing the embedded catalog by repository
// (no entry decoded), then decoding the entries of the repositories of benchRefs.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ix, err := lazyIndex(catalogJSON)
		if err != nil {
			b.Fatal(err)
		}
		for _, ref := range benchRefs {
			_ = ix.Lookup(ref)
		}
	}
}
