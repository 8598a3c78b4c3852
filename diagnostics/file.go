package diagnostics

import (
	"container/list"
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// File is one immutable version of a document. Models parsed from it are memoised on it, so a
// file that did not change between snapshots is not parsed again.
type File struct {
	Path       string // absolute, clean
	Version    int32  // editor version (0 for files read from disk)
	Text       string
	LanguageID string
	Kind       FileKind
	Open       bool // an editor overlay rather than the disk

	eng       *Engine
	linesOnce sync.Once
	lines     *text.Lines
	memo      memo
	cached    *list.Element // the file's place in the engine's model cache (guarded by models.mu)
	prev      atomic.Pointer[File]
}

// Lines returns the file's line index.
func (f *File) Lines() *text.Lines {
	f.linesOnce.Do(func() { f.lines = text.NewLines(f.Text) })
	return f.lines
}

// Memo returns the value fn computes for key on this file, computing it once while it is
// kept. fn must depend on the file alone. The values of an open document are kept as long as
// the file; those of a file read from disk are kept in the engine's bounded cache of the
// files used most recently (a group's Kept keys, the small summaries that workspace-wide
// analyses read, are always kept), so a workspace index does not hold every file's model.
func (f *File) Memo(key any, fn func() any) any {
	v := f.memo.get(key, fn)
	if !f.Open && f.eng != nil && !f.eng.kept[key] {
		f.eng.models.touch(f)
	}
	return v
}

// Peek returns the value memoised for key, if it has been computed and is still kept.
func (f *File) Peek(key any) (any, bool) { return f.memo.peek(key) }

// Previous returns the earlier version of this open document that a model may be built from
// incrementally (the last one whose models were computed), or nil. Only one earlier version
// is ever kept, so versions do not chain.
func (f *File) Previous() *File { return f.prev.Load() }

// ReleasePrevious forgets the previous version once the models built from it exist.
func (f *File) ReleasePrevious() { f.prev.Store(nil) }

// setPrevious makes old the version f starts from: old itself when it computed models, else
// the version old started from. old forgets its own previous version, so at most two
// versions of a document are alive.
func (f *File) setPrevious(old *File) {
	if old == nil {
		return
	}
	p := old.prev.Swap(nil)
	if !old.memo.empty() {
		p = old
	}
	f.prev.Store(p)
}

// Binary reports whether the file looks binary (a NUL byte in its first 8 KiB).
func (f *File) Binary() bool {
	head := f.Text
	if len(head) > 8192 {
		head = head[:8192]
	}
	return strings.IndexByte(head, 0) >= 0
}

// memo is a set of values computed at most once each (unless a computation was cancelled).
type memo struct {
	mu sync.Mutex
	m  map[any]*memoEntry
	// prev is the memo of the snapshot this one's derives from (snapshots only), or nil.
	prev atomic.Pointer[memo]
}

// predecessor returns m's predecessor; nil for a nil memo.
func (m *memo) predecessor() *memo {
	if m == nil {
		return nil
	}
	return m.prev.Load()
}

type memoEntry struct {
	done chan struct{} // closed when the computation ended
	v    any
	ok   bool // the value was computed (not cancelled, no panic)
}

// get returns the value fn computes for key (fn is not cancellable).
func (m *memo) get(key any, fn func() any) any {
	v, _ := m.getCtx(context.Background(), key, func(context.Context) (any, bool) { return fn(), true })
	return v
}

// getCtx returns the value fn computes for key. fn reports false when ctx was cancelled
// before it finished: such a result is not kept, and a caller waiting for it computes the
// value itself. getCtx returns false when ctx is done before a value is had. A panic in fn is
// passed on to its caller; waiting callers compute the value again.
func (m *memo) getCtx(ctx context.Context, key any, fn func(context.Context) (any, bool)) (any, bool) {
	for {
		m.mu.Lock()
		if m.m == nil {
			m.m = map[any]*memoEntry{}
		}
		e := m.m[key]
		if e == nil {
			e = &memoEntry{done: make(chan struct{})}
			m.m[key] = e
			m.mu.Unlock()
			return m.compute(ctx, key, e, fn)
		}
		m.mu.Unlock()
		select {
		case <-e.done:
			if e.ok {
				return e.v, true
			}
			// The computation was cancelled or panicked: try again (its entry is gone).
		case <-ctx.Done():
			return nil, false
		}
		if ctx.Err() != nil {
			return nil, false
		}
	}
}

func (m *memo) compute(ctx context.Context, key any, e *memoEntry, fn func(context.Context) (any, bool)) (v any, ok bool) {
	defer func() {
		if !ok {
			m.mu.Lock()
			if m.m[key] == e {
				delete(m.m, key)
			}
			m.mu.Unlock()
		}
		close(e.done)
	}()
	v, ok = fn(ctx)
	if ok {
		m.mu.Lock()
		e.v, e.ok = v, true
		m.mu.Unlock()
	}
	return v, ok
}

// peek returns the value computed for key, if it has been.
func (m *memo) peek(key any) (any, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.m[key]; e != nil && e.ok {
		return e.v, true
	}
	return nil, false
}

// drop forgets the value of key.
func (m *memo) drop(key any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
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
