package workspace

import (
	"path"
	"strings"
)

// Ref is an image reference taken apart (no network: only the text is looked at).
type Ref struct {
	Registry   string // "ghcr.io", "localhost:5000", "" when none is written
	Repository string // path below the registry, lower-case: "acme/web"; Docker Hub's "library/" dropped
	Tag        string
	Digest     string // "sha256:…"
	Local      string // for ko:// and ./ references: the import path or relative folder
}

// ParseRef takes an image reference apart: `[registry[:port]/]path[:tag][@digest]`, also
// `ko://import/path` and `./folder` local references. Docker Hub's implicit names are
// normalised (`docker.io/library/nginx` and `nginx` have the same Repository).
func ParseRef(s string) Ref {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, `"'`)
	var r Ref
	switch {
	case strings.HasPrefix(s, "ko://"):
		r.Local = strings.TrimSuffix(strings.TrimPrefix(s, "ko://"), "/")
		r.Repository = strings.ToLower(r.Local)
		return r
	case s == "." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../"):
		r.Local = strings.TrimSuffix(s, "/")
		return r
	}
	if i := strings.Index(s, "@"); i >= 0 {
		r.Digest = s[i+1:]
		s = s[:i]
	}
	// A tag is after the last colon that comes after the last slash (a colon before it is a port).
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "/") {
		r.Tag = s[i+1:]
		s = s[:i]
	}
	if i := strings.Index(s, "/"); i >= 0 {
		first := s[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ContainsAny(first, "$") {
			r.Registry = strings.ToLower(first)
			s = s[i+1:]
		}
	}
	s = strings.Trim(s, "/")
	switch r.Registry {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		r.Registry = "docker.io"
	}
	s = strings.TrimPrefix(s, "library/")
	r.Repository = strings.ToLower(s)
	return r
}

// Key is what two references must share to name the same image: the repository path,
// without registry, tag or digest ("" for a relative-folder reference).
func (r Ref) Key() string { return r.Repository }

// Name is the repository's last path element ("web" for "ghcr.io/acme/web:1.0").
func (r Ref) Name() string {
	k := r.Repository
	return k[strings.LastIndexByte(k, '/')+1:]
}

// NormalizeImage returns the key an image reference is matched on: registry host and port,
// tag and digest removed, lower-case, Docker Hub's library/ dropped.
func NormalizeImage(s string) string { return ParseRef(s).Key() }

// suffixMatch reports whether one key ends with the other on a path-element boundary
// ("acme/web" and "web"; "gcr.io/p/acme/web" keys "p/acme/web" and "acme/web").
func suffixMatch(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	return a == b || strings.HasSuffix(a, "/"+b)
}

// String is the reference's registry and repository ("ghcr.io/acme/web").
func (r Ref) String() string {
	if r.Registry == "" {
		return r.Repository
	}
	return r.Registry + "/" + r.Repository
}

// owner is the repository's path before its last element ("acme" for "acme/web").
func (r Ref) owner() string {
	if i := strings.LastIndexByte(r.Repository, '/'); i >= 0 {
		return r.Repository[:i]
	}
	return ""
}

// sameOwner reports whether two references of the same repository name can be one image:
// their owners, and their registries, agree where both are written.
func sameOwner(a, b Ref) bool {
	if a.owner() != "" && b.owner() != "" && a.owner() != b.owner() {
		return false
	}
	return a.Registry == "" || b.Registry == "" || a.Registry == b.Registry
}

// Wildcard stands, in an image a source builds, for a part it cannot resolve (a variable set
// only when it runs): `ghcr.io/acme/demo:*-cart`.
const Wildcard = "*"

// patternRef takes apart an image a source builds that may hold wildcards: only the tag may
// (ok is false when the registry or repository holds one, or there is no repository). The
// tag comes back as a pattern, "" for any tag (none written, or nothing but wildcards).
func patternRef(image string) (ref Ref, tag string, ok bool) {
	ref = ParseRef(image)
	if ref.Key() == "" || strings.Contains(ref.Registry, Wildcard) || strings.Contains(ref.Repository, Wildcard) {
		return ref, "", false
	}
	tag = ref.Tag
	for strings.Contains(tag, "**") {
		tag = strings.ReplaceAll(tag, "**", "*")
	}
	if strings.Trim(tag, Wildcard) == "" {
		tag = ""
	}
	return ref, tag, true
}

// tagMatch reports whether a use's tag ("" is latest) is one a source's tag pattern builds.
func tagMatch(pattern, tag string) bool {
	if pattern == "" {
		return true
	}
	if tag == "" {
		tag = "latest"
	}
	ok, err := path.Match(pattern, tag) // tags are [A-Za-z0-9_.-]: only * is special
	return err == nil && ok
}

// tagSpecificity orders tag patterns: a tag (2), a pattern (1), any tag (0).
func tagSpecificity(pattern string) int {
	switch {
	case pattern == "":
		return 0
	case strings.Contains(pattern, Wildcard):
		return 1
	}
	return 2
}
