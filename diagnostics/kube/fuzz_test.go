package kube_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube/kubetest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// FuzzManifest feeds arbitrary text to the model, every rule, hover, inspect and the
// quick-fixes: nothing may panic, and a fix applied to a file that parsed must leave a file
// that still parses.
func FuzzManifest(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input it keeps, in time quadratic in its
	// length; kilobyte seeds (multiDoc, hoverSrc) stalled it for its minute on each.
	for _, seed := range []string{"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
		"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      securityContext: {runAsNonRoot: true}\n      containers:\n      - name: a\n        image: nginx\n        securityContext: {privileged: true}\n",
		"kind: Template\napiVersion: v1\nparameters:\n- name: M\n  value: 1Gi\nobjects:\n- kind: Pod\n  apiVersion: v1\n  spec:\n    containers:\n    - name: a\n      resources: {limits: {memory: \"${M}\"}}\n",
		"apiVersion: v1\nkind: Pod\nspec:\n  volumes: [{name: h, hostPath: {path: /}}]\n  containers: [{name: a, volumeMounts: [{name: h, mountPath: /h}], ports: [{containerPort: 80}]}]\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec: {containers: [{name: a, securityContext: {runAsUser: 0}}]}\n",
		"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      runAsUser: abc\n",
		"a: &a [x]\nb: *a\napiVersion: v1\nkind: Pod\n"} {
		f.Add(seed)
	}
	dir := f.TempDir()
	base := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	path := filepath.Join(dir, "m.yaml")
	f.Fuzz(func(t *testing.T, src string) {
		defer diagtest.FuzzGuard()()
		if !diagnostics.LooksLikeManifest([]byte(src)) {
			src = "apiVersion: v1\nkind: Pod\n" + src
		}
		s := base.WithFile(path, 1, "yaml", src)
		findings := s.Diagnose(context.Background(), path)
		parsed := true
		for _, fd := range findings {
			if fd.RuleID == "NR001" {
				parsed = false
				if strings.Contains(fd.Message, "internal error") {
					t.Fatalf("rule panicked: %s\n%v", fd.Message, fd.Data)
				}
			}
		}
		s.Inspect(context.Background(), path)
		lines := text.NewLines(src)
		for l := 0; l < min(lines.Count(), 40); l += 8 {
			s.Hover(context.Background(), path, text.Pos{Line: l, Col: 6})
		}
		if !parsed {
			return
		}
		for _, fd := range findings {
			for _, a := range codeactions.For(context.Background(), s, fd) {
				out, err := text.Apply(src, a.Edits[0].Edits)
				if err != nil {
					t.Fatalf("%s: %v", a.Title, err)
				}
				if m := kube.Parse(path, out, nil); len(m.Problems) > 0 {
					t.Fatalf("fix %q broke the file: %v\nbefore:\n%s\nafter:\n%s", a.Title, m.Problems, src, out)
				}
			}
		}
	})
}

// TestHostileInput: alias bombs, deep nesting, huge files, wrong types get a diagnostic or
// nothing, quickly.
func TestHostileInput(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("apiVersion: v1\nkind: Pod\nspec:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb.WriteString("  " + n + ": &" + n + " [" + strings.Repeat("*"+prev+",", 8) + "*" + prev + "]\n")
		prev = n
	}
	bomb.WriteString("  containers:\n  - name: x\n    image: *i\n")
	huge := "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: |\n" + strings.Repeat("    "+strings.Repeat("x", 1000)+"\n", 50_000)
	cases := map[string]string{
		"alias bomb":      bomb.String(),
		"deep flow":       "apiVersion: v1\nkind: Pod\nspec: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n",
		"deep block":      "apiVersion: v1\nkind: Pod\nspec:\n" + deepBlock(5000),
		"50 MB":           huge,
		"wrong type":      "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      runAsUser: \"abc\"\n",
		"unknown kind":    "apiVersion: example.com/v1\nkind: Widget\nspec:\n  template: {spec: {containers: 3}}\n",
		"invalid yaml":    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n   image: b\n",
		"long line":       "apiVersion: v1\nkind: Pod\nmetadata: {name: " + strings.Repeat("n", 2<<20) + "}\n",
		"binary":          "apiVersion: v1\nkind: Pod\n\x00\x01",
		"invalid utf8":    "apiVersion: v1\nkind: Pod\nmetadata: {name: \xff}\n",
		"many documents":  strings.Repeat("---\napiVersion: v1\nkind: Pod\n", 20_000),
		"merge key loops": "apiVersion: v1\nkind: Pod\nbase: &b {x: 1}\nspec:\n  <<: *b\n  containers: [{<<: *b, name: a}]\n",
	}
	dir := t.TempDir()
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
			start := time.Now()
			fs := s.WithFile(p, 1, "yaml", src).Diagnose(context.Background(), p)
			if d := time.Since(start); d > 5*time.Second { // ≤ 200 ms on an idle machine; generous for a loaded CI box
				t.Errorf("took %v", d)
			}
			for _, f := range fs {
				if strings.Contains(f.Message, "internal error") {
					t.Errorf("%s", f)
				}
			}
			if name == "wrong type" && !hasAt(fs, "NR001", 6, "runAsUser: a string where Kubernetes expects an integer") {
				t.Errorf("wrong type: no NR001 on line 7: %v", fs)
			}
			if name == "wrong type" && hasAt(fs, "NR202", -1, "") {
				t.Errorf("wrong type: runAsUser \"abc\" read as 0: %v", fs)
			}
			if name == "alias bomb" && !hasAt(fs, "NR001", -1, "alias bomb") {
				t.Errorf("alias bomb: no NR001: %v", fs)
			}
			t.Logf("%v, %d findings, first: %v", time.Since(start).Round(time.Millisecond), len(fs), first(fs))
		})
	}
}

