package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// MaxFileSize bounds what the engine reads from disk; larger files get an NR001 finding.
const MaxFileSize = 16 << 20

// maxWalkFiles bounds a workspace walk; [Snapshot.WalkTruncated] says where it stopped.
const maxWalkFiles = 50000

// UnreadableError is why a file of the workspace could not be analysed: it is over
// [MaxFileSize], or reading it failed (no permission, an I/O error). Kind is what its name
// (and, for a large file, its first bytes) say it is: Diagnose reports such a file as NR001
// and the walk lists it.
type UnreadableError struct {
	Path   string
	Kind   FileKind
	Reason string
}

func (e *UnreadableError) Error() string { return e.Path + ": " + e.Reason }

// kindPrefix is how much of a file over the size limit is read to tell its kind.
const kindPrefix = 64 << 10

type diskCache struct {
	mu    sync.Mutex
	files map[string]diskEntry
	walk  *diskWalk // the last walk of the disk, kept while only file contents change
}

// diskWalk is the candidate files a walk of the roots found (before classification), valid
// for the ignore configuration its fingerprint names.
type diskWalk struct {
	fingerprint string
	paths       []string
	set         map[string]bool
	truncated   []string // the roots whose walk stopped at maxWalkFiles
}

type diskEntry struct {
	f   *File
	err error
}

// diskWithChanges returns s's disk cache without the given paths (nil: all).
func (s *Snapshot) diskWithChanges(paths []string) *diskCache {
	s.disk.mu.Lock()
	files := map[string]diskEntry{}
	if paths != nil {
		drop := map[string]bool{}
		for _, p := range paths {
			drop[Clean(p)] = true
		}
		for k, v := range s.disk.files {
			if !drop[k] {
				files[k] = v
			}
		}
	}
	walk := s.disk.walk
	s.disk.mu.Unlock()
	// The walk stays valid when the changes only touched contents of files it knows about
	// (not an ignore file, not a file created or deleted).
	if walk != nil {
		if paths == nil {
			walk = nil
		}
		for _, p := range paths {
			p = Clean(p)
			base := filepath.Base(p)
			st, err := os.Lstat(p)
			exists := err == nil && st.Mode().IsRegular()
			if base == ".gitignore" || base == ConfigFileName || (err == nil && st.IsDir()) || (candidateName(base) && exists != walk.set[p]) {
				walk = nil
				break
			}
		}
	}
	return &diskCache{files: files, walk: walk}
}

func (s *Snapshot) readDisk(path string, dirs *dirMemo) (*File, error) {
	if s.Root(path) == "" {
		return nil, fmt.Errorf("%s: %w", path, ErrOutsideWorkspace)
	}
	real, st, err := dirs.evalSymlinks(path)
	if err != nil {
		return nil, err
	}
	if s.Root(real) == "" {
		return nil, fmt.Errorf("%s: symlink leads %w", path, ErrOutsideWorkspace)
	}
	unreadable := func(reason string, prefix []byte) error {
		return &UnreadableError{Path: path, Kind: DetectKind(path, "", prefix, dirs.chartRoot(s, path)), Reason: reason}
	}
	if st == nil {
		if st, err = os.Stat(real); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			return nil, unreadable("cannot read the file: "+errReason(err), nil)
		}
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > MaxFileSize {
		var prefix []byte
		if fh, err := os.Open(real); err == nil {
			prefix = make([]byte, kindPrefix)
			n, _ := io.ReadFull(fh, prefix)
			prefix = prefix[:n]
			fh.Close()
		}
		return nil, unreadable(fmt.Sprintf("the file is %d bytes, over the %d MiB limit: it is not analysed", st.Size(), MaxFileSize>>20), prefix)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, unreadable("cannot read the file: "+errReason(err), nil)
	}
	f := &File{Path: path, Text: string(data), eng: s.eng}
	f.Kind = DetectKind(path, "", data, dirs.chartRoot(s, path))
	return f, nil
}

// errReason is an error without the path a *fs.PathError repeats.
func errReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// dirMemo remembers, for one walk, the real path and the chart root of each folder (nil:
// nothing is remembered).
type dirMemo struct {
	root  string // the walk's root (real)
	mu    sync.Mutex
	real  map[string]dirReal
	chart map[string]string
}

type dirReal struct {
	path string
	err  error
}

// evalSymlinks is filepath.EvalSymlinks, resolving each folder below the root once. When the
// file itself is not a symlink it also returns what Lstat said about it (else nil).
func (m *dirMemo) evalSymlinks(path string) (string, fs.FileInfo, error) {
	if m == nil || !within(m.root, path) {
		real, err := filepath.EvalSymlinks(path)
		return real, nil, err
	}
	dir, err := m.realDir(filepath.Dir(path))
	if err != nil {
		return "", nil, err
	}
	real := filepath.Join(dir, filepath.Base(path))
	st, err := os.Lstat(real)
	if err != nil {
		return "", nil, err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		real, err = filepath.EvalSymlinks(real)
		return real, nil, err
	}
	return real, st, nil
}

