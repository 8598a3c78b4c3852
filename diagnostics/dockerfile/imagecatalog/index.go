package imagecatalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Index is a catalog indexed by repository, for lookups.
//
// The embedded catalog's index is built without decoding the catalog: every entry is one
// line of catalog.json, the index maps each repository to its lines, and a repository's
// lines are decoded on its first lookup. A workspace names a few dozen repositories of the
// catalog's hundreds, so loading costs a scan of the file, not a decode of all of it (the
// tests decode and check every entry).
type Index struct {
	repos map[string]*repoIndex // by repository, and by namespace + "/*"
	// patterns are the repository patterns by their first element, each with its entries.
	patterns map[string][]*repoPattern

	src     []byte         // the catalog text of a lazy index
	mu      sync.Mutex     // guards decoded
	decoded map[int]*Entry // the entries decoded so far, by their line's offset in src
}

type repoPattern struct {
	pattern string
	ri      *repoIndex
}

type repoIndex struct {
	once    sync.Once
	lines   []int    // a lazy index: the offsets of the repository's entry lines, in file order
	entries []*Entry // the repository's entries, in catalog order (filled from lines on first use)

	byTag    map[string]*Entry
	patterns []*Entry // in catalog order
	def      *Entry
	first    *Entry
	// uniform is set when every entry of the repository has the same user.
	uniform bool
}

// NewIndex indexes a catalog (checked with Validate) for lookups.
func NewIndex(c *Catalog) *Index {
	ix := &Index{}
	for _, e := range c.Images {
		ix.add(e.Repositories, e.Namespaces, e.RepoPatterns, func(ri *repoIndex) { ri.entries = append(ri.entries, e) })
	}
	return ix
}

// add files an entry (or an entry line) under its repositories, namespaces and patterns.
func (ix *Index) add(repos, namespaces, patterns []string, put func(*repoIndex)) {
	if ix.repos == nil {
		ix.repos, ix.patterns = map[string]*repoIndex{}, map[string][]*repoPattern{}
	}
	get := func(key string) *repoIndex {
		ri := ix.repos[key]
		if ri == nil {
			ri = &repoIndex{}
			ix.repos[key] = ri
		}
		return ri
	}
	for _, r := range repos {
		put(get(r))
	}
	for _, n := range namespaces {
		put(get(n + "/*"))
	}
	for _, p := range patterns {
		var ri *repoIndex
		first, _, _ := strings.Cut(p, "/")
		for _, rp := range ix.patterns[first] {
			if rp.pattern == p {
				ri = rp.ri
			}
		}
		if ri == nil {
			ri = &repoIndex{}
			ix.patterns[first] = append(ix.patterns[first], &repoPattern{p, ri})
		}
		put(ri)
	}
}

// ready returns ri with its entries decoded and indexed by tag.
func (ix *Index) ready(ri *repoIndex) *repoIndex {
	ri.once.Do(func() {
		for _, off := range ri.lines {
			if e := ix.entryAt(off); e != nil {
				ri.entries = append(ri.entries, e)
			}
		}
		ri.lines = nil
		ri.byTag = map[string]*Entry{}
		for _, e := range ri.entries {
			if ri.first == nil {
				ri.first, ri.uniform = e, true
			} else if !ri.first.User.Equal(e.User) {
				ri.uniform = false
			}
			for _, t := range e.Tags {
				if ri.byTag[t] == nil {
					ri.byTag[t] = e
				}
			}
			if len(e.TagPatterns) > 0 {
				ri.patterns = append(ri.patterns, e)
			}
			if e.Default {
				ri.def = e
			}
		}
	})
	return ri
}

// entryAt decodes the entry line at offset off of a lazy index's text, once (an entry that
// answers for several repositories is one value). A line that does not decode is no entry:
// the package's tests decode every line strictly, so this does not happen to the embedded
// catalog.
func (ix *Index) entryAt(off int) *Entry {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if e, ok := ix.decoded[off]; ok {
		return e
	}
	var e *Entry
	if err := json.Unmarshal(entryLine(ix.src, off), &e); err != nil {
		e = nil
	}
	ix.decoded[off] = e
	return e
}