func hasAt(fs []diagnostics.Finding, rule string, line int, msg string) bool {
	for _, f := range fs {
		if f.RuleID == rule && (line < 0 || f.Range.Start.Line == line) && strings.Contains(f.Message, msg) {
			return true
		}
	}
	return false
}

func first(fs []diagnostics.Finding) string {
	if len(fs) == 0 {
		return "none"
	}
	m := fs[0].Message
	if len(m) > 100 {
		m = m[:100]
	}
	return fs[0].RuleID + " " + m
}

func deepBlock(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	return b.String()
}

// multiDoc returns a manifest of n Deployments (about 30 lines each) and Services.
func multiDoc(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.ReplaceAll(`---
# service NAME
apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  labels: {app: NAME}
spec:
  replicas: 2
  selector:
    matchLabels: {app: NAME}
  template:
    metadata:
      labels: {app: NAME}
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
      - name: NAME
        image: registry.example.com/NAME:1.0
        ports:
        - containerPort: 80
        volumeMounts:
        - name: data
          mountPath: /data
        securityContext:
          allowPrivilegeEscalation: false
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: NAME}
`, "NAME", "svc"+string(rune('a'+i%26))))
	}
	return b.String()
}

func benchDiagnose(b *testing.B, src string) {
	dir := b.TempDir()
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		// A new file each time: nothing is memoised or reused between iterations.
		p := filepath.Join(dir, fmt.Sprintf("m%d.yaml", i))
		if n := len(s.WithFile(p, int32(i), "yaml", src).Diagnose(context.Background(), p)); n == 0 {
			b.Fatal("no findings")
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time: per op (GC included) it means something on
// a loaded machine, where wall time also measures the other processes.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkDiagnose300 diagnoses a 300-line multi-document manifest opened afresh.
func BenchmarkDiagnose300(b *testing.B) { benchDiagnose(b, kubetest.Generate(300)) }

// BenchmarkDiagnose3000 diagnoses a 3,000-line multi-document manifest opened afresh.
func BenchmarkDiagnose3000(b *testing.B) { benchDiagnose(b, kubetest.Generate(3000)) }

// benchEdits measures edit → diagnostics: each iteration edits the file (a new snapshot, as
// the server makes on didChange) and diagnoses it; it reports the p95. The edits alternate
// between the file and the version edit makes of it.
func benchEdits(b *testing.B, src string, edit func(string) string) {
	dir := b.TempDir()
	p := filepath.Join(dir, "m.yaml")
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(p, 0, "yaml", src)
	s.Diagnose(context.Background(), p)
	versions := [2]string{edit(src), src}
	var times []time.Duration
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s = s.WithFile(p, int32(i+1), "yaml", versions[i%2])
		s.Diagnose(context.Background(), p)
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
}

// editAfter returns an edit that replaces the character after the first occurrence of key in
// the file (in its first document) with repl; editAfterLast, after the last occurrence.
func editAfter(key, repl string) func(string) string {
	return func(src string) string {
		at := strings.Index(src, key) + len(key)
		return src[:at] + repl + src[at+1:]
	}
}

func editAfterLast(key, repl string) func(string) string {
	return func(src string) string {
		at := strings.LastIndex(src, key) + len(key)
		return src[:at] + repl + src[at+1:]
	}
}

// BenchmarkEdit84 is the 84-line Deployment (lspbench -manifests' small file).
func BenchmarkEdit84(b *testing.B) {
	benchEdits(b, kubetest.Generate(84), editAfter("replicas: ", "3"))
}

// BenchmarkEdit3000 is the 3,000-line multi-document file (lspbench -manifests' large
// file): a value changes in its first document.
func BenchmarkEdit3000(b *testing.B) {
	benchEdits(b, kubetest.Generate(3000), editAfter("replicas: ", "3"))
}

// BenchmarkEdit3000NewLine adds a line break in the first document: every later one moves.
func BenchmarkEdit3000NewLine(b *testing.B) {
	benchEdits(b, kubetest.Generate(3000), editAfter("replicas: ", "2\n"))
}

// BenchmarkEdit3000Invalid starts typing a key in the last document ("  r" on a line of its
// own is not YAML): the file has a syntax error there until the colon comes.
func BenchmarkEdit3000Invalid(b *testing.B) {
	benchEdits(b, kubetest.Generate(3000), editAfterLast("replicas: ", "2\n  r"))
}
