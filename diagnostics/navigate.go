package diagnostics

import (
	"sort"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Location is a range in a file (the answer to definition and references requests).
type Location struct {
	File  string     `json:"file"`
	Range text.Range `json:"range"`
}

// Navigator answers a definition or references request at pos in f.
type Navigator func(s *Snapshot, f *File, pos text.Pos) []Location

var (
	definitionFuncs = map[FileKind][]Navigator{}
	referencesFuncs = map[FileKind][]Navigator{}
	dependentsFuncs []func(*Snapshot, string) []string
	workspaceInsp   []func(*Snapshot) any
)

// RegisterDefinition adds a go-to-definition provider for files of kind k. Call it from init.
func RegisterDefinition(k FileKind, fn Navigator) {
	definitionFuncs[k] = append(definitionFuncs[k], fn)
}

// RegisterReferences adds a find-references provider for files of kind k. Call it from init.
func RegisterReferences(k FileKind, fn Navigator) {
	referencesFuncs[k] = append(referencesFuncs[k], fn)
}

// Definition returns where the thing at pos in path is defined (e.g. an `image:` value → the
// Dockerfile stage that builds it). Nil when nothing is known.
func (s *Snapshot) Definition(path string, pos text.Pos) []Location {
	return s.navigate(definitionFuncs, path, pos)
}

// References returns the places that use the thing at pos in path (e.g. a Dockerfile's FROM
// or USER → every manifest container and compose service that runs the image).
func (s *Snapshot) References(path string, pos text.Pos) []Location {
	return s.navigate(referencesFuncs, path, pos)
}

func (s *Snapshot) navigate(reg map[FileKind][]Navigator, path string, pos text.Pos) []Location {
	f, err := s.File(path)
	if err != nil {
		return nil
	}
	var out []Location
	seen := map[Location]bool{}
	for _, fn := range reg[f.Kind] {
		for _, l := range safeNavigate(fn, s, f, pos) {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

func safeNavigate(fn Navigator, s *Snapshot, f *File, pos text.Pos) (out []Location) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	return fn(s, f, pos)
}

// RegisterDependents adds a function that names the other files whose findings depend on
// path (a Dockerfile → the manifests that run its image). Call it from init.
func RegisterDependents(fn func(s *Snapshot, path string) []string) {
	dependentsFuncs = append(dependentsFuncs, fn)
}

// Dependents returns the other files whose diagnostics may change when path changes, sorted,
// without path itself. A server re-publishes them after an edit; for a file that was created
// or deleted it asks both the old and the new snapshot.
func (s *Snapshot) Dependents(path string) []string {
	path = Clean(path)
	seen := map[string]bool{path: true}
	var out []string
	for _, fn := range dependentsFuncs {
		for _, p := range safeDependents(fn, s, path) {
			if p = Clean(p); !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

func safeDependents(fn func(*Snapshot, string) []string, s *Snapshot, path string) (out []string) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	return fn(s, path)
}

// RegisterWorkspaceInspect adds a function that describes the workspace as a whole for
// `nonroot-ls inspect` on a folder (the image → Dockerfile links). Call it from init.
func RegisterWorkspaceInspect(fn func(*Snapshot) any) { workspaceInsp = append(workspaceInsp, fn) }

// InspectWorkspace returns what the registered workspace inspectors say, in registration order.
func (s *Snapshot) InspectWorkspace() []any {
	var out []any
	for _, fn := range workspaceInsp {
		if v := fn(s); v != nil {
			out = append(out, v)
		}
	}
	return out
}
