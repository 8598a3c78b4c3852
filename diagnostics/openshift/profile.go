// Package openshift holds the rules of the `openshift` profile (NR501–NR504): what
// an image and a workload must do to run under OpenShift's restricted-v2 SCC, which starts
// the container with an arbitrary uid from the namespace's range and gid 0.
//
// The image side reads the Dockerfile model's permission model ([dockerfile.Stage.PermOf]);
// the manifest side reads the Kubernetes workload model and the Namespace objects of the
// workspace (their `openshift.io/sa.scc.uid-range` annotation). The package also explains,
// on hover and in `nonroot-ls inspect`, why the profile is on.
package openshift

import (
	"fmt"
	"path/filepath"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
)

// ProfileReason says which profile is in force for a file and why.
type ProfileReason struct {
	Profile diagnostics.Profile `json:"name"`
	// Because is "configuration" (a .nonroot-ls.yaml, the editor settings or the command line)
	// or "openshift-objects" (the workspace holds OpenShift objects), or "default".
	Because string `json:"because"`
	// Source is where: the config file, "editor settings", "command line", or the manifest
	// holding the first OpenShift object.
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`   // 1-based line in Source (0 when none)
	Object string `json:"object,omitempty"` // the OpenShift object, e.g. "Route/frontend"
}

// String is the reason in a sentence.
func (r ProfileReason) String() string {
	switch r.Because {
	case "configuration":
		return fmt.Sprintf("profile `%s` is set in %s", r.Profile, r.Source)
	case "openshift-objects":
		return fmt.Sprintf("profile `openshift` is on because the workspace holds OpenShift objects: %s in %s line %d", r.Object, r.Source, r.Line)
	}
	return fmt.Sprintf("profile `%s` is the default", r.Profile)
}

// Why returns the profile in force for path and why.
func Why(s *diagnostics.Snapshot, path string) ProfileReason {
	p := s.ProfileFor(path)
	if c := s.ConfigFor(path); c.Profile != "" {
		return ProfileReason{Profile: p, Because: "configuration", Source: configSource(s, path)}
	}
	if p == diagnostics.ProfileOpenShift {
		if o := FirstOpenShiftObject(s); o != nil {
			return *o
		}
	}
	return ProfileReason{Profile: p, Because: "default"}
}

// configSource names the configuration layer that sets the profile for path.
func configSource(s *diagnostics.Snapshot, path string) string {
	root := s.Root(path)
	if root != "" {
		for dir := filepath.Dir(diagnostics.Clean(path)); ; dir = filepath.Dir(dir) {
			cf := filepath.Join(dir, diagnostics.ConfigFileName)
			if f, err := s.File(cf); err == nil {
				if c, err := diagnostics.ParseConfig([]byte(f.Text)); err == nil && c.Profile != "" {
					if rel, err := filepath.Rel(root, cf); err == nil {
						return filepath.ToSlash(rel)
					}
					return cf
				}
				break
			}
			if dir == root || filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if s.Settings().Profile != "" {
		return "the editor settings (nonroot.profile)"
	}
	return "the command line (--profile)"
}

type firstObjectKey struct{}

// FirstOpenShiftObject returns the first OpenShift object (Route, DeploymentConfig,
// SecurityContextConstraints, ImageStream, BuildConfig; also inside a Template or List) in
// the workspace's manifests, in path order, or nil. Memoised on the snapshot.
func FirstOpenShiftObject(s *diagnostics.Snapshot) *ProfileReason {
	r, _ := s.Memo(firstObjectKey{}, func() any {
		for _, p := range s.OpenShiftFiles() {
			f, err := s.File(p)
			if err != nil || f.Kind != diagnostics.KindManifest {
				continue
			}
			for _, o := range kube.ForFile(f).Objects {
				if !kube.OpenShiftKinds[o.Kind] {
					continue
				}
				src := p
				if root := s.Root(p); root != "" {
					if rel, err := filepath.Rel(root, p); err == nil {
						src = filepath.ToSlash(rel)
					}
				}
				name := o.Kind
				if o.Name != "" {
					name += "/" + o.Name
				}
				return &ProfileReason{Profile: diagnostics.ProfileOpenShift, Because: "openshift-objects", Source: src, Line: o.KindRange.Start.Line + 1, Object: name}
			}
		}
		return (*ProfileReason)(nil)
	}).(*ProfileReason)
	return r
}

// annotate adds the "profile" entry to the inspect output of Dockerfiles and manifests
// under the openshift profile.
func annotate(s *diagnostics.Snapshot, f *diagnostics.File) (string, any) {
	if f.Kind != diagnostics.KindDockerfile && f.Kind != diagnostics.KindManifest {
		return "", nil
	}
	r := Why(s, f.Path)
	if r.Profile != diagnostics.ProfileOpenShift {
		return "", nil
	}
	return "profile", inspectProfile{ProfileReason: r, Why: r.String()}
}

// inspectProfile is the "profile" entry of `nonroot-ls inspect` under the openshift profile.
type inspectProfile struct {
	ProfileReason
	Why string `json:"why"`
}
