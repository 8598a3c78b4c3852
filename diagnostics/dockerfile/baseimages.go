package dockerfile

import (
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// BaseImage is what nonroot-ls knows about a public base image: the user it runs as, from
// the image catalog (package imagecatalog).
type BaseImage struct {
	Match   string   // the catalog repository (or namespace "ns/*", or pattern) the reference matched
	Tags    []string // the entry's tags (nil: matched by pattern or as the repository's default)
	User    string   // the image config's User ("0" when it is unset: root)
	Name    string
	UID     *int
	GID     *int
	Example string
	Why     string
	// Entry is the catalog entry: step-down, paths, ports, OpenShift readiness, sources.
	Entry *imagecatalog.Entry
	// TagUnknown is set when the catalog does not list the reference's tag: Entry is the
	// repository's default family, which the tag may not share.
	TagUnknown bool
}

// NonRoot reports whether the image runs as a non-root user.
func (b *BaseImage) NonRoot() bool {
	u := parseUserString(b.User)
	return u.Kind != KindRoot && u.Kind != KindUnknown
}

// UserOf is the user a container of the image (named image, as written) runs as: what a
// stage FROM it starts as.
func (b *BaseImage) UserOf(image string) User {
	u := parseUserString(b.User)
	if u.Kind == KindNamed || u.Kind == KindNumeric {
		if b.Name != "" && u.Name == "" {
			u.Name = b.Name
		}
		if u.UID == nil {
			u.UID = b.UID
		}
		if u.GID == nil {
			u.GID = b.GID
		}
	}
	u.Source = SourceBase
	u.Image = image
	u.Value = b.User
	return u
}

// BaseLookup finds what is known about a base image reference (nil: unknown).
type BaseLookup func(ref string) *BaseImage

// ParseWith is Parse with the base-image lookup given (nil: the catalog's, LookupBaseImage):
// the catalog's generator follows FROM chains through the entries it has made so far.
func ParseWith(path, src string, bases BaseLookup) *Model {
	return parseWith(path, src, text.NewLines(src), nil, bases)
}

func (m *Model) baseImage(ref string) *BaseImage {
	if m.bases != nil {
		return m.bases(ref)
	}
	return LookupBaseImage(ref)
}

// BaseImageOf turns a catalog lookup's result into a BaseImage (nil when unknown).
func BaseImageOf(res imagecatalog.Result) *BaseImage {
	e := res.Entry
	if e == nil {
		return nil
	}
	b := &BaseImage{User: e.User.Config, Name: e.User.Name, UID: e.User.UID, GID: e.User.GID, Example: e.Example, Why: e.Why, Entry: e, TagUnknown: res.TagUnknown()}
	switch {
	case !res.Namespace:
		b.Match = res.Ref.Repository
	case len(e.Namespaces) > 0:
		b.Match = e.Namespaces[0] + "/*"
	case len(e.RepoPatterns) > 0:
		b.Match = e.RepoPatterns[0]
	}
	if b.User == "" {
		b.User = "0" // unset: root
	}
	if res.Match == imagecatalog.MatchTag {
		b.Tags = e.Tags
	}
	if b.TagUnknown {
		who := "user " + e.User.Config
		if e.User.Root() {
			who = "root"
		}
		b.Why += fmt.Sprintf(" (the catalog does not list this tag; every image of %s it knows runs as %s)", res.Ref.Repository, who)
	}
	return b
}

// BaseImageForFROM is BaseImageOf for a FROM line: a tag the catalog does not list is only
// taken when every entry of the repository has the same user (it cannot be another one).
func BaseImageForFROM(res imagecatalog.Result) *BaseImage {
	if res.TagUnknown() && !res.UniformUser {
		return nil
	}
	return BaseImageOf(res)
}

// LookupBaseImage returns the catalog's knowledge about image ref, or nil when it is not known.
func LookupBaseImage(ref string) *BaseImage { return BaseImageForFROM(imagecatalog.Lookup(ref)) }

// NormalizeImage splits an image reference into its repository (without docker.io/ and
// library/; with the registry for other registries) and its tag ("" when none; a
// digest-only reference has no tag). A text that is not a reference has repository "".
func NormalizeImage(ref string) (repo, tag string) {
	r, _ := imagecatalog.Normalize(ref)
	return r.Repository, r.Tag
}

// IsWindowsImage reports whether ref names a Windows base image.
func IsWindowsImage(ref string) bool {
	ref = strings.TrimSpace(strings.ToLower(ref))
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	repo, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	for _, p := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/", "registry.hub.docker.com/"} {
		repo = strings.TrimPrefix(repo, p)
	}
	repo = strings.TrimPrefix(repo, "library/")
	if strings.HasPrefix(repo, "mcr.microsoft.com/windows") || strings.HasPrefix(repo, "microsoft/windows") ||
		strings.HasPrefix(repo, "microsoft/nanoserver") || strings.HasPrefix(repo, "mcr.microsoft.com/powershell") && strings.Contains(tag, "nanoserver") {
		return true
	}
	for _, w := range []string{"nanoserver", "windowsservercore", "servercore", "ltsc2016", "ltsc2019", "ltsc2022", "ltsc2025"} {
		if strings.Contains(tag, w) || strings.HasSuffix(repo, "/"+w) {
			return true
		}
	}
	return false
}
