package dockerfile

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Editing a Dockerfile changes one stage at a time, yet BuildKit's parser reads the whole
// file. To keep the edit path fast, a file without heredocs or an escape directive is cut
// into chunks at the FROM lines that start an instruction, and each chunk is parsed on its
// own (BuildKit's nodes and typed instructions); a chunk the previous version of the
// document also had keeps its parse (see reuse.go), and in a chunk that changed, an
// instruction whose lines the previous version's chunk had keeps its node, so only the
// instructions an edit touched go through BuildKit's parser. A chunk or instruction that
// does not parse on its own sends the whole file through BuildKit's parser, so errors are
// exactly BuildKit's.

type parsedNode struct {
	node   *parser.Node // lines relative to the chunk
	parsed any
	err    error
}

// chunkResult is the parse of one chunk: immutable once built, shared by the models of
// successive versions that contain the chunk.
type chunkResult struct {
	nodes []parsedNode
	ok    bool
	// placed is the chunk's nodes with absolute lines for the offset it was last seen at:
	// an edit elsewhere that keeps the line count leaves most chunks where they were, and
	// their nodes (immutable, like the typed instructions already shared) are reused.
	placed atomic.Pointer[placedNodes]
	// spans are the chunk's instructions as splitInstructions reads them, once needed.
	spansOnce sync.Once
	spans     []span
}

type placedNodes struct {
	offset int
	nodes  []*parser.Node
}

// at returns the chunk's nodes with lines shifted by offset.
func (res *chunkResult) at(offset int) []*parser.Node {
	if p := res.placed.Load(); p != nil && p.offset == offset {
		return p.nodes
	}
	copies := make([]parser.Node, len(res.nodes))
	nodes := make([]*parser.Node, len(res.nodes))
	for i, pn := range res.nodes {
		n := &copies[i]
		*n = *pn.node
		n.StartLine += offset
		n.EndLine += offset
		nodes[i] = n
	}
	res.placed.Store(&placedNodes{offset: offset, nodes: nodes})
	return nodes
}

// parsedFile is the file's instructions, in parts (the chunks, or the whole file).
type parsedFile struct {
	parts []filePart
	n     int // instructions
	// chunks and texts are the chunks' parses and texts (nil when the file was parsed whole).
	chunks []*chunkResult
	texts  []string
}

// filePart is instructions with absolute lines, and their typed instructions and errors.
type filePart struct {
	nodes  []*parser.Node
	parsed []parsedNode // their node is not read
}

// parseChunked parses src chunk by chunk, reusing the parses of the chunks prev (the model of
// the document's previous version, or nil) also had; ok is false when the file must be
// parsed whole.
func parseChunked(src string, prev *Model) (pf parsedFile, ok bool) {
	if strings.Contains(src, "<<") {
		return pf, false
	}
	chunks, offsets, ok := splitChunks(src)
	if !ok {
		return pf, false
	}
	var old []string
	if prev != nil {
		old = prev.chunkTexts
	}
	shift := len(old) - len(chunks) // where the chunks after an added or removed one were
	results := make([]*chunkResult, len(chunks))
	n := 0
	for i, c := range chunks {
		var res *chunkResult
		var near []int // the previous chunks at the same place
		for _, j := range [2]int{i, i + shift} {
			if j < 0 || j >= len(old) || slices.Contains(near, j) {
				continue
			}
			if old[j] == c {
				res = prev.chunks[j]
				break
			}
			near = append(near, j)
		}
		if res == nil {
			res = parseChunkReusing(c, i == 0, prev, near)
		}
		if !res.ok {
			return parsedFile{}, false
		}
		results[i] = res
		n += len(res.nodes)
	}
	pf.parts = make([]filePart, len(results))
	for i, res := range results {
		pf.parts[i] = filePart{nodes: res.at(offsets[i]), parsed: res.nodes}
	}
	pf.n, pf.chunks, pf.texts = n, results, chunks
	return pf, true
}

func parseChunk(c string) *chunkResult {
	res := &chunkResult{}
	r, err := parser.Parse(strings.NewReader(c))
	switch {
	case err != nil && strings.Contains(err.Error(), "file with no instructions"):
		res.ok = true
	case err != nil || r == nil || r.AST == nil || r.EscapeToken != parser.DefaultEscapeToken:
	default:
		res.ok = true
		for _, n := range r.AST.Children {
			p, perr := parseInstruction(n)
			res.nodes = append(res.nodes, parsedNode{node: n, parsed: p, err: perr})
		}
	}
	return res
}

