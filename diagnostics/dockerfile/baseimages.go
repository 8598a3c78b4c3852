package dockerfile

import (
	_ "embed"
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bmatcuk/doublestar/v4"
	"sigs.k8s.io/yaml"
)

//go:embed baseimages.yaml
var baseImagesYAML []byte

// BaseImage is what nonroot-ls knows about a well-known base image: the user it runs as.
type BaseImage struct {
	Match   string   `json:"match"`
	Tags    []string `json:"tags,omitempty"`
	User    string   `json:"user"`
	Name    string   `json:"name,omitempty"`
	UID     *int     `json:"uid,omitempty"`
	GID     *int     `json:"gid,omitempty"`
	Example string   `json:"example"`
	Why     string   `json:"why"`
}

// NonRoot reports whether the image runs as a non-root user.
func (b *BaseImage) NonRoot() bool {
	u := parseUserString(b.User)
	return u.Kind != KindRoot && u.Kind != KindUnknown
}

var baseImages = sync.OnceValues(func() ([]*BaseImage, error) {
	var doc struct {
		Images []*BaseImage `json:"images"`
	}
	if err := yaml.UnmarshalStrict(baseImagesYAML, &doc); err != nil {
		return nil, fmt.Errorf("baseimages.yaml: %v", err)
	}
	for i, b := range doc.Images {
		if !doublestar.ValidatePattern(b.Match) {
			return nil, fmt.Errorf("baseimages.yaml: entry %d: bad pattern %q", i, b.Match)
		}
		for _, t := range b.Tags {
			if _, err := path.Match(t, ""); err != nil {
				return nil, fmt.Errorf("baseimages.yaml: entry %d: bad tag pattern %q", i, t)
			}
		}
	}
	return doc.Images, nil
})

// BaseImages returns the embedded base-image knowledge, in matching order.
func BaseImages() []*BaseImage {
	imgs, err := baseImages()
	if err != nil {
		panic(err) // the embedded file is part of the program; a test covers it
	}
	return imgs
}

// NormalizeImage splits an image reference into its repository (without docker.io/ and
// library/) and its tag ("" when none; a digest-only reference has no tag).
func NormalizeImage(ref string) (repo, tag string) {
	ref = strings.TrimSpace(strings.ToLower(ref))
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		ref, tag = ref[:i], ref[i+1:]
	}
	for _, p := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/", "registry.hub.docker.com/"} {
		ref = strings.TrimPrefix(ref, p)
	}
	ref = strings.TrimPrefix(ref, "library/")
	return ref, tag
}

var (
	lookupCache sync.Map // ref → *BaseImage (nil stored as (*BaseImage)(nil))
	lookupCount atomic.Int64
)

// LookupBaseImage returns the knowledge about image ref, or nil when it is not known.
func LookupBaseImage(ref string) *BaseImage {
	if v, ok := lookupCache.Load(ref); ok {
		return v.(*BaseImage)
	}
	b := lookupBaseImage(ref)
	if len(ref) < 512 && lookupCount.Add(1) < 65536 {
		lookupCache.Store(ref, b)
	}
	return b
}

func lookupBaseImage(ref string) *BaseImage {
	repo, tag := NormalizeImage(ref)
	if repo == "" {
		return nil
	}
	for _, b := range BaseImages() {
		if ok, _ := doublestar.Match(b.Match, repo); !ok {
			continue
		}
		if len(b.Tags) == 0 {
			return b
		}
		for _, t := range b.Tags {
			if ok, _ := path.Match(t, tag); ok {
				return b
			}
		}
	}
	return nil
}

// IsWindowsImage reports whether ref names a Windows base image.
func IsWindowsImage(ref string) bool {
	repo, tag := NormalizeImage(ref)
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