// entryLine is the line of text at off, without its end and trailing comma.
func entryLine(src []byte, off int) []byte {
	line := src[off:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, "\r")
	return bytes.TrimSuffix(line, []byte(","))
}

const catalogHeader = `{"version":1,"images":[`

// lazyIndex indexes catalog text as the generator writes it (the header line, one entry a
// line, "]}") by reading only the repository keys each line starts with.
func lazyIndex(src []byte) (*Index, error) {
	ix := &Index{src: src, decoded: map[int]*Entry{}}
	rest, off := src, 0
	next := func() []byte {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		off += len(line) + 1
		return bytes.TrimRight(line, "\r")
	}
	if h := next(); string(h) != catalogHeader {
		return nil, errors.New("catalog.json does not start with " + catalogHeader)
	}
	closed := false
	for len(rest) > 0 {
		start := off
		line := next()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if string(line) == "]}" {
			closed = true
			break
		}
		repos, namespaces, patterns, err := lineKeys(line)
		if err != nil {
			return nil, fmt.Errorf("catalog.json line %d: %v", bytes.Count(src[:start], []byte("\n"))+1, err)
		}
		ix.add(repos, namespaces, patterns, func(ri *repoIndex) { ri.lines = append(ri.lines, start) })
	}
	if !closed {
		return nil, errors.New("catalog.json does not end with ]}")
	}
	return ix, nil
}

// lineKeys reads the repositories, namespaces and repository patterns of an entry line. The
// generator writes them first ({"repos":["a","b"],"namespaces":[…],…}) and they hold no
// escapes; any other shape is decoded as JSON.
func lineKeys(line []byte) (repos, namespaces, patterns []string, err error) {
	p := line
	ok := len(p) > 0 && p[0] == '{'
	if ok {
		p = p[1:]
	}
	found := false
	for ok {
		var dst *[]string
		switch {
		case bytes.HasPrefix(p, []byte(`"repos":[`)):
			dst = &repos
		case bytes.HasPrefix(p, []byte(`"namespaces":[`)):
			dst = &namespaces
		case bytes.HasPrefix(p, []byte(`"repoPatterns":[`)):
			dst = &patterns
		}
		if dst == nil {
			break
		}
		p = p[bytes.IndexByte(p, '[')+1:]
		for ok && len(p) > 0 && p[0] != ']' {
			end := bytes.IndexByte(p[min(1, len(p)):], '"') + 1
			if p[0] != '"' || end <= 0 || bytes.IndexByte(p[:end], '\\') >= 0 {
				ok = false
				break
			}
			*dst = append(*dst, string(p[1:end]))
			p = p[end+1:]
			if len(p) > 0 && p[0] == ',' {
				p = p[1:]
			}
		}
		if !ok || len(p) < 2 || p[0] != ']' {
			ok = false
			break
		}
		found = true
		p = p[1:]
		if p[0] == ',' {
			p = p[1:]
		}
	}
	if ok && found {
		return repos, namespaces, patterns, nil
	}
	var keys struct {
		Repositories []string `json:"repos"`
		Namespaces   []string `json:"namespaces"`
		RepoPatterns []string `json:"repoPatterns"`
	}
	if err := json.Unmarshal(bytes.TrimSuffix(line, []byte(",")), &keys); err != nil {
		return nil, nil, nil, err
	}
	if len(keys.Repositories)+len(keys.Namespaces)+len(keys.RepoPatterns) == 0 {
		return nil, nil, nil, errors.New("an entry with no repository")
	}
	return keys.Repositories, keys.Namespaces, keys.RepoPatterns, nil
}

var load = sync.OnceValues(func() (*Index, error) {
	ix, err := lazyIndex(catalogJSON)
	if err != nil {
		return nil, fmt.Errorf("imagecatalog: %v", err)
	}
	return ix, nil
})

var full = sync.OnceValues(func() (*Catalog, error) {
	c, err := Decode(bytes.NewReader(catalogJSON))
	if err != nil {
		return nil, fmt.Errorf("imagecatalog: catalog.json: %v", err)
	}
	return c, nil
})

// Load returns the embedded catalog, decoded strictly and checked (Validate) on first use,
// for the tests and the generator; lookups do not need it (see Index). An error means the
// embedded file is broken: the package's tests fail first.
func Load() (*Catalog, error) { return full() }
