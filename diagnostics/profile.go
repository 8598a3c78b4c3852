package diagnostics

import (
	"os"
	"path/filepath"
	"slices"
)

// ProfileFor returns the profile in force for path: the configured one, else openshift when
// the workspace holds OpenShift objects (as the group providing Group.OpenShift says), else
// kubernetes.
func (s *Snapshot) ProfileFor(path string) Profile {
	c := s.ConfigFor(path)
	if c.Profile != "" {
		return c.ProfileOrDefault()
	}
	if len(s.OpenShiftFiles()) > 0 {
		return ProfileOpenShift
	}
	return ProfileKubernetes
}

type openshiftKey struct{}

type openshiftFileKey struct{}

// OpenShiftFiles returns the manifests of the walk that hold OpenShift objects (as the
// engine's detector says: Route, DeploymentConfig, SCC, ImageStream, BuildConfig), sorted.
// The answer is kept for each file, so a new snapshot only asks about the files that changed. Memoised on the snapshot and brought up to date from the
// previous snapshot's: only changed files are asked about.
func (s *Snapshot) OpenShiftFiles() []string {
	if s.eng.openShift == nil {
		return nil
	}
	return s.MemoDerived(openshiftKey{}, func(prev any, changed []string, all bool) any {
		if !all {
			if out, ok := s.openShiftUpdate(prev.([]string), changed); ok {
				return out
			}
		}
		var out []string
		for _, p := range s.Walk() {
			if s.holdsOpenShift(p) {
				out = append(out, p)
			}
		}
		return out
	}).([]string)
}

// openShiftUpdate brings an earlier snapshot's OpenShiftFiles up to date: each changed path
// is taken out and put back if it is still walked and holds OpenShift objects. It declines
// (false) when the walk may have changed beyond the changed paths (an ignore file, a folder).
func (s *Snapshot) openShiftUpdate(prev, changed []string) ([]string, bool) {
	walk := s.Walk()
	out := slices.Clone(prev)
	for _, p := range changed {
		if base := filepath.Base(p); base == ".gitignore" || base == ConfigFileName {
			return nil, false
		}
		if st, err := os.Lstat(p); err == nil && st.IsDir() {
			return nil, false
		}
		out = slices.DeleteFunc(out, func(x string) bool { return x == p })
		if _, walked := slices.BinarySearch(walk, p); walked && s.holdsOpenShift(p) {
			i, _ := slices.BinarySearch(out, p)
			out = slices.Insert(out, i, p)
		}
	}
	return out, true
}

func (s *Snapshot) holdsOpenShift(p string) bool {
	f, err := s.File(p)
	if err != nil || f.Kind != KindManifest {
		return false
	}
	return f.Memo(openshiftFileKey{}, func() any { return s.eng.openShift(f) }).(bool)
}