// realDir resolves a folder inside the root from its parent's real path: one Lstat per folder.
func (m *dirMemo) realDir(dir string) (string, error) {
	if dir == m.root {
		return dir, nil
	}
	m.mu.Lock()
	r, ok := m.real[dir]
	m.mu.Unlock()
	if ok {
		return r.path, r.err
	}
	if parent, err := m.realDir(filepath.Dir(dir)); err != nil {
		r.err = err
	} else if st, err := os.Lstat(filepath.Join(parent, filepath.Base(dir))); err != nil {
		r.err = err
	} else if st.Mode()&fs.ModeSymlink != 0 {
		r.path, r.err = filepath.EvalSymlinks(filepath.Join(parent, filepath.Base(dir)))
	} else {
		r.path = filepath.Join(parent, filepath.Base(dir))
	}
	m.mu.Lock()
	m.real[dir] = r
	m.mu.Unlock()
	return r.path, r.err
}

// chartRoot is Snapshot.ChartRoot, looking for a Chart.yaml once per folder.
func (m *dirMemo) chartRoot(s *Snapshot, path string) string {
	if m == nil || !within(m.root, path) || s.Root(path) != m.root {
		return s.ChartRoot(path)
	}
	return m.chartDir(s, filepath.Dir(Clean(path)))
}

func (m *dirMemo) chartDir(s *Snapshot, dir string) string {
	m.mu.Lock()
	root, ok := m.chart[dir]
	m.mu.Unlock()
	if ok {
		return root
	}
	_, open := s.overlays[filepath.Join(dir, "Chart.yaml")]
	if st, err := os.Stat(filepath.Join(dir, "Chart.yaml")); open || (err == nil && st.Mode().IsRegular()) {
		root = dir
	} else if dir != m.root {
		root = m.chartDir(s, filepath.Dir(dir))
	}
	m.mu.Lock()
	m.chart[dir] = root
	m.mu.Unlock()
	return root
}

// manifests, charts, compose, config…) plus the open documents, sorted. Version-control and
// dependency folders are skipped, and so are paths the configuration or a .gitignore (of the
// folder or any folder above it, up to the root) ignores. Symlinks are not followed.
func (s *Snapshot) Walk() []string {
	return s.MemoDerived(walkKey{}, func(prev any, changed []string, all bool) any {
		if !all {
			if out, ok := s.walkUpdate(prev.([]string), changed); ok {
				return out
			}
		}
		return s.walkFull()
	}).([]string)
}

// walkUpdate brings an earlier snapshot's walk up to date: each changed path is taken out
// and put back if it still qualifies. It declines (false) when an ignore file or a folder changed.
func (s *Snapshot) walkUpdate(prev []string, changed []string) ([]string, bool) {
	out := prev
	copied := false
	for _, p := range changed {
		base := filepath.Base(p)
		if base == ".gitignore" || base == ConfigFileName {
			return nil, false
		}
		if st, err := os.Lstat(p); err == nil && st.IsDir() {
			return nil, false
		}
		i, found := slices.BinarySearch(out, p)
		keep := s.walkQualifies(p)
		if found == keep {
			continue
		}
		if !copied {
			out, copied = slices.Clone(out), true
		}
		if keep {
			out = slices.Insert(out, i, p)
		} else {
			out = slices.Delete(out, i, i+1)
		}
	}
	return out, true
}

// walkQualifies reports whether a full walk would list path.
func (s *Snapshot) walkQualifies(p string) bool {
	if f := s.overlays[p]; f != nil {
		return f.Kind != KindUnknown && !s.Ignored(p)
	}
	root := s.Root(p)
	if root == "" || p == root || !candidateName(filepath.Base(p)) || s.Ignored(p) {
		return false
	}
	// The folders between the root and p: skipped names, ignored folders, .gitignore files.
	rel, _ := filepath.Rel(root, filepath.Dir(p))
	var ignores []*gitignore
	dir := root
	var parts []string
	if rel != "." {
		parts = strings.Split(rel, string(filepath.Separator))
	}
	for i := 0; ; i++ {
		if dir != root {
			switch filepath.Base(dir) {
			case ".git", ".hg", ".svn", "node_modules", "vendor", ".venv", "__pycache__":
				return false
			}
			if s.Ignored(dir) || gitignored(ignores, dir, true) {
				return false
			}
		}
		if gi, err := s.File(filepath.Join(dir, ".gitignore")); err == nil {
			ignores = append(ignores, parseGitignore(dir, gi.Text))
		}
		if i == len(parts) {
			break
		}
		dir = filepath.Join(dir, parts[i])
	}
	if gitignored(ignores, p, false) {
		return false
	}
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	return listed(s.File(p))
}

// listed reports whether the walk lists a file that read as f, err: one of a known kind, or
// one that could not be read whose name or first bytes say a known kind (Diagnose reports it).
func listed(f *File, err error) bool {
	var ue *UnreadableError
	return err == nil && f.Kind != KindUnknown || errors.As(err, &ue) && ue.Kind != KindUnknown
}

