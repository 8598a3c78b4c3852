package diagnostics

import (
	"context"
	"sort"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Location is a range in a file (the answer to definition and references requests).
type Location struct {
	File  string     `json:"file"`
	Range text.Range `json:"range"`
}

// Navigator answers a definition or references request at pos in f.
type Navigator func(ctx context.Context, s *Snapshot, f *File, pos text.Pos) []Location

// Definition returns where the thing at pos in path is defined (e.g. an `image:` value → the
// Dockerfile stage that builds it). Nil when nothing is known.
func (s *Snapshot) Definition(ctx context.Context, path string, pos text.Pos) []Location {
	return s.navigate(ctx, s.eng.definition, path, pos)
}

// References returns the places that use the thing at pos in path (e.g. a Dockerfile's FROM
// or USER → every manifest container and compose service that runs the image).
func (s *Snapshot) References(ctx context.Context, path string, pos text.Pos) []Location {
	return s.navigate(ctx, s.eng.references, path, pos)
}

func (s *Snapshot) navigate(ctx context.Context, reg map[FileKind][]Navigator, path string, pos text.Pos) []Location {
	f, err := s.File(path)
	if err != nil {
		return nil
	}
	var out []Location
	seen := map[Location]bool{}
	for _, fn := range reg[f.Kind] {
		if ctx.Err() != nil {
			return nil
		}
		for _, l := range s.safeNavigate(ctx, fn, f, pos) {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

func (s *Snapshot) safeNavigate(ctx context.Context, fn Navigator, f *File, pos text.Pos) (out []Location) {
	defer func() {
		if v := recover(); v != nil {
			s.eng.recovered("navigation from "+f.Path, v)
			out = nil
		}
	}()
	return fn(ctx, s, f, pos)
}

// Dependents returns the other files whose diagnostics may change when path changes, sorted,
// without path itself. A server re-publishes them after an edit; for a file that was created
// or deleted it asks both the old and the new snapshot.
func (s *Snapshot) Dependents(path string) []string {
	path = Clean(path)
	seen := map[string]bool{path: true}
	var out []string
	for _, fn := range s.eng.dependents {
		for _, p := range s.safeDependents(fn, path) {
			if p = Clean(p); !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *Snapshot) safeDependents(fn func(*Snapshot, string) []string, path string) (out []string) {
	defer func() {
		if v := recover(); v != nil {
			s.eng.recovered("dependents of "+path, v)
			out = nil
		}
	}()
	return fn(s, path)
}

// InspectWorkspace returns what the groups say about the workspace as a whole for
// `nonroot-ls inspect` on a folder (the image → Dockerfile links), in group order.
func (s *Snapshot) InspectWorkspace() []any {
	var out []any
	for _, fn := range s.eng.wsInspect {
		if v := fn(s); v != nil {
			out = append(out, v)
		}
	}
	return out
}
