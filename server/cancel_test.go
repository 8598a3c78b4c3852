package server

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube/kubetest"
)

// slowWorkspace writes a chart whose render takes a while (many templates) and a 3,000-line
// manifest, and returns the paths of values.yaml and the manifest.
func slowWorkspace(t testing.TB) (dir, values, manifest string) {
	dir = t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("chart/Chart.yaml", "apiVersion: v2\nname: big\nversion: 0.1.0\n")
	values = write("chart/values.yaml", "securityContext: {}\nreplicas: 1\n")
	for i := range 40 {
		write(fmt.Sprintf("chart/templates/d%d.yaml", i), fmt.Sprintf(`{{- range $i := until 20 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d%d-{{ $i }}
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext: {{- toYaml $.Values.securityContext | nindent 12 }}
{{- end }}
`, i))
	}
	manifest = write("k8s/big.yaml", kubetest.Generate(3000))
	return dir, values, manifest
}

// TestCancelSlowRequests: a hover that renders a big chart (seconds of work) is answered
// RequestCancelled as soon as it is cancelled, while the engine is still at work (it stops
// early: the render and the rules see the cancelled context). (A hover on a 3,000-line
// manifest takes milliseconds, less than a loaded machine's scheduling delay: whether its
// cancellation arrives first is luck, so it is not checked here; TestCancelCodeActions holds
// requests until they are cancelled.)
func TestCancelSlowRequests(t *testing.T) {
	dir, values, _ := slowWorkspace(t)
	c := startRaw(t)
	c.initialize(dir)
	for i, p := range []string{values} {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		u := uri.File(p)
		c.sendJSON(map[string]any{"jsonrpc": "2.0", "method": protocol.MethodTextDocumentDidOpen, "params": map[string]any{
			"textDocument": map[string]any{"uri": u, "languageId": "yaml", "version": 1, "text": string(text)}}})
		id := strconv.Itoa(10 + i)
		c.sendJSON(map[string]any{"jsonrpc": "2.0", "id": 10 + i, "method": protocol.MethodTextDocumentHover, "params": map[string]any{
			"textDocument": map[string]any{"uri": u}, "position": map[string]any{"line": 0, "character": 2}}})
		start := time.Now()
		c.sendJSON(map[string]any{"jsonrpc": "2.0", "method": protocol.MethodCancelRequest, "params": map[string]any{"id": 10 + i}})
		m := c.response(id, 30*time.Second)
		el := time.Since(start)
		if m.Error == nil || m.Error.Code != int(protocol.CodeRequestCancelled) {
			t.Fatalf("%s: hover answered %s %+v, want RequestCancelled", filepath.Base(p), m.Result, m.Error)
		}
		t.Logf("%s: RequestCancelled %v after the cancellation", filepath.Base(p), el)
		// A hang guard, not a latency budget (BenchmarkCancelLatency measures that).
		if el > 5*time.Second {
			t.Errorf("%s: answered %v after the cancellation", filepath.Base(p), el)
		}
	}
	// The server goes on: the same hover, not cancelled, is answered.
	c.sendJSON(map[string]any{"jsonrpc": "2.0", "id": 20, "method": protocol.MethodTextDocumentHover, "params": map[string]any{
		"textDocument": map[string]any{"uri": uri.File(values)}, "position": map[string]any{"line": 0, "character": 2}}})
	if m := c.response("20", 60*time.Second); m.Error != nil || !strings.Contains(string(m.Result), "securityContext") {
		t.Fatalf("hover after the cancellations: %s %+v", m.Result, m.Error)
	}
}

// BenchmarkCancelLatency: the time from $/cancelRequest to the RequestCancelled answer of a
// hover that renders a big chart (p95 in ms). Each iteration edits values.yaml first, so the
// hover renders anew (while the publisher renders the same edit in the background).
func BenchmarkCancelLatency(b *testing.B) {
	dir, values, _ := slowWorkspace(b)
	c := startRawTB(b)
	c.initialize(dir)
	text, _ := os.ReadFile(values)
	u := uri.File(values)
	c.sendJSON(map[string]any{"jsonrpc": "2.0", "method": protocol.MethodTextDocumentDidOpen, "params": map[string]any{
		"textDocument": map[string]any{"uri": u, "languageId": "yaml", "version": 1, "text": string(text)}}})
	hover := func(id int) {
		c.sendJSON(map[string]any{"jsonrpc": "2.0", "id": id, "method": protocol.MethodTextDocumentHover, "params": map[string]any{
			"textDocument": map[string]any{"uri": u}, "position": map[string]any{"line": 0, "character": 2}}})
	}
	hover(2)
	c.response("2", 60*time.Second) // the workspace scan and the first render are done
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := 100 + i
		c.sendJSON(map[string]any{"jsonrpc": "2.0", "method": protocol.MethodTextDocumentDidChange, "params": map[string]any{
			"textDocument":   map[string]any{"uri": u, "version": 2 + i},
			"contentChanges": []map[string]any{{"text": fmt.Sprintf("securityContext: {}\nreplicas: %d\n", i+2)}}}})
		hover(id)
		start := time.Now()
		c.sendJSON(map[string]any{"jsonrpc": "2.0", "method": protocol.MethodCancelRequest, "params": map[string]any{"id": id}})
		if m := c.response(strconv.Itoa(id), 30*time.Second); m.Error == nil || m.Error.Code != int(protocol.CodeRequestCancelled) {
			b.Fatalf("hover answered %s %+v", m.Result, m.Error)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
}

// TestRulePanicIsLoggedNR001: a rule that panics gives one NR001 on the file naming the
// rule, the panic is logged to the client with its stack, and the server answers on.
func TestRulePanicIsLoggedNR001(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.open("Dockerfile", "# PANIC\n")
	ds := h.diags(u, 1)
	if len(ds) != 1 || ds[0].Code != protocol.String("NR001") || !strings.Contains(fmt.Sprint(ds[0].Message), "internal error in rule NR990") {
		t.Fatalf("diagnostics of a panicking rule: %+v", ds)
	}
	logged := func() bool {
		for _, l := range h.c.Logs() {
			if strings.Contains(l, "panic in rule NR990") && strings.Contains(l, "goroutine") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !logged(); {
		if time.Now().After(deadline) {
			t.Fatalf("the panic was not logged with its stack: %q", h.c.Logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The server lives: the document's next version is diagnosed.
	u2 := h.open("other/Dockerfile", "# as root\n")
	if ds := h.diags(u2, 1); len(ds) != 1 || ds[0].Code != protocol.String("NR990") {
		t.Fatalf("after the panic: %+v", ds)
	}
}
