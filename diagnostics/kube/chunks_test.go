package kube

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube/kubetest"
)

// anchored uses anchors and aliases within and across documents, a flow pod spec and a
// wrong type, so moved chunks must re-point aliases and keep type errors.
const anchored = `apiVersion: v1
kind: Pod
metadata: {name: a}
x-sc: &sc {runAsNonRoot: true, runAsUser: 1000}
spec:
  securityContext: *sc
  containers:
  - &c
    name: app
    image: app
    securityContext: {runAsUser: "abc"}
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: d}
  spec:
    template:
      spec:
        containers: [{name: x, image: nginx, ports: [{containerPort: 80}]}]
---

---
# only a comment
...
---
apiVersion: v1
kind: Pod
spec:
  <<: {hostUsers: false}
  containers:
  - name: b
    securityContext:
      runAsUser: 0
      runAsUser: 1
`

// chunkSeeds are the texts the random edits start from: generated files, the fixtures and the
// corpus manifests.
func chunkSeeds(t *testing.T) []string {
	seeds := []string{anchored, multi, kubetest.Generate(200), strings.ReplaceAll(kubetest.Generate(120), "\n", "\r\n")}
	var files []string // the repository's fixtures, and the corpus when present
	for _, pat := range []string{"testdata/rules/NR2*/*/*", "testdata/fixes/NR2*/*/*", "../shared/corpus/k8s/*", "../shared/corpus/openshift/*"} {
		m, _ := filepath.Glob(filepath.Join("..", "..", pat))
		files = append(files, m...)
	}
	for _, f := range files {
		switch filepath.Ext(f) {
		case ".yaml", ".yml", ".json":
			if b, err := os.ReadFile(f); err == nil {
				seeds = append(seeds, string(b))
			}
		}
	}
	if len(seeds) < 20 {
		t.Fatalf("only %d seeds", len(seeds))
	}
	return seeds
}

var snippets = []string{
	"---\n", "--- \n", "---\r\n", "--- |\n  text\n", "...\n", "# comment\n", "\n",
	"  runAsUser: 0\n", "x: &a {y: 1}\n", "z: *a\n", "securityContext: *sc\n", "%YAML 1.2\n",
	"metadata: {name: \"{{ .Values.x }}\"}\n", "      securityContext: {runAsNonRoot: false}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: p\n    image: busybox\n",
	"a: [1,\n", "b: \"open\n", "\t\n",
}

const editChars = "a0 \n:-#\"'[]{}&*|\t\r"

// edit applies one random edit: a character typed or deleted, a line or snippet inserted
// or removed, a document moved or duplicated, the line ends switched.
func edit(r *rand.Rand, src string) string {
	lineStarts := func() []int {
		out := []int{0}
		for i := 0; i < len(src); i++ {
			if src[i] == '\n' && i+1 < len(src) {
				out = append(out, i+1)
			}
		}
		return out
	}
	switch r.Intn(10) {
	case 0, 1, 2:
		at := r.Intn(len(src) + 1)
		return src[:at] + string(editChars[r.Intn(len(editChars))]) + src[at:]
	case 3, 4:
		if src == "" {
			return src
		}
		at := r.Intn(len(src))
		end := min(len(src), at+1+r.Intn(4))
		return src[:at] + src[end:]
	case 5, 6:
		ls := lineStarts()
		at := ls[r.Intn(len(ls))]
		return src[:at] + snippets[r.Intn(len(snippets))] + src[at:]
	case 7:
		ls := lineStarts()
		i := r.Intn(len(ls))
		end := len(src)
		if i+1 < len(ls) {
			end = ls[i+1]
		}
		return src[:ls[i]] + src[end:]
	case 8:
		chunks, _, ok := splitDocuments(src)
		if !ok || len(chunks) < 2 {
			return src + "---\n" + src
		}
		i, j := r.Intn(len(chunks)), r.Intn(len(chunks))
		c := chunks[i]
		if r.Intn(2) == 0 {
			chunks = append(chunks[:i], chunks[i+1:]...) // move, else duplicate
			j = min(j, len(chunks))
		}
		if !strings.HasSuffix(c, "\n") {
			c += "\n"
		}
		if j == 0 && !strings.HasPrefix(c, "---") {
			c = "---\n" + c
		}
		chunks = append(chunks[:j], append([]string{c}, chunks[j:]...)...)
		return strings.Join(chunks, "")
	default:
		if strings.Contains(src, "\r\n") {
			return strings.ReplaceAll(src, "\r\n", "\n")
		}
		return strings.ReplaceAll(src, "\n", "\r\n")
	}
}

// settle computes what is computed lazily, so equal models compare equal.
func settle(m *Manifest) *Manifest {
	for _, w := range m.Workloads {
		w.Verdicts()
	}
	return m
}

func stripComments(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		stripComments(c, seen)
	}
}