// parseChunkReusing parses chunk c, taking the node of each instruction whose lines one of
// the previous model's chunks near had from that chunk's parse, and parsing the others one
// by one. The file's first chunk (first) may start with parser directives: it reuses only
// the first previous chunk, and only when the comment lines before its first instruction
// are the same.
func parseChunkReusing(c string, first bool, prev *Model, near []int) *chunkResult {
	type oldNode struct {
		pn   parsedNode
		line int // the instruction's first line in its chunk
	}
	spans := splitInstructions(c)
	known := map[string]oldNode{}
	for _, j := range near {
		oc, otext := prev.chunks[j], prev.chunkTexts[j]
		old := oc.instructions(otext)
		if !covers(old, oc.nodes) {
			continue // BuildKit read other instructions: nothing to match them with
		}
		if first && (j != 0 || head(c, spans) != head(otext, old)) {
			continue
		}
		for k, sp := range old {
			if t := otext[sp.at:sp.end]; !strings.HasPrefix(t, bom) {
				known[t] = oldNode{oc.nodes[k], sp.line}
			}
		}
	}
	if len(known) == 0 {
		return parseChunk(c)
	}
	res := &chunkResult{ok: true, nodes: make([]parsedNode, len(spans))}
	res.spansOnce.Do(func() { res.spans = spans })
	var copies []parser.Node
	for k, sp := range spans {
		t := c[sp.at:sp.end]
		if o, ok := known[t]; ok {
			if o.line == sp.line {
				res.nodes[k] = o.pn // the same lines at the same place in the chunk: the same node
				continue
			}
			if copies == nil {
				copies = make([]parser.Node, len(spans))
			}
			n := &copies[k]
			*n = *o.pn.node
			n.StartLine += sp.line - o.line
			n.EndLine += sp.line - o.line
			res.nodes[k] = parsedNode{node: n, parsed: o.pn.parsed, err: o.pn.err}
			continue
		}
		if strings.HasPrefix(t, bom) {
			return parseChunk(c) // BuildKit drops a byte order mark only at the start of what it parses
		}
		one := parseChunk(t)
		if !one.ok || !covers([]span{{0, len(t), 0, sp.last - sp.line}}, one.nodes) {
			return parseChunk(c) // BuildKit reads these lines otherwise: parse the chunk as a whole
		}
		pn := one.nodes[0]
		pn.node.StartLine += sp.line
		pn.node.EndLine += sp.line
		res.nodes[k] = pn
	}
	return res
}

// instructions returns the spans of the instructions of the chunk, whose text is c.
func (res *chunkResult) instructions(c string) []span {
	res.spansOnce.Do(func() { res.spans = splitInstructions(c) })
	return res.spans
}

const bom = "\xef\xbb\xbf"

// covers reports whether BuildKit read the spans as the nodes: one node per span, on exactly
// the span's lines.
func covers(spans []span, nodes []parsedNode) bool {
	if len(spans) != len(nodes) {
		return false
	}
	for k, sp := range spans {
		if n := nodes[k].node; n.StartLine != sp.line+1 || n.EndLine != sp.last+1 {
			return false
		}
	}
	return true
}

// span is the lines of one instruction of a chunk: its byte offsets and first and last lines
// in the chunk.
type span struct {
	at, end    int
	line, last int
}

// head returns the text of chunk c before its first instruction.
func head(c string, spans []span) string {
	if len(spans) == 0 {
		return c
	}
	return c[:spans[0].at]
}

// scanLine reads the line of src that starts at p: next is where the following one starts,
// t the line from its first non-blank to its end (without "\r" and "\n"), and cont reports
// whether it ends with a backslash (before trailing blanks), continuing an instruction.
func scanLine(src string, p int) (next int, t string, cont bool) {
	next = len(src)
	if i := strings.IndexByte(src[p:], '\n'); i >= 0 {
		next = p + i + 1
	}
	e := next
	for e > p && (src[e-1] == '\n' || src[e-1] == '\r') {
		e--
	}
	b := p
	for b < e && (src[b] == ' ' || src[b] == '\t') {
		b++
	}
	r := e
	for r > b && (src[r-1] == ' ' || src[r-1] == '\t') {
		r--
	}
	return next, src[b:e], r > b && src[r-1] == '\\'
}

// splitInstructions cuts a chunk into its instructions, as splitChunks reads lines: each
// span runs from an instruction's first line to its last (with the comment and blank lines
// inside a continuation); the blank and comment lines between instructions are in none.
func splitInstructions(c string) []span {
	out := make([]span, 0, strings.Count(c, "\n")+1)
	cur := span{at: -1}
	inInstr := false
	line := 0
	for p := 0; p < len(c); line++ {
		next, t, cont := scanLine(c, p)
		switch {
		case t == "" || t[0] == '#':
		case inInstr:
			inInstr, cur.end, cur.last = cont, next, line
		default:
			if cur.at >= 0 {
				out = append(out, cur)
			}
			cur = span{at: p, end: next, line: line, last: line}
			inInstr = cont
		}
		p = next
	}
	if cur.at >= 0 {
		if inInstr {
			cur.end, cur.last = len(c), line-1 // continued to the end, over any comments
		}
		out = append(out, cur)
	}
	return out
}

// splitChunks cuts src before each FROM that starts an instruction (not inside a
// continuation). A chunk ends after its last instruction line: the blank and comment lines
// that follow it are in no chunk (so a comment typed between two stages changes neither).
// offsets are the number of lines before each chunk.
func splitChunks(src string) (chunks []string, offsets []int, ok bool) {
	start, startLine, line := 0, 0, 0
	end := 0 // end of the chunk's last instruction line
	inInstr, atTop := false, true
	for p := 0; p < len(src); line++ {
		next, t, cont := scanLine(src, p)
		switch {
		case t == "" || t[0] == '#':
			if atTop && t != "" && strings.Contains(strings.ToLower(strings.ReplaceAll(t, " ", "")), "escape=") {
				return nil, nil, false // a different escape token: parse whole
			}
		case inInstr:
			inInstr, end = cont, next
		default:
			atTop = false
			if len(t) > 5 && strings.EqualFold(t[:4], "from") && (t[4] == ' ' || t[4] == '\t') && p > start {
				// Not in a continuation here: the previous instruction ended at end.
				chunks = append(chunks, src[start:max(end, start)])
				offsets = append(offsets, startLine)
				start, startLine = p, line
			}
			inInstr, end = cont, next
		}
		p = next
	}
	if inInstr || end <= start {
		end = len(src) // an instruction continued to the end, or only comments
	}
	chunks = append(chunks, src[start:end])
	offsets = append(offsets, startLine)
	return chunks, offsets, true
}
