package diagnostics

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// MaxFileSize bounds what the engine reads from disk; larger files get an NR001 finding.
const MaxFileSize = 16 << 20

// maxWalkFiles bounds a workspace walk.
const maxWalkFiles = 50000

// File is one immutable version of a document. Models parsed from it are memoised on it, so a
// file that did not change between snapshots is not parsed again.
type File struct {
	Path       string // absolute, clean
	Version    int32  // editor version (0 for files read from disk)
	Text       string
	LanguageID string
	Kind       FileKind
	Open       bool // an editor overlay rather than the disk

	linesOnce sync.Once
	lines     *text.Lines
	memo      memo
	cached    *list.Element // the file's place in the model cache (guarded by models.mu)
}

// Lines returns the file's line index.
func (f *File) Lines() *text.Lines {
	f.linesOnce.Do(func() { f.lines = text.NewLines(f.Text) })
	return f.lines
}

// Memo returns the value fn computes for key on this file, computing it once while it is
// kept. fn must depend on the file alone. The values of an open document are kept as long as
// the file; those of a file read from disk are kept in a bounded cache of the files used most
// recently (see [KeepMemo] for the small summaries that workspace-wide analyses read and that
// are always kept), so a workspace index does not hold every file's full model.
func (f *File) Memo(key any, fn func() any) any {
	v := f.memo.get(key, fn)
	if !f.Open && !keptMemo[key] {
		models.touch(f)
	}
	return v
}

// Binary reports whether the file looks binary (a NUL byte in its first 8 KiB).
func (f *File) Binary() bool {
	head := f.Text
	if len(head) > 8192 {
		head = head[:8192]
	}
	return strings.IndexByte(head, 0) >= 0
}

type memo struct {
	mu sync.Mutex
	m  map[any]*memoEntry
}

type memoEntry struct {
	once sync.Once
	v    any
	done bool // guarded by memo.mu after once ran
}

func (m *memo) get(key any, fn func() any) any {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[any]*memoEntry{}
	}
	e := m.m[key]
	if e == nil {
		e = &memoEntry{}
		m.m[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() {
		e.v = fn()
		m.mu.Lock()
		e.done = true
		m.mu.Unlock()
	})
	return e.v
}

// peek returns the value computed for key, if it has been.
func (m *memo) peek(key any) (any, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.m[key]; e != nil && e.done {
		return e.v, true
	}
	return nil, false
}

// dropExcept forgets the values whose keys keep does not name.
func (m *memo) dropExcept(keep map[any]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.m {
		if !keep[k] {
			delete(m.m, k)
		}
	}
}

func (m *memo) empty() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m) == 0
}

// Snapshot is an immutable view of the workspace: its roots, the editor's settings, the open
// documents, and the files on disk under the roots (read lazily, only inside the roots).
// Changes produce a new snapshot with [Snapshot.WithFile], [Snapshot.WithoutFile],
// [Snapshot.WithSettings] and [Snapshot.WithDiskChanges]; unchanged files keep their models.
type Snapshot struct {
	roots    []string // absolute, clean, symlinks resolved
	settings Config   // editor settings (below .nonroot-ls.yaml)
	override *Config  // command-line settings (above .nonroot-ls.yaml); nil when none
	overlays map[string]*File
	disk     *diskCache
	memo     *memo

	// prev is the memo of the snapshot this one derives from (the nearest one that computed
	// something), changed the paths whose content may differ since, all that anything may
	// have changed (settings, too many paths). See [Snapshot.MemoDerived].
	prev    *memo
	changed []string
	all     bool
}

// maxChanged bounds the changed paths a snapshot remembers before it says "all".
const maxChanged = 256

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
}

type diskEntry struct {
	f   *File
	err error
}

// NewSnapshot returns a snapshot of the given workspace roots (directories) with editor settings.
func NewSnapshot(roots []string, settings Config) *Snapshot {
	s := &Snapshot{settings: settings, overlays: map[string]*File{}, disk: &diskCache{files: map[string]diskEntry{}}, memo: &memo{}, all: true}
	for _, r := range roots {
		if abs, err := filepath.Abs(r); err == nil {
			if real, err := filepath.EvalSymlinks(abs); err == nil {
				abs = real
			}
			s.roots = append(s.roots, filepath.Clean(abs))
		}
	}
	return s
}

