package kube

import (
	"errors"
	"io"
	"strings"

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
// documents (the chunk then fails to decode). A chunk that fails to decode is decoded again
// after as many line breaks as precede it, so its error is the one the stream decoder stops
// at, word for word; the model ends there, as the stream decoder's does. When that error is an
// unknown anchor, the file has a directive (%YAML, %TAG), a line break other than LF and CRLF
// or too many documents, the whole text goes through the stream decoder instead.

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

// chunkTable is the chunks of a parse by their text, kept with its model (see ForFile) for
// the parse of the document's next version.
type chunkTable map[string]*chunk

// parseChunked builds the model chunk by chunk, reusing the chunks of prev (the table of the
// previous version's parse, or nil); false when the text must be decoded whole. It returns
// the table the next version starts from.
func (m *Manifest) parseChunked(src string, prev chunkTable) (bool, chunkTable) {
	texts, lines, ok := splitDocuments(src)
	if !ok {
		return false, nil
	}
	starts := make([]int, len(texts))
	for i := 1; i < len(texts); i++ {
		starts[i] = starts[i-1] + len(texts[i-1])
	}
	next := make(chunkTable, len(texts))
	chunks := make([]*chunk, 0, len(texts))
	docs := 0
	var failed error // the error the stream decoder stops at
	for i, t := range texts {
		old := next[t]
		if old == nil {
			old = prev[t]
		}
		if old != nil && old.templated != m.Templated {
			old = nil
		}
		c, err := m.placeChunk(old, t, lines[i], docs)
		if err != nil {
			end := -1
			if i+1 < len(lines) {
				end = lines[i+1]
			}
			// Decode from this chunk or, when that yields no document before the error, from
			// an earlier one: the stream decoder looks a few tokens ahead, so an error just
			// past a "---" also fails the document before it (and documents with no tokens
			// between do not stop the look-ahead).
			for j := i; ; j-- {
				doc := docs
				if j < i {
					doc = chunks[j].doc
				}
				c, failed = m.failedChunk(src[starts[j]:], lines[j], end, doc)
				if c == nil {
					return false, nil
				}
				if len(c.docs) > 0 || j == 0 {
					docs, chunks = doc, chunks[:j]
					break
				}
			}
		}
		if docs += len(c.docs); docs >= maxDocuments {
			return false, nil // the stream decoder reports the limit
		}
		chunks = append(chunks, c)
		if failed != nil {
			break // the stream decoder reads no further
		}
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
	reportFailed := failed != nil && !m.Templated
	if reportFailed {
		nProb++
	}
	if nProb > 0 {
		m.Problems = make([]diagnostics.Problem, 0, nProb)
	}
	if reportFailed {
		m.yamlError(failed) // first, as the stream decoder reports it before the documents' problems
	}
	for _, c := range chunks {
		m.Docs = append(m.Docs, c.docs...)
		m.Objects = append(m.Objects, c.objects...)
		m.Workloads = append(m.Workloads, c.workloads...)
		m.Problems = append(m.Problems, c.problems...)
	}
	if failed != nil {
		// After an error the previous table stays: the chunks past the error come back when
		// it is fixed.
		return true, prev
	}
	return true, next
}

// placeChunk returns the chunk of text t at the given line and document index: old itself
// when it is already there, else old's nodes moved there, else t decoded afresh. The error is
// t's decoding error.
func (m *Manifest) placeChunk(old *chunk, t string, line, doc int) (*chunk, error) {
	if old != nil && old.line == line && old.doc == doc {
		return old, nil
	}
	c := &chunk{line: line, doc: doc, templated: m.Templated}
	if old != nil {
		if docs, ok := shiftedDocs(old.docs, line-old.line); ok {
			c.docs = docs
			c.build(m, old.workloads)
			return c, nil
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(t))
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if line != 0 {
			shiftInPlace(&d, line)
		}
		c.docs = append(c.docs, &d)
	}
	c.build(m, nil)
	return c, nil
}

// failedChunk decodes the rest of the text from a chunk's start (a chunk that does not decode
// on its own, or one before it) the way the stream decoder meets it: after as many line breaks
// as lines precede it, so that the error names the same line, and followed by the rest of the
// text, so that a quote or bracket left open meets the next "---" as it does there. It keeps
// the documents before the error. end is the line the chunk after the failing one starts at
// (-1 when none). It returns nil when the failure is not the stream decoder's: an alias to an
// anchor of a document before the chunk, no error at all, or none in the failing chunk.
func (m *Manifest) failedChunk(rest string, line, end, doc int) (*chunk, error) {
	dec := yaml.NewDecoder(io.MultiReader(strings.NewReader(strings.Repeat("\n", line)), strings.NewReader(rest)))
	c := &chunk{line: line, doc: doc, templated: m.Templated}
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) || (err != nil && strings.Contains(err.Error(), "unknown anchor")) || (err == nil && end >= 0 && d.Line > end) {
			return nil, nil
		}
		if err != nil {
			c.build(m, nil)
			return c, err
		}
		c.docs = append(c.docs, &d)
	}
}

// build builds the model of the chunk's documents, taking over the typed specs of reuse (the
// workloads the same text built before, in order).
func (c *chunk) build(m *Manifest, reuse []*Workload) {
	cm := &Manifest{Path: m.Path, Lines: m.Lines, Templated: m.Templated, reuse: reuse}
	for i, d := range c.docs {
		cm.document(d, c.doc+i)
	}
	c.objects, c.workloads, c.problems = cm.Objects, cm.Workloads, cm.Problems
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
