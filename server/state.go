package server

import (
	"maps"
	"net/url"
	"path"
	"path/filepath"
	"slices"

	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// state is everything the server knows, as one immutable value: the engine snapshot, the
// open documents, the client's workspace folders and settings. A change builds a new state
// (copy-on-write); a request keeps the state it started with.
type state struct {
	snap     *diagnostics.Snapshot
	docs     map[string]*document // open documents by clean absolute path
	folders  []string             // workspace folders from the client
	settings diagnostics.Config   // editor settings (section "nonroot")
	roots    []string             // the snapshot's roots: folders + dirs of documents outside them
	// seq numbers the changes; the publisher uses it to skip superseded work.
	seq uint64
}

// document is one open editor document: the only per-document state the server keeps.
type document struct {
	uri        uri.URI // as the client sent it (published back verbatim)
	path       string  // clean absolute path (a virtual one for non-file URIs)
	languageID string
	version    int32
	text       string // the same string as the snapshot's File.Text (its Lines are memoised there)
}

func newDocument(u uri.URI, languageID string, version int32, content string) *document {
	return &document{uri: u, path: uriPath(u), languageID: languageID, version: version, text: content}
}

func newState(e *diagnostics.Engine) *state {
	return &state{snap: e.NewSnapshot(nil, diagnostics.Config{}), docs: map[string]*document{}}
}

// clone returns a shallow copy with its own docs map and a new sequence number.
func (st *state) clone() *state {
	n := *st
	n.docs = maps.Clone(st.docs)
	n.seq++
	return &n
}

// withDoc returns a state in which d is open with its text.
func (st *state) withDoc(d *document) *state {
	n := st.clone()
	n.docs[d.path] = d
	n.snap = n.snap.WithFile(d.path, d.version, d.languageID, d.text)
	return n.withRoots()
}

// withoutDoc returns a state in which path is closed.
func (st *state) withoutDoc(path string) *state {
	n := st.clone()
	delete(n.docs, path)
	n.snap = n.snap.WithoutFile(path)
	return n.withRoots()
}

// withRoots recomputes the snapshot's roots: the workspace folders, plus the directory of
// each open document that lies outside every folder. It keeps the snapshot when unchanged.
func (st *state) withRoots() *state {
	roots := slices.Clone(st.folders)
	for _, p := range slices.Sorted(maps.Keys(st.docs)) {
		if !inAny(roots, p) {
			roots = append(roots, filepath.Dir(p))
		}
	}
	if !slices.Equal(roots, st.roots) {
		st.roots = roots
		st.snap = st.snap.WithRoots(roots)
	}
	return st
}

// doc returns the open document at path, or nil.
func (st *state) doc(path string) *document { return st.docs[path] }

// uriFor returns the URI to use for path: the client's own URI when it is open.
func (st *state) uriFor(p string) uri.URI {
	if d := st.docs[p]; d != nil {
		return d.uri
	}
	return uri.File(p)
}

// linesFor returns the line index of path (open document or disk), or nil.
func (st *state) linesFor(p string) *text.Lines {
	if f, err := st.snap.File(p); err == nil {
		return f.Lines()
	}
	return nil
}

// openPaths returns the open documents' paths, sorted.
func (st *state) openPaths() []string { return slices.Sorted(maps.Keys(st.docs)) }

func inAny(roots []string, p string) bool {
	for _, r := range roots {
		if rel, err := filepath.Rel(r, p); err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// uriPath maps a document URI to the engine's path: the file path for file: URIs, and a
// virtual absolute path for other schemes (untitled:, …) so the document is still checked.
func uriPath(u uri.URI) string {
	if u.IsFile() {
		return filepath.Clean(u.FsPath())
	}
	p := u.Path()
	if p == "" {
		p = url.PathEscape(string(u))
	}
	return filepath.FromSlash(path.Join("/", "nonroot-ls-virtual", u.Scheme(), p))
}
