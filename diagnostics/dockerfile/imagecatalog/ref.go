package imagecatalog

import "strings"

// Ref is an image reference taken apart and normalised.
type Ref struct {
	// Registry is the registry host (and port) as written, lower case; "" for Docker Hub
	// (docker.io, index.docker.io, registry-1.docker.io and registry.hub.docker.com).
	Registry string
	// Repository is the catalog's key: the registry and path for other registries
	// ("gcr.io/distroless/static-debian12"), the path alone for Docker Hub, without
	// "library/" ("postgres", "grafana/grafana").
	Repository string
	Tag        string // "" when none is written
	Digest     string // "sha256:…", "" when none
}

// maxRefLen bounds the references Normalize reads (Docker limits names to 255 bytes, tags to
// 128, digests to an algorithm and its hex).
const maxRefLen = 512

// Normalize takes an image reference apart the way Docker reads it: `[registry[:port]/]path
// [:tag][@digest]`, lower case, Docker Hub's implicit names made explicit-free
// (`docker.io/library/nginx:1.27`, `index.docker.io/nginx` and `NGINX:1.27` all have
// Repository "nginx"). ok is false for anything that is not a reference: an expression
// (`${IMAGE}`, Helm's `{{ .Values.image }}`), a digest alone, blanks inside, an invalid
// component. It never panics.
func Normalize(ref string) (r Ref, ok bool) {
	s := strings.TrimSpace(ref)
	if s == "" || len(s) > maxRefLen {
		return Ref{}, false
	}
	if hasUpper(s) {
		s = strings.ToLower(s)
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		r.Digest = s[i+1:]
		s = s[:i]
		if !validDigest(r.Digest) {
			return Ref{}, false
		}
	}
	// The tag is after the last colon that comes after the last slash (a colon before it is a port).
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i:], '/') < 0 {
		r.Tag = s[i+1:]
		s = s[:i]
		if !validTag(r.Tag) {
			return Ref{}, false
		}
	}
	if s == "" {
		return Ref{}, false
	}
	rest := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		first := s[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			if !validDomain(first) {
				return Ref{}, false
			}
			r.Registry = first
			rest = s[i+1:]
		}
	}
	switch r.Registry {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		r.Registry = ""
	}
	if rest == "" {
		return Ref{}, false
	}
	for comp := range strings.SplitSeq(rest, "/") {
		if !validComponent(comp) {
			return Ref{}, false
		}
	}
	if r.Registry == "" {
		rest = strings.TrimPrefix(rest, "library/")
		if rest == "" || len(rest) > 255 {
			return Ref{}, false
		}
		if r.Tag != "" && r.Digest == "" && isAlgorithm(rest) && isHex(r.Tag) && len(r.Tag) >= 32 {
			return Ref{}, false // "sha256:<hex>": a digest alone
		}
		r.Repository = rest
	} else {
		r.Repository = r.Registry + "/" + rest
		if len(r.Repository) > 255 {
			return Ref{}, false
		}
	}
	return r, true
}

// String is the normalised reference.
func (r Ref) String() string {
	s := r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validComponent: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
func validComponent(c string) bool {
	if c == "" || !isLowerAlnum(c[0]) || !isLowerAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if isLowerAlnum(c[i]) {
			i++
			continue
		}
		switch c[i] {
		case '.':
			i++
		case '_':
			if i+1 < len(c) && c[i+1] == '_' {
				i++
			}
			i++
		case '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
		if i >= len(c) || !isLowerAlnum(c[i]) {
			return false
		}
	}
	return true
}

// validDomain: dot-separated labels of [a-z0-9-] (not starting or ending with '-'), an
// optional :port.
func validDomain(d string) bool {
	host, port, hasPort := strings.Cut(d, ":")
	if hasPort && (port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return false
	}
	if host == "" {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isLowerAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

// validTag: [\w][\w.-]{0,127} (lower case here).
func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !isLowerAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validDigest: algorithm ":" hex (at least 32 hex digits).
func validDigest(d string) bool {
	alg, hex, ok := strings.Cut(d, ":")
	return ok && isAlgorithm(alg) && len(hex) >= 32 && len(hex) <= 128 && isHex(hex)
}

func isAlgorithm(a string) bool {
	if a == "" || len(a) > 32 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !isLowerAlnum(a[i]) && !(i > 0 && strings.IndexByte("+._-", a[i]) >= 0) {
			return false
		}
	}
	return isLowerAlnum(a[len(a)-1])
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}