// TestChunkedParseEqualsFresh edits files at random and checks after every edit that the
// cached parse (reusing the chunks of the previous version) equals a parse from scratch, and
// that the chunked parse equals decoding the whole stream (comments aside: on document
// boundaries they attach differently, and nothing reads them).
func TestChunkedParseEqualsFresh(t *testing.T) {
	steps := 60
	if testing.Short() {
		steps = 15
	}
	var reusedAsIs, moved, parses, chunked, errors int
	for si, seed := range chunkSeeds(t) {
		r := rand.New(rand.NewSource(int64(si)))
		path := filepath.Join(t.TempDir(), "m.yaml")
		src := seed
		var prev *Manifest
		var table chunkTable
		good := ""
		for step := 0; step < steps; step++ {
			if step > 0 {
				src = edit(r, src)
			}
			c, t2 := parse(path, src, nil, parseCached, table)
			table = t2
			cached := settle(c)
			fresh := settle(parseFresh(path, src))
			parses++
			if !reflect.DeepEqual(cached, fresh) {
				t.Fatalf("seed %d step %d: cached parse differs from a fresh one\n%s", si, step, src)
			}
			byChunks, _ := (&Manifest{Lines: fresh.Lines, Templated: fresh.Templated}).parseChunked(src, nil)
			if byChunks {
				chunked++
			}
			if invalid(fresh) {
				errors++
			}
			whole, _ := parse(path, src, nil, parseWhole, nil)
			seen := map[*yaml.Node]bool{}
			for _, d := range fresh.Docs {
				stripComments(d, seen)
			}
			for _, d := range whole.Docs {
				stripComments(d, seen)
			}
			if !reflect.DeepEqual(settle(whole), fresh) {
				t.Fatalf("seed %d step %d: chunked parse differs from the whole stream's\nchunked: %d docs, %v\nwhole: %d docs, %v\n%s", si, step, len(fresh.Docs), fresh.Problems, len(whole.Docs), whole.Problems, src)
			}
			if prev != nil {
				shared := map[*yaml.Node]bool{}
				for _, d := range prev.Docs {
					shared[d] = true
				}
				for _, d := range cached.Docs {
					if shared[d] {
						reusedAsIs++
					}
				}
				typed, nodes := map[any]bool{}, map[*yaml.Node]bool{}
				for _, w := range prev.Workloads {
					typed[w.PodSpec], nodes[w.Spec] = true, true
				}
				for _, w := range cached.Workloads {
					if typed[w.PodSpec] && !nodes[w.Spec] {
						moved++
					}
				}
			}
			prev = cached
			if byChunks && !invalid(fresh) {
				good = src
			} else if good != "" && r.Intn(4) > 0 {
				src = good // mostly go on editing a valid file that parses by chunks
			}
		}
	}
	t.Logf("%d parses (%d by chunks, %d with a YAML error): %d documents reused in place, %d workloads moved with their typed spec", parses, chunked, errors, reusedAsIs, moved)
	if reusedAsIs == 0 || moved == 0 {
		t.Errorf("the cache was not exercised: %d reused in place, %d moved", reusedAsIs, moved)
	}
}

func invalid(m *Manifest) bool {
	for _, p := range m.Problems {
		if strings.HasPrefix(p.Message, "invalid YAML") {
			return true
		}
	}
	return false
}

func TestSplitDocuments(t *testing.T) {
	for _, tc := range []struct {
		src    string
		chunks []string
		lines  []int
	}{
		{"", []string{""}, []int{0}},
		{"a: 1\n", []string{"a: 1\n"}, []int{0}},
		{"---\na: 1\n", []string{"---\na: 1\n"}, []int{0}},
		{"# c\n---\na: 1\n---\r\nb: 2\n--- |\n x\n----\n---", []string{"# c\n", "---\na: 1\n", "---\r\nb: 2\n", "--- |\n x\n----\n", "---"}, []int{0, 1, 3, 5, 8}},
		{"a: |\n  ---\n  x\n", []string{"a: |\n  ---\n  x\n"}, []int{0}},
	} {
		chunks, lines, ok := splitDocuments(tc.src)
		if !ok || !reflect.DeepEqual(chunks, tc.chunks) || !reflect.DeepEqual(lines, tc.lines) {
			t.Errorf("%q: %q %v %v", tc.src, chunks, lines, ok)
		}
	}
	if _, _, ok := splitDocuments("%YAML 1.2\n---\na: 1\n"); ok {
		t.Errorf("a directive must decline the split")
	}
}

