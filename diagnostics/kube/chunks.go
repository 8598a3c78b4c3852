package kube

import (
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	yaml "go.yaml.in/yaml/v3"
)

// Editing a manifest changes one document at a time, yet yaml.v3 reads the whole stream. So
// Parse cuts the text into chunks before each line that starts a document ("---" at column
// 0: YAML ends any scalar or collection there), decodes each chunk on its own and builds its
// part of the model. The chunks of the last parse of each recently parsed path are kept; a
// chunk whose text comes back is reused as it is when it starts at the same line and document
// index, else its nodes are copied to their new lines and its model rebuilt around them,
// taking over the typed pod specs and PSA verdicts (they do not depend on positions).
//
// A chunk decodes exactly as its documents do inside the whole stream, except for comments
// on the document boundaries (which no rule reads) and for aliases to anchors of earlier
// documents (the chunk then fails to decode). Whenever a chunk fails to decode, the file has
// a directive (%YAML, %TAG) or too many documents, the whole text goes through the stream
// decoder instead, so errors are exactly yaml.v3's.

// chunk is one chunk's part of the model, placed at a line and document index.
type chunk struct {
	line      int // 0-based line of the chunk's first line in the file
	doc       int // index of its first document in the file
	templated bool
	docs      []*yaml.Node // absolute lines
	objects   []*Object
	workloads []*Workload
	problems  []diagnostics.Problem
}

// chunkTables keeps, per path, the chunks of its last parse (a bounded number of paths).
var chunkTables = struct {
	sync.Mutex
	byPath map[string]map[string]*chunk
	order  []string // least recently parsed first
}{byPath: map[string]map[string]*chunk{}}

// maxChunkTables bounds the paths whose chunks are kept.
const maxChunkTables = 16

func lastChunks(path string) map[string]*chunk {
	chunkTables.Lock()
	defer chunkTables.Unlock()
	return chunkTables.byPath[path]
}

func keepChunks(path string, t map[string]*chunk) {
	chunkTables.Lock()
	defer chunkTables.Unlock()
	if _, ok := chunkTables.byPath[path]; ok {
		for i, p := range chunkTables.order {
			if p == path {
				chunkTables.order = append(chunkTables.order[:i], chunkTables.order[i+1:]...)
				break
			}
		}
	} else if len(chunkTables.order) >= maxChunkTables {
		delete(chunkTables.byPath, chunkTables.order[0])
		chunkTables.order = chunkTables.order[1:]
	}
	chunkTables.byPath[path] = t
	chunkTables.order = append(chunkTables.order, path)
}

// parseChunked builds the model chunk by chunk, reusing the chunks of the path's last parse
// when cached; false when the text must be decoded whole.
func (m *Manifest) parseChunked(src string, cached bool) bool {
	texts, lines, ok := splitDocuments(src)
	if !ok {
		return false
	}
	var prev map[string]*chunk
	if cached {
		prev = lastChunks(m.Path)
	}
	next := make(map[string]*chunk, len(texts))
	chunks := make([]*chunk, len(texts))
	docs := 0
	for i, t := range texts {
		old := next[t]
		if old == nil {
			old = prev[t]
		}
		if old != nil && old.templated != m.Templated {
			old = nil
		}
		c, ok := m.placeChunk(old, t, lines[i], docs)
		if !ok {
			return false
		}
		if docs += len(c.docs); docs >= maxDocuments {
			return false // the stream decoder reports the limit
		}
		chunks[i] = c
		next[t] = c
	}
	nObj, nWl, nProb := 0, 0, 0
	for _, c := range chunks {
		nObj, nWl, nProb = nObj+len(c.objects), nWl+len(c.workloads), nProb+len(c.problems)
	}
	// Nil when empty, as the stream decoder leaves them.
	if docs > 0 {
		m.Docs = make([]*yaml.Node, 0, docs)
	}
	if nObj > 0 {
		m.Objects = make([]*Object, 0, nObj)
	}
	if nWl > 0 {
		m.Workloads = make([]*Workload, 0, nWl)
	}
	if nProb > 0 {
		m.Problems = make([]diagnostics.Problem, 0, nProb)
	}
	for _, c := range chunks {
		m.Docs = append(m.Docs, c.docs...)
		m.Objects = append(m.Objects, c.objects...)
		m.Workloads = append(m.Workloads, c.workloads...)
		m.Problems = append(m.Problems, c.problems...)
	}
	if cached {
		keepChunks(m.Path, next)
	}
	return true
}