func (s *Snapshot) clone() *Snapshot {
	n := &Snapshot{roots: s.roots, settings: s.settings, override: s.override, overlays: make(map[string]*File, len(s.overlays)+1), disk: s.disk, memo: &memo{}}
	for k, v := range s.overlays {
		n.overlays[k] = v
	}
	if !s.memo.empty() {
		n.prev = s.memo
	} else {
		n.prev, n.changed, n.all = s.prev, append([]string(nil), s.changed...), s.all
	}
	return n
}

// noteChanged records paths whose content may differ from the previous snapshot's (nil: all).
func (s *Snapshot) noteChanged(paths []string) {
	if paths == nil || len(s.changed)+len(paths) > maxChanged {
		s.all, s.changed = true, nil
		return
	}
	for _, p := range paths {
		s.changed = append(s.changed, Clean(p))
	}
}

// Roots returns the workspace roots.
func (s *Snapshot) Roots() []string { return s.roots }

// Settings returns the editor settings.
func (s *Snapshot) Settings() Config { return s.settings }

// WithFile returns a snapshot in which path has the given text (an open editor document).
func (s *Snapshot) WithFile(path string, version int32, languageID, content string) *Snapshot {
	n := s.clone()
	path = Clean(path)
	f := &File{Path: path, Version: version, Text: content, LanguageID: languageID, Open: true}
	if languageID == "dockerfile" || languageID == "containerfile" || IsDockerfileName(filepath.Base(path)) {
		f.Kind = KindDockerfile // what DetectKind says first, without copying the text or looking for a chart
	} else {
		f.Kind = DetectKind(path, languageID, []byte(content), n.ChartRoot(path))
	}
	n.overlays[path] = f
	n.noteChanged([]string{path})
	return n
}

// WithoutFile returns a snapshot in which path is no longer open (its disk content counts again).
func (s *Snapshot) WithoutFile(path string) *Snapshot {
	n := s.clone()
	delete(n.overlays, Clean(path))
	n.noteChanged([]string{path})
	n.disk = s.diskWithChanges([]string{path})
	return n
}

// WithSettings returns a snapshot with new editor settings.
func (s *Snapshot) WithSettings(c Config) *Snapshot {
	n := s.clone()
	n.settings = c
	n.noteChanged(nil)
	return n
}

// WithOverride returns a snapshot whose settings c win over .nonroot-ls.yaml field by field
// (command-line flags such as `check --profile`).
func (s *Snapshot) WithOverride(c Config) *Snapshot {
	n := s.clone()
	n.override = &c
	n.noteChanged(nil)
	return n
}

// WithRoots returns a snapshot with other workspace roots.
func (s *Snapshot) WithRoots(roots []string) *Snapshot {
	n := NewSnapshot(roots, s.settings)
	n.override = s.override
	n.overlays = s.clone().overlays
	return n
}