// TestDiagnoseReusedEqualsFresh edits a file at random through snapshots, as the server does,
// and checks after every edit that its findings (some reused from the workloads of the
// previous version) equal those of the same text diagnosed afresh under another path, and
// that every reused finding points at the current model.
func TestDiagnoseReusedEqualsFresh(t *testing.T) {
	steps := 150
	if testing.Short() {
		steps = 40
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "edited", "m.yaml")
	s := testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{})
	r := rand.New(rand.NewSource(1))
	src, good := kubetest.Generate(400)+anchored, ""
	reused := 0
	var prev *Manifest
	for step := 0; step < steps; step++ {
		if step > 0 {
			src = edit(r, src)
		}
		s = s.WithFile(path, int32(step), "yaml", src)
		got := s.Diagnose(context.Background(), path)
		fresh := filepath.Join(dir, fmt.Sprint("fresh", step), "m.yaml")
		want := testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(fresh, 1, "yaml", src).Diagnose(context.Background(), fresh)
		if len(got) != len(want) {
			t.Fatalf("step %d: %d findings, %d afresh\n%s", step, len(got), len(want), src)
		}
		f, _ := s.File(path)
		m := ForFile(f)
		for i := range got {
			g, w := got[i], want[i]
			if g.RuleID != w.RuleID || g.Severity != w.Severity || g.Range != w.Range || g.Message != w.Message || !reflect.DeepEqual(g.Related, w.Related) {
				t.Fatalf("step %d: finding %d is %v, afresh %v", step, i, g, w)
			}
			if d, ok := g.Data.(*data); ok {
				if d.Manifest != m || (d.Workload != nil && !slices.Contains(m.Workloads, d.Workload)) {
					t.Fatalf("step %d: %v points at another version's model", step, g)
				}
				if d.Workload != nil && prev != nil && slices.Contains(prev.Workloads, d.Workload) {
					reused++
				}
			}
		}
		prev = m
		if ok, _ := (&Manifest{Lines: m.Lines}).parseChunked(src, nil); ok {
			good = src
		} else if good != "" && r.Intn(4) > 0 {
			src = good
		}
	}
	t.Logf("%d findings reused", reused)
	if reused == 0 {
		t.Errorf("no finding was reused")
	}
}

// FuzzChunkedParse: for any text, the chunked parse equals the whole-stream decode (comments
// aside), and a parse reusing the chunks of another version equals a fresh one.
func FuzzChunkedParse(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input it keeps, in time quadratic in its
	// length; kilobyte seeds (anchored, a generated manifest) stalled it for its minute on each.
	small := "kind: Pod\nx: &s {runAsUser: 1}\nspec:\n  securityContext: *s\n  containers: [{name: a}]\n---\nkind: Pod\n"
	for _, seed := range []string{small, "a: 1\n---\nb: *x\n", "--- |\n x\n---\n- a\n", "kind: List\nitems:\n- kind: Pod\n  spec: {containers: [{name: b, securityContext: {runAsUser: \"x\"}}]}\n...\n---\n"} {
		f.Add(seed, small)
	}
	path := filepath.Join(f.TempDir(), "m.yaml")
	f.Fuzz(func(t *testing.T, src, before string) {
		defer diagtest.FuzzGuard()()
		_, table := parse(path, before, nil, parseCached, nil)
		c, _ := parse(path, src, nil, parseCached, table)
		cached := settle(c)
		fresh := settle(parseFresh(path, src))
		if !reflect.DeepEqual(cached, fresh) {
			t.Fatalf("cached parse differs from a fresh one")
		}
		w, _ := parse(path, src, nil, parseWhole, nil)
		whole := settle(w)
		seen := map[*yaml.Node]bool{}
		for _, d := range append(append([]*yaml.Node(nil), fresh.Docs...), whole.Docs...) {
			stripComments(d, seen)
		}
		if !reflect.DeepEqual(whole, fresh) {
			t.Fatalf("chunked parse differs from the whole stream's")
		}
	})
}

// TestVersionsDiagnosedConcurrently diagnoses versions that share chunks, workloads and their
// kept findings from several goroutines at once (run with -race), and checks each result
// against the same text diagnosed alone under another path.
func TestVersionsDiagnosedConcurrently(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.yaml")
	s := testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{})
	src := kubetest.Generate(300)
	var snaps []*diagnostics.Snapshot
	var texts []string
	for i := 0; i < 8; i++ {
		s = s.WithFile(path, int32(i), "yaml", src)
		snaps, texts = append(snaps, s), append(texts, src)
		// Versions differ in one document, some by a line.
		at := strings.Index(src, fmt.Sprintf("web-%d", i)) + 5
		src = src[:at] + "\n  # edit" + src[at:]
	}
	got := make([][]diagnostics.Finding, 2*len(snaps))
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = snaps[i/2].Diagnose(context.Background(), path)
		}()
	}
	wg.Wait()
	for i := range got {
		src := texts[i/2]
		alone := filepath.Join(dir, fmt.Sprint("alone", i/2), "m.yaml")
		want := testEngine(t).NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(alone, 1, "yaml", src).Diagnose(context.Background(), alone)
		if len(got[i]) == 0 || len(got[i]) != len(want) {
			t.Fatalf("version %d: %d findings, %d alone", i, len(got[i]), len(want))
		}
		for j := range want {
			if g, w := got[i][j], want[j]; g.RuleID != w.RuleID || g.Range != w.Range || g.Message != w.Message {
				t.Fatalf("version %d: finding %d is %v, alone %v", i, j, g, w)
			}
		}
	}
}

// parseFresh parses by chunks without reusing any.
func parseFresh(path, src string) *Manifest {
	m, _ := parse(path, src, nil, parseChunks, nil)
	return m
}
