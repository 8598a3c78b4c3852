package diagnostics

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Snapshot is an immutable view of the workspace: its roots, the editor's settings, the open
// documents, and the files on disk under the roots (read lazily, only inside the roots).
// Changes produce a new snapshot with [Snapshot.WithFile], [Snapshot.WithoutFile],
// [Snapshot.WithSettings] and [Snapshot.WithDiskChanges]; unchanged files keep their models.
type Snapshot struct {
	eng      *Engine
	roots    []string // absolute, clean, symlinks resolved
	settings Config   // editor settings (below .nonroot-ls.yaml)
	override *Config  // command-line settings (above .nonroot-ls.yaml); nil when none
	overlays map[string]*File
	disk     *diskCache
	memo     *memo

	// changed are the paths whose content may differ since the snapshot whose memo this
	// one's derives from (memo.prev, the nearest one that computed something), all that
	// anything may have changed (settings, too many paths). See [Snapshot.MemoDerived].
	changed []string
	all     bool
}

// maxChanged bounds the changed paths a snapshot remembers before it says "all".
const maxChanged = 256

func newSnapshot(e *Engine, roots []string, settings Config) *Snapshot {
	s := &Snapshot{eng: e, settings: settings, overlays: map[string]*File{}, disk: &diskCache{files: map[string]diskEntry{}}, memo: &memo{}, all: true}
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
	n := &Snapshot{eng: s.eng, roots: s.roots, settings: s.settings, override: s.override, overlays: make(map[string]*File, len(s.overlays)+1), disk: s.disk, memo: &memo{}}
	for k, v := range s.overlays {
		n.overlays[k] = v
	}
	var p *memo
	if !s.memo.empty() {
		p = s.memo
	} else {
		p, n.changed, n.all = s.memo.predecessor(), append([]string(nil), s.changed...), s.all
	}
	n.memo.prev.Store(p)
	// Memoised values may hold their snapshot, and so its memo's predecessor: cut the chain
	// two memos back, or every snapshot of an editing session stays alive.
	if gp := p.predecessor(); gp != nil {
		gp.prev.Store(nil)
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

// Engine returns the engine the snapshot belongs to.
func (s *Snapshot) Engine() *Engine { return s.eng }

// State returns the per-engine state of the named group (see [Group.NewState]), or nil.
func (s *Snapshot) State(group string) any { return s.eng.states[group] }

// BuildTarget returns the stage a Dockerfile's image is built from, as the group that reads
// build configurations says (compose, bake, skaffold targets); "" for the last stage. When the
// workspace builds several, it is the most trusted one ([Snapshot.BuildTargets] has them all).
func (s *Snapshot) BuildTarget(dockerfile string) string {
	if ts := s.BuildTargets(dockerfile); len(ts) > 0 {
		return ts[0]
	}
	return ""
}

// BuildTargets returns the stages the workspace builds a Dockerfile's image from, each once,
// the most trusted first ("" for the last stage); none when nothing names one (the last stage
// is built).
func (s *Snapshot) BuildTargets(dockerfile string) []string {
	if s.eng.buildTargets == nil {
		return nil
	}
	return s.eng.buildTargets(s, Clean(dockerfile))
}

// BuiltBy returns the build roots (kustomization files) whose output holds the manifest at
// path, as the group that builds them says; none when the manifest is applied alone.
func (s *Snapshot) BuiltBy(path string) []string {
	if s.eng.builtBy == nil {
		return nil
	}
	return s.eng.builtBy(s, Clean(path))
}

// Roots returns the workspace roots.
func (s *Snapshot) Roots() []string { return s.roots }

// Settings returns the editor settings.
func (s *Snapshot) Settings() Config { return s.settings }

// WithFile returns a snapshot in which path has the given text (an open editor document).
func (s *Snapshot) WithFile(path string, version int32, languageID, content string) *Snapshot {
	n := s.clone()
	path = Clean(path)
	f := &File{Path: path, Version: version, Text: content, LanguageID: languageID, Open: true, eng: s.eng}
	if old := s.overlays[path]; old != nil {
		f.setPrevious(old)
	} else {
		s.disk.mu.Lock()
		e := s.disk.files[path]
		s.disk.mu.Unlock()
		f.setPrevious(e.f)
	}
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
	n := newSnapshot(s.eng, roots, s.settings)
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
	if err == nil && f.eng != nil {
		err = f.eng.ValidateConfig(c)
	}
	if err != nil {
		return &parsedConfig{nil, err}
	}
	return &parsedConfig{c, nil}
}

// Memo returns the value fn computes for key in this snapshot, computing it once.
func (s *Snapshot) Memo(key any, fn func() any) any { return s.memo.get(key, fn) }

// MemoCtx is Memo for a computation that ctx can cancel: fn reports false when it stopped
// early, and that result is not kept. MemoCtx returns false when ctx is done before a value
// is had.
func (s *Snapshot) MemoCtx(ctx context.Context, key any, fn func(context.Context) (any, bool)) (any, bool) {
	return s.memo.getCtx(ctx, key, fn)
}

// MemoDerived is Memo for values that can be brought up to date from an earlier snapshot's:
// fn receives the value computed for key by the snapshot this one derives from (nil when it
// computed none) and the paths whose content may have changed since; all is true when
// anything may have changed (settings, roots, a full disk re-read) and prev must not be used.
func (s *Snapshot) MemoDerived(key any, fn func(prev any, changed []string, all bool) any) any {
	return s.memo.get(key, func() any {
		prev, ok := s.memo.predecessor().peek(key)
		if !ok || s.all {
			return fn(nil, nil, true)
		}
		return fn(prev, s.changed, false)
	})
}

// Walk returns the files under the roots that the engine knows how to read (Dockerfiles,
