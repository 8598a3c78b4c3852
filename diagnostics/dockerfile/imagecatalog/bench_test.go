package imagecatalog

import (
	"sort"
	"testing"
	"time"
)

var benchRefs = []string{"postgres:16", "docker.io/library/nginx:1.27-alpine", "grafana/grafana:11.2.0", "bitnami/redis:7.2",
	"gcr.io/distroless/static-debian12:nonroot", "quay.io/sclorg/python-312-c9s:c9s", "acme/unknown:1", "${IMAGE}",
	"registry.k8s.io/ingress-nginx/controller:v1.11.0", "cgr.dev/chainguard/nginx:latest"}

func BenchmarkLookup(b *testing.B) {
	if _, err := Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Lookup(benchRefs[i%len(benchRefs)])
	}
}

// TestLookupLatency: a lookup's p95 stays under 0.05 ms (the catalog is indexed by
// repository; loading it is not counted).
func TestLookupLatency(t *testing.T) {
	if _, err := Load(); err != nil {
		t.Fatal(err)
	}
	const n = 20000
	d := make([]time.Duration, n)
	for i := range d {
		ref := benchRefs[i%len(benchRefs)]
		start := time.Now()
		_ = Lookup(ref)
		d[i] = time.Since(start)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	p95 := d[n*95/100]
	t.Logf("lookup p50 %v, p95 %v, max %v", d[n/2], p95, d[n-1])
	if p95 > 50*time.Microsecond {
		t.Errorf("lookup p95 %v, want ≤ 50µs", p95)
	}
}