// placeChunk returns the chunk of text t at the given line and document index: old itself
// when it is already there, else old's nodes moved there, else t decoded afresh. ok is false
// when t does not decode.
func (m *Manifest) placeChunk(old *chunk, t string, line, doc int) (*chunk, bool) {
	if old != nil && old.line == line && old.doc == doc {
		return old, true
	}
	c := &chunk{line: line, doc: doc, templated: m.Templated}
	var reuse []*Workload
	moved := false
	if old != nil {
		if docs, ok := shiftedDocs(old.docs, line-old.line); ok {
			c.docs, reuse, moved = docs, old.workloads, true
		}
	}
	if !moved {
		dec := yaml.NewDecoder(strings.NewReader(t))
		for {
			var d yaml.Node
			err := dec.Decode(&d)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, false
			}
			if line != 0 {
				shiftInPlace(&d, line)
			}
			c.docs = append(c.docs, &d)
		}
	}
	cm := &Manifest{Path: m.Path, Lines: m.Lines, Templated: m.Templated, reuse: reuse}
	for i, d := range c.docs {
		cm.document(d, doc+i)
	}
	c.objects, c.workloads, c.problems = cm.Objects, cm.Workloads, cm.Problems
	return c, true
}

// splitDocuments cuts src before each line that starts with "---" followed by a blank or the
// end of the line; lines are the 0-based line numbers the chunks start at. ok is false when
// a line starts with a directive ('%'), whose scope crosses the cut, or when the text has a
// line break other than "\n" and "\r\n" (YAML also breaks lines at a lone "\r", NEL, LS
// and PS, which would move the cuts and the lines).
func splitDocuments(src string) (chunks []string, lines []int, ok bool) {
	if strings.Contains(src, "\u0085") || strings.Contains(src, "\u2028") || strings.Contains(src, "\u2029") {
		return nil, nil, false
	}
	for i := strings.IndexByte(src, '\r'); i >= 0; {
		if i+1 == len(src) || src[i+1] != '\n' {
			return nil, nil, false
		}
		j := strings.IndexByte(src[i+1:], '\r')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	start, startLine := 0, 0
	line := 0
	for p := 0; p < len(src); line++ {
		next := len(src)
		if i := strings.IndexByte(src[p:], '\n'); i >= 0 {
			next = p + i + 1
		}
		l := src[p:next]
		if p == 0 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		if strings.HasPrefix(l, "%") {
			return nil, nil, false
		}
		if p > 0 && strings.HasPrefix(l, "---") && (len(l) == 3 || strings.IndexByte(" \t\r\n", l[3]) >= 0) {
			chunks = append(chunks, src[start:p])
			lines = append(lines, startLine)
			start, startLine = p, line
		}
		p = next
	}
	chunks = append(chunks, src[start:])
	lines = append(lines, startLine)
	return chunks, lines, true
}

// shiftInPlace moves the lines of a freshly decoded tree (each node is reached once through
// Content; aliases are not followed).
func shiftInPlace(n *yaml.Node, delta int) {
	n.Line += delta
	for _, c := range n.Content {
		shiftInPlace(c, delta)
	}
}

// shiftedDocs copies documents with their lines moved by delta; aliases point into the copy.
// ok is false when an alias points outside the copied trees (never for a decoded chunk).
func shiftedDocs(docs []*yaml.Node, delta int) ([]*yaml.Node, bool) {
	if delta == 0 {
		return docs, true
	}
	count := 0
	for _, d := range docs {
		count += countNodes(d)
	}
	s := &shifter{slab: make([]yaml.Node, count), delta: delta}
	out := make([]*yaml.Node, len(docs))
	for i, d := range docs {
		out[i] = s.copy(d)
	}
	return out, s.ok()
}

func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

type shifter struct {
	slab    []yaml.Node
	delta   int
	anchors map[*yaml.Node]*yaml.Node // anchored node → its copy
	aliases []*yaml.Node              // copied aliases, still pointing at the originals
}

func (s *shifter) copy(n *yaml.Node) *yaml.Node {
	c := &s.slab[0]
	s.slab = s.slab[1:]
	*c = *n
	c.Line += s.delta
	if n.Anchor != "" {
		if s.anchors == nil {
			s.anchors = map[*yaml.Node]*yaml.Node{}
		}
		s.anchors[n] = c
	}
	if n.Kind == yaml.AliasNode {
		s.aliases = append(s.aliases, c)
	}
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = s.copy(k)
		}
	}
	return c
}

// ok points the copied aliases at the copies of their anchors.
func (s *shifter) ok() bool {
	for _, a := range s.aliases {
		if a.Alias == nil {
			continue
		}
		to := s.anchors[a.Alias]
		if to == nil {
			return false
		}
		a.Alias = to
	}
	return true
}