func (s *Snapshot) walkFull() []string {
	{
		seen := map[string]bool{}
		var out []string
		add := func(p string) {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		for p, f := range s.overlays {
			if f.Kind != KindUnknown && !s.Ignored(p) {
				add(p)
			}
		}
		// Read and classify the files on disk GOMAXPROCS at a time.
		cands := s.diskCandidates()
		known := make([]bool, len(cands))
		dirs := map[string]*dirMemo{}
		for _, r := range s.roots {
			dirs[r] = &dirMemo{root: r, real: map[string]dirReal{}, chart: map[string]string{}}
		}
		parallel(context.Background(), len(cands), func(i int) {
			if s.overlays[cands[i]] == nil {
				known[i] = listed(s.file(cands[i], dirs[s.Root(cands[i])]))
			}
		})
		for i, p := range cands {
			if known[i] {
				add(p)
			}
		}
		sort.Strings(out)
		return out
	}
}

// walkFingerprint names what the disk walk's result depends on besides the disk: the roots,
// the ignore settings and the open documents that are ignore files.
func (s *Snapshot) walkFingerprint() string {
	h := fnv.New64a()
	for _, r := range s.roots {
		h.Write([]byte(r + "\x00"))
	}
	for _, g := range s.settings.Ignore {
		h.Write([]byte(g + "\x00"))
	}
	var open []string
	for p := range s.overlays {
		if b := filepath.Base(p); b == ".gitignore" || b == ConfigFileName {
			open = append(open, p)
		}
	}
	sort.Strings(open)
	for _, p := range open {
		h.Write([]byte(p + "\x00" + s.overlays[p].Text + "\x00"))
	}
	return fmt.Sprintf("%x", h.Sum64())
}

// diskCandidates walks the roots (or reuses the last walk) and returns the files whose names
// the engine may read, minus what the configuration and .gitignore files ignore.
func (s *Snapshot) diskCandidates() []string {
	fp := s.walkFingerprint()
	s.disk.mu.Lock()
	w := s.disk.walk
	s.disk.mu.Unlock()
	if w != nil && w.fingerprint == fp {
		return w.paths
	}
	w = &diskWalk{fingerprint: fp, set: map[string]bool{}}
	add := func(p string) {
		w.paths = append(w.paths, p)
		w.set[p] = true
	}
	{
		n := 0
		for _, root := range s.roots {
			if n > maxWalkFiles {
				w.truncated = append(w.truncated, root)
				continue
			}
			var ignores []*gitignore // the .gitignore files of p's ancestors, root first
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				for len(ignores) > 0 && !within(ignores[len(ignores)-1].dir, filepath.Dir(p)) {
					ignores = ignores[:len(ignores)-1]
				}
				if d.IsDir() {
					switch d.Name() {
					case ".git", ".hg", ".svn", "node_modules", "vendor", ".venv", "__pycache__":
						return filepath.SkipDir
					}
					if p != root && (s.Ignored(p) || gitignored(ignores, p, true)) {
						return filepath.SkipDir
					}
					if gi, err := s.File(filepath.Join(p, ".gitignore")); err == nil {
						ignores = append(ignores, parseGitignore(p, gi.Text))
					}
					return nil
				}
				if n++; n > maxWalkFiles {
					w.truncated = append(w.truncated, root)
					return filepath.SkipAll
				}
				if !d.Type().IsRegular() || !candidateName(d.Name()) || s.Ignored(p) || gitignored(ignores, p, false) {
					return nil
				}
				add(p)
				return nil
			})
		}
	}
	s.disk.mu.Lock()
	s.disk.walk = w
	s.disk.mu.Unlock()
	return w.paths
}

type walkKey struct{}

// WalkTruncated returns the roots whose walk stopped at the 50,000-file limit (their files
// past it are not listed by [Snapshot.Walk]), with a sentence for each saying so.
func (s *Snapshot) WalkTruncated() []string {
	s.diskCandidates()
	s.disk.mu.Lock()
	w := s.disk.walk
	s.disk.mu.Unlock()
	var out []string
	for _, r := range w.truncated {
		out = append(out, fmt.Sprintf("%s: the walk stopped after %d files: the files past them are not checked (narrow the folder, or ignore some in %s)", r, maxWalkFiles, ConfigFileName))
	}
	return out
}

func candidateName(base string) bool {
	if IsDockerfileName(base) || strings.EqualFold(base, "Tiltfile") {
		return true
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".yaml", ".yml", ".json", ".hcl", ".tpl", ".sh":
		return true
	}
	return false
}

// Ignored reports whether path matches an ignore pattern of its configuration.
func (s *Snapshot) Ignored(path string) bool {
	root := s.Root(path)
	if root == "" {
		return false
	}
	rel, err := filepath.Rel(root, Clean(path))
	if err != nil {
		return false
	}
	c := s.ConfigFor(path)
	return c.Ignored(rel)
}
