package imagecatalog

import (
	"path"
	"strings"
)

// Match says how a reference matched its entry.
type Match int

const (
	// MatchNone: the reference is not in the catalog (or is not a reference at all).
	MatchNone Match = iota
	// MatchTag: the tag is one of the entry's tags (no tag reads as "latest").
	MatchTag
	// MatchPattern: the tag matched one of the entry's tag patterns.
	MatchPattern
	// MatchDefault: the repository is known but not this tag (or only a digest is given):
	// the entry is the repository's default one, which the tag may not share.
	MatchDefault
)

func (m Match) String() string {
	switch m {
	case MatchTag:
		return "tag"
	case MatchPattern:
		return "pattern"
	case MatchDefault:
		return "default"
	}
	return "none"
}

// Result is the answer to a lookup.
type Result struct {
	Entry *Entry // nil when unknown
	Ref   Ref    // the normalised reference (zero when it is not one)
	Match Match
	// Namespace is set when the entry answers for the repository's namespace ("bitnami/*")
	// or a repository pattern, not for the repository by name.
	Namespace bool
	// UniformUser is set when every entry of the repository has the same user: the user of
	// a tag the catalog does not list (MatchDefault) is then that user too.
	UniformUser bool
}

// Known reports whether the catalog has an entry for the reference.
func (r Result) Known() bool { return r.Entry != nil }

// TagUnknown reports whether the entry is the repository's default because the catalog
// does not list the reference's tag: its facts are the repository's usual ones, not
// necessarily this tag's.
func (r Result) TagUnknown() bool { return r.Match == MatchDefault }

// Lookup finds the catalog entry for an image reference. Unknown repositories, references
// that are not references (`${IMAGE}`, `{{ .Values.image }}`, a digest alone, garbage) and a
// broken embedded catalog all answer a Result with a nil Entry; it never panics. A lookup
// costs a map access or two: the catalog is indexed by repository.
func Lookup(ref string) Result {
	r, ok := Normalize(ref)
	if !ok {
		return Result{}
	}
	ix, err := load()
	if err != nil {
		return Result{Ref: r}
	}
	return ix.LookupRef(r)
}

// Lookup finds the entry for an image reference in the index (see the package's Lookup).
func (ix *Index) Lookup(ref string) Result {
	r, ok := Normalize(ref)
	if !ok {
		return Result{}
	}
	return ix.LookupRef(r)
}

// LookupRef is Lookup for a reference already normalised.
func (ix *Index) LookupRef(r Ref) Result {
	res := Result{Ref: r}
	if ix == nil || r.Repository == "" {
		return res
	}
	ri := ix.repos[r.Repository]
	if ri == nil {
		// A namespace entry: the nearest enclosing namespace ("bitnami" for "bitnami/redis").
		for p := r.Repository; ri == nil; {
			i := strings.LastIndexByte(p, '/')
			if i <= 0 {
				break
			}
			p = p[:i]
			ri = ix.repos[p+"/*"]
		}
		if ri == nil {
			// A repository pattern of the same registry (or first element).
			first, _, _ := strings.Cut(r.Repository, "/")
			for _, rp := range ix.patterns[first] {
				if ok, _ := path.Match(rp.pattern, r.Repository); ok {
					ri = rp.ri
					break
				}
			}
		}
		if ri == nil {
			return res
		}
		res.Namespace = true
	}
	ri = ix.ready(ri)
	res.UniformUser = ri.uniform
	tag := r.Tag
	if tag == "" && r.Digest == "" {
		tag = "latest"
	}
	if tag != "" {
		if e := ri.byTag[tag]; e != nil {
			res.Entry, res.Match = e, MatchTag
			return res
		}
		for _, e := range ri.patterns {
			for _, p := range e.TagPatterns {
				if ok, _ := path.Match(p, tag); ok {
					res.Entry, res.Match = e, MatchPattern
					return res
				}
			}
		}
	}
	if ri.def != nil {
		res.Entry, res.Match = ri.def, MatchDefault
	}
	return res
}
