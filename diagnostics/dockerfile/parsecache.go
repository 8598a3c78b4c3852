package dockerfile

import (
	"strings"
	"sync/atomic"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Editing a Dockerfile changes one stage at a time, yet BuildKit's parser reads the whole
// file. To keep the edit path fast, a file without heredocs or an escape directive is cut
// into chunks at the FROM lines that start an instruction, and each chunk's parse (BuildKit's
// nodes and typed instructions) is cached by its text. A chunk that does not parse sends the
// whole file through BuildKit's parser, so errors are exactly BuildKit's.

type parsedNode struct {
	node   *parser.Node // lines relative to the chunk
	parsed any
	err    error
}

type chunkResult struct {
	nodes []parsedNode
	ok    bool
	// placed is the chunk's nodes with absolute lines for the offset it was last seen at:
	// an edit elsewhere that keeps the line count leaves most chunks where they were, and
	// their nodes (immutable, like the typed instructions already shared) are reused.
	placed atomic.Pointer[placedNodes]
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

// chunkCache holds the parses of recently seen chunks (bounded: about 2×512 chunks).
var chunkCache = newGenCache[*chunkResult](512)

// parsedFile is the file's instructions with absolute lines.
type parsedFile struct {
	nodes  []*parser.Node
	parsed []any
	errs   []error
}

// parseChunked parses src chunk by chunk; ok is false when the file must be parsed whole.
func parseChunked(src string) (pf parsedFile, ok bool) {
	if strings.Contains(src, "<<") {
		return pf, false
	}
	chunks, offsets, ok := splitChunks(src)
	if !ok {
		return pf, false
	}
	results := make([]*chunkResult, len(chunks))
	n := 0
	for i, c := range chunks {
		res := parseChunk(c)
		if !res.ok {
			return parsedFile{}, false
		}
		results[i] = res
		n += len(res.nodes)
	}
	pf.nodes = make([]*parser.Node, 0, n)
	pf.parsed = make([]any, 0, n)
	pf.errs = make([]error, 0, n)
	for i, res := range results {
		pf.nodes = append(pf.nodes, res.at(offsets[i])...)
		for _, pn := range res.nodes {
			pf.parsed = append(pf.parsed, pn.parsed)
			pf.errs = append(pf.errs, pn.err)
		}
	}
	return pf, true
}

func parseChunk(c string) *chunkResult {
	if res, ok := chunkCache.get(c); ok {
		return res
	}
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
	if len(c) <= 1<<16 {
		chunkCache.put(c, res)
	}
	return res
}

// splitChunks cuts src before each FROM that starts an instruction (not inside a
// continuation). offsets are the number of lines before each chunk.
func splitChunks(src string) (chunks []string, offsets []int, ok bool) {
	start, startLine, line := 0, 0, 0
	inInstr, atTop := false, true
	for p := 0; p < len(src); line++ {
		end := strings.IndexByte(src[p:], '\n')
		next := len(src)
		if end >= 0 {
			next = p + end + 1
		}
		text := strings.TrimRight(src[p:next], "\r\n")
		t := strings.TrimLeft(text, " \t")
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			if atTop && strings.HasPrefix(t, "#") && strings.Contains(strings.ToLower(strings.ReplaceAll(t, " ", "")), "escape=") {
				return nil, nil, false // a different escape token: parse whole
			}
		case inInstr:
			inInstr = strings.HasSuffix(strings.TrimRight(text, " \t"), `\`)
		default:
			atTop = false
			if len(t) > 5 && strings.EqualFold(t[:4], "from") && (t[4] == ' ' || t[4] == '\t') && p > start {
				chunks = append(chunks, src[start:p])
				offsets = append(offsets, startLine)
				start, startLine = p, line
			}
			inInstr = strings.HasSuffix(strings.TrimRight(text, " \t"), `\`)
		}
		p = next
	}
	chunks = append(chunks, src[start:])
	offsets = append(offsets, startLine)
	return chunks, offsets, true
}