// WithDiskChanges returns a snapshot that re-reads the given paths from disk (nil: all).
func (s *Snapshot) WithDiskChanges(paths ...string) *Snapshot {
	n := s.clone()
	n.noteChanged(paths)
	n.disk = s.diskWithChanges(paths)
	return n
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

// Clean makes path absolute and clean.
func Clean(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// Root returns the workspace root that holds path ("" when none).
func (s *Snapshot) Root(path string) string {
	path = Clean(path)
	best := ""
	for _, r := range s.roots {
		if within(r, path) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// ErrOutsideWorkspace is returned for reads outside the workspace roots.
var ErrOutsideWorkspace = errors.New("outside the workspace folders")

// ReadFile returns the content of path: the open document if there is one, else the disk,
// but only inside the workspace roots (symlinks that lead outside are refused) and only up
// to MaxFileSize.
func (s *Snapshot) ReadFile(path string) ([]byte, error) {
	f, err := s.File(path)
	if err != nil {
		return nil, err
	}
	return []byte(f.Text), nil
}

// File returns the file at path (open document or disk).
func (s *Snapshot) File(path string) (*File, error) { return s.file(path, nil) }

// file is File; dirs, when not nil, remembers for one walk what reading a file asks about
// its folder (its real path, its chart root), shared by the files of the folder.
func (s *Snapshot) file(path string, dirs *dirMemo) (*File, error) {
	path = Clean(path)
	if f := s.overlays[path]; f != nil {
		return f, nil
	}
	s.disk.mu.Lock()
	e, ok := s.disk.files[path]
	s.disk.mu.Unlock()
	if ok {
		return e.f, e.err
	}
	f, err := s.readDisk(path, dirs)
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	if e, ok := s.disk.files[path]; ok {
		// Read meanwhile by another goroutine: one File per path, so its models are shared.
		return e.f, e.err
	}
	s.disk.files[path] = diskEntry{f, err}
	return f, err
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
	if st == nil {
		if st, err = os.Stat(real); err != nil {
			return nil, err
		}
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes is more than the %d-byte limit", path, st.Size(), MaxFileSize)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path, Text: string(data)}
	f.Kind = DetectKind(path, "", data, dirs.chartRoot(s, path))
	return f, nil
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

// Exists reports whether path is an open document or a regular file inside the roots.
func (s *Snapshot) Exists(path string) bool {
	_, err := s.File(path)
	return err == nil
}

// ChartRoot returns the directory of the Helm chart (the nearest Chart.yaml) holding path,
// searching no higher than its workspace root; "" when none.
func (s *Snapshot) ChartRoot(path string) string {
	root := s.Root(path)
	if root == "" {
		return ""
	}
	for dir := filepath.Dir(Clean(path)); within(root, dir); dir = filepath.Dir(dir) {
		if _, ok := s.overlays[filepath.Join(dir, "Chart.yaml")]; ok {
			return dir
		}
		if st, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err == nil && st.Mode().IsRegular() {
			return dir
		}
		if dir == root {
			break
		}
	}
	return ""
}

// ConfigFor returns the configuration in force for path: defaults, editor settings, then
// the nearest .nonroot-ls.yaml between path and its workspace root. A broken config file is
// ignored here (its own diagnostics say why).
func (s *Snapshot) ConfigFor(path string) Config {
	return s.configFor(path).Merge(s.override)
}

func (s *Snapshot) configFor(path string) Config {
	c := Config{}.Merge(&s.settings)
	root := s.Root(path)
	if root == "" {
		return c
	}
	for dir := filepath.Dir(Clean(path)); within(root, dir); dir = filepath.Dir(dir) {
		cf := filepath.Join(dir, ConfigFileName)
		if f, err := s.File(cf); err == nil {
			if pc := f.Memo(configKey{}, func() any { return parseConfigFile(f) }).(*parsedConfig); pc.err == nil {
				return c.Merge(pc.cfg)
			}
			return c
		}
		if dir == root {
			break
		}
	}
	return c
}

type configKey struct{}

type parsedConfig struct {
	cfg *Config
	err error
}

func parseConfigFile(f *File) *parsedConfig {
	c, err := ParseConfig([]byte(f.Text))
	return &parsedConfig{c, err}
}

// Memo returns the value fn computes for key in this snapshot, computing it once.
func (s *Snapshot) Memo(key any, fn func() any) any { return s.memo.get(key, fn) }

// MemoDerived is Memo for values that can be brought up to date from an earlier snapshot's:
// fn receives the value computed for key by the snapshot this one derives from (nil when it
// computed none) and the paths whose content may have changed since; all is true when
// anything may have changed (settings, roots, a full disk re-read) and prev must not be used.
func (s *Snapshot) MemoDerived(key any, fn func(prev any, changed []string, all bool) any) any {
	return s.memo.get(key, func() any {
		prev, ok := s.prev.peek(key)
		if !ok || s.all {
			return fn(nil, nil, true)
		}
		return fn(prev, s.changed, false)
	})
}

// Walk returns the files under the roots that the engine knows how to read (Dockerfiles,
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
	f, err := s.File(p)
	return err == nil && f.Kind != KindUnknown
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
				f, err := s.file(cands[i], dirs[s.Root(cands[i])])
				known[i] = err == nil && f.Kind != KindUnknown
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

func candidateName(base string) bool {
	if IsDockerfileName(base) {
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

// Problem is a reason a file cannot be (fully) analysed, reported as NR001.
type Problem struct {
	Range   text.Range
	Message string
}

var parseChecks = map[FileKind]func(*Snapshot, *File) []Problem{}

// RegisterParseCheck registers the function that reports why a file of kind k cannot be
// analysed (its model's parse errors). Call it from init.
func RegisterParseCheck(k FileKind, fn func(*Snapshot, *File) []Problem) { parseChecks[k] = fn }

// NR001 is the engine's own rule: the file cannot be analysed (syntax error, binary, too large).
var NR001 = &Rule{
	ID:       "NR001",
	Title:    "File cannot be analysed",
	Severity: SeverityError,
	Kinds:    []FileKind{KindDockerfile, KindManifest, KindCompose, KindHelmChart, KindHelmValues, KindHelmTemplate, KindKustomize, KindSkaffold, KindBake, KindConfig},
	Doc: Doc{
		Why:     "nonroot-ls could not build a model of this file, so no other rule can judge it.",
		Runtime: "The same input usually fails the build or the apply too: BuildKit, kubectl and Helm reject what they cannot parse.",
		Fix:     "Correct the syntax error the message names. Binary files and files over 16 MiB are not analysed.",
		Source:  "SPEC §5: a bad file gets a clear diagnostic, never a crash.",
		Bad:     "FROM alpine\nUSER\n",
		Good:    "FROM alpine\nUSER 10001:0\n",
	},
	Run: func(pass *Pass) {
		f := pass.File
		if f.Binary() {
			pass.Reportf(text.Range{}, "binary file: not analysed")
			return
		}
		if f.Kind == KindConfig {
			if pc := f.Memo(configKey{}, func() any { return parseConfigFile(f) }).(*parsedConfig); pc.err != nil {
				pass.Reportf(f.Lines().LineRange(ErrorLine(pc.err.Error())), "invalid %s: %v", ConfigFileName, pc.err)
			}
			return
		}
		if fn := parseChecks[f.Kind]; fn != nil {
			for _, p := range fn(pass.Snapshot, f) {
				pass.Report(Finding{Range: p.Range, Message: p.Message})
			}
		}
	},
}

// ErrorLine extracts the 0-based line from a "line N" in a parser's error message (0 when none).
func ErrorLine(msg string) int {
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range msg[i+5:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	if n > 0 {
		return n - 1
	}
	return 0
}

func init() { Register(NR001) }

// Diagnose runs the rules that apply to path's kind and profile and returns their findings,
// with severities from the configuration, suppressions applied, sorted. A rule that panics
// yields an NR001 finding naming the rule instead of taking the caller down.
//
// The result is memoised on the snapshot (it is immutable), so the language server's
// hover and code actions reuse what publishing computed; each call returns its own slice.
func (s *Snapshot) Diagnose(path string) []Finding {
	fs := s.Memo(diagnoseKey{Clean(path)}, func() any { return s.diagnose(path) }).([]Finding)
	return append([]Finding(nil), fs...)
}

type diagnoseKey struct{ path string }

func (s *Snapshot) diagnose(path string) []Finding {
	f, err := s.File(path)
	if err != nil || f.Kind == KindUnknown || s.Ignored(f.Path) {
		return nil
	}
	cfg := s.ConfigFor(f.Path)
	profile := s.ProfileFor(f.Path)
	var out []Finding
	binary := f.Binary()
	for _, r := range Rules() {
		if !r.RunsOn(f.Kind) || !r.RunsIn(profile) {
			continue
		}
		if binary && r != NR001 {
			continue
		}
		sev := cfg.SeverityOf(r, profile)
		if sev == SeverityOff {
			continue
		}
		pass := &Pass{Rule: r, Snapshot: s, File: f, Config: &cfg, Profile: profile}
		runRule(pass)
		for i := range pass.findings {
			if pass.findings[i].Severity == SeverityOff {
				pass.findings[i].Severity = sev
			}
		}
		out = append(out, pass.findings...)
	}
	// Every suppression comment has "ignore=": a file without it has none to read.
	if len(out) > 0 && (f.Kind == KindDockerfile || isYAMLKind(f.Kind)) && strings.Contains(f.Text, "ignore=") {
		sup := f.Memo(suppressKey{}, func() any { return parseSuppressions(f.Lines()) }).(*suppressions)
		kept := out[:0]
		for _, fd := range out {
			if fd.RuleID == NR001.ID || fd.File != f.Path || !sup.suppressed(fd, f.Lines(), f.Kind != KindDockerfile) {
				kept = append(kept, fd)
			}
		}
		out = kept
	}
	SortFindings(out)
	return out
}

type suppressKey struct{}

func isYAMLKind(k FileKind) bool {
	switch k {
	case KindManifest, KindCompose, KindHelmChart, KindHelmValues, KindHelmTemplate, KindKustomize, KindSkaffold, KindConfig:
		return true
	}
	return false
}

func runRule(pass *Pass) {
	defer func() {
		if v := recover(); v != nil {
			pass.findings = []Finding{{
				RuleID:   NR001.ID,
				Severity: SeverityError,
				File:     pass.File.Path,
				Message:  fmt.Sprintf("internal error in rule %s: %v (please report this with the file)", pass.Rule.ID, v),
				Data:     string(debug.Stack()),
			}}
		}
	}()
	pass.Rule.Run(pass)
}

// ProfileFor returns the profile in force for path: the configured one, else openshift when
// the workspace holds OpenShift objects (as a registered detector says), else kubernetes.
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

var profileDetector func(*File) bool

// RegisterOpenShiftDetector sets the function that says whether a manifest holds OpenShift
// objects (Route, DeploymentConfig, SCC, ImageStream, BuildConfig). Its answer is kept for
// each file, so a new snapshot only asks it about the files that changed.
func RegisterOpenShiftDetector(fn func(*File) bool) { profileDetector = fn }

type openshiftKey struct{}

type openshiftFileKey struct{}

// OpenShiftFiles returns the manifests of the walk that hold OpenShift objects (as the
// registered detector says), sorted. Memoised on the snapshot and brought up to date from the
// previous snapshot's: only changed files are asked about.
func (s *Snapshot) OpenShiftFiles() []string {
	if profileDetector == nil {
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
	return f.Memo(openshiftFileKey{}, func() any { return profileDetector(f) }).(bool)
}

// Hover is Markdown about a range of a file.
type Hover struct {
	Range    text.Range
	Markdown string
}

var hoverFuncs = map[FileKind][]func(*Snapshot, *File, text.Pos) *Hover{}

// RegisterHover adds a hover provider for files of kind k. Call it from init.
func RegisterHover(k FileKind, fn func(*Snapshot, *File, text.Pos) *Hover) {
	hoverFuncs[k] = append(hoverFuncs[k], fn)
}

// Hover returns what to show at pos in path: the documentation of findings there, then what
// the file's model says about the thing under the cursor. Nil when there is nothing.
func (s *Snapshot) Hover(path string, pos text.Pos) *Hover {
	f, err := s.File(path)
	if err != nil {
		return nil
	}
	var parts []string
	var rng text.Range
	for _, fd := range s.Diagnose(path) {
		if fd.Range.Contains(pos) {
			parts = append(parts, FindingMarkdown(fd))
			if rng.IsZero() {
				rng = fd.Range
			}
		}
	}
	for _, fn := range hoverFuncs[f.Kind] {
		if h := safeHover(fn, s, f, pos); h != nil && h.Markdown != "" {
			parts = append(parts, h.Markdown)
			if rng.IsZero() {
				rng = h.Range
			}
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return &Hover{Range: rng, Markdown: strings.Join(parts, "\n\n---\n\n")}
}

func safeHover(fn func(*Snapshot, *File, text.Pos) *Hover, s *Snapshot, f *File, pos text.Pos) (h *Hover) {
	defer func() {
		if recover() != nil {
			h = nil
		}
	}()
	return fn(s, f, pos)
}

// FindingMarkdown is the hover text of a finding: the message, then the rule's why, what
// happens at runtime, how to fix, and a link to its page.
func FindingMarkdown(fd Finding) string {
	var b bytes.Buffer
	r := fd.Rule()
	if r == nil {
		fmt.Fprintf(&b, "**%s** %s", fd.RuleID, fd.Message)
		return b.String()
	}
	fmt.Fprintf(&b, "**%s: %s** (%s)\n\n%s\n", r.ID, r.Title, fd.Severity, fd.Message)
	if r.Doc.Why != "" {
		fmt.Fprintf(&b, "\n**Why:** %s\n", r.Doc.Why)
	}
	if r.Doc.Runtime != "" {
		fmt.Fprintf(&b, "\n**At runtime:** %s\n", r.Doc.Runtime)
	}
	if r.Doc.Fix != "" {
		fmt.Fprintf(&b, "\n**Fix:** %s\n", r.Doc.Fix)
	}
	if r.Doc.Source != "" {
		fmt.Fprintf(&b, "\n> %s\n", r.Doc.Source)
	}
	fmt.Fprintf(&b, "\n[%s documentation](%s)", r.ID, r.DocURL())
	return b.String()
}

var inspectFuncs = map[FileKind]func(*Snapshot, *File) any{}

// RegisterInspect sets the function that describes a file's model for `nonroot-ls inspect`.
func RegisterInspect(k FileKind, fn func(*Snapshot, *File) any) { inspectFuncs[k] = fn }

// Inspect returns the model of path as the engine sees it (JSON-serialisable), or nil when
// no model is registered for its kind.
func (s *Snapshot) Inspect(path string) (any, error) {
	f, err := s.File(path)
	if err != nil {
		return nil, err
	}
	fn := inspectFuncs[f.Kind]
	if fn == nil {
		return nil, nil
	}
	v := fn(s, f)
	for _, an := range inspectAnnotators {
		if key, val := an(s, f); key != "" && v != nil {
			v = annotate(v, key, val)
		}
	}
	return v, nil
}

var inspectAnnotators []func(*Snapshot, *File) (string, any)

// RegisterInspectAnnotation adds a function whose (key, value) is added to the inspect output
// of a file: to the model when it is a JSON object, to each element when it is an array of
// objects. A function returns key "" to add nothing. Call it from init.
func RegisterInspectAnnotation(fn func(*Snapshot, *File) (key string, value any)) {
	inspectAnnotators = append(inspectAnnotators, fn)
}

// annotate returns v (as JSON) with "key": val added, keeping the model's key order.
func annotate(v any, key string, val any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	kv, err := json.Marshal(map[string]any{key: val})
	if err != nil {
		return v
	}
	entry := kv[1 : len(kv)-1]
	addTo := func(obj []byte) []byte {
		obj = bytes.TrimSpace(obj)
		if len(obj) < 2 || obj[0] != '{' {
			return obj
		}
		body := bytes.TrimSpace(obj[1 : len(obj)-1])
		out := append([]byte{'{'}, body...)
		if len(body) > 0 {
			out = append(out, ',')
		}
		out = append(out, entry...)
		return append(out, '}')
	}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) > 0 && data[0] == '{':
		return json.RawMessage(addTo(data))
	case len(data) > 0 && data[0] == '[':
		var elems []json.RawMessage
		if json.Unmarshal(data, &elems) != nil {
			return v
		}
		for i := range elems {
			elems[i] = addTo(elems[i])
		}
		out, err := json.Marshal(elems)
		if err != nil {
			return v
		}
		return json.RawMessage(out)
	}
	return v
}
