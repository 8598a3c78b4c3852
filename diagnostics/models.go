package diagnostics

import (
	"container/list"
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// modelCacheBudget bounds the files whose models (the File.Memo values not under a Kept key)
// stay memoised when they are not open: the sum over those files of their text's length plus
// modelCacheFileCost. Models take some 20–40 times the bytes of their text.
const (
	modelCacheBudget   = 1 << 20
	modelCacheFileCost = 2 << 10
)

// modelCache is an engine's model cache: files read from disk, most recently used first.
type modelCache struct {
	mu     sync.Mutex
	lru    list.List // of *File
	cost   int
	budget int
}

func fileCost(f *File) int { return len(f.Text) + modelCacheFileCost }

// touch marks f as used now and, beyond the budget, forgets the models of the files used
// least recently (never f's own).
func (c *modelCache) touch(f *File) {
	kept := f.eng.kept
	c.mu.Lock()
	if f.cached != nil {
		c.lru.MoveToFront(f.cached)
		c.mu.Unlock()
		return
	}
	f.cached = c.lru.PushFront(f)
	c.cost += fileCost(f)
	for c.cost > c.budget && c.lru.Len() > 1 {
		old := c.lru.Remove(c.lru.Back()).(*File)
		old.cached = nil
		c.cost -= fileCost(old)
		old.memo.dropExcept(kept)
	}
	c.mu.Unlock()
}

// Index builds what workspace-wide analyses read, so that the first edit or request does not
// wait for it: the summaries of every file of the walk (the workspace graph's image uses and
// link declarations, whether a manifest holds OpenShift objects), GOMAXPROCS-1 files at a time,
// then the analyses themselves (the workspace graph, the profile). Full models are not kept
// for files that are not open (see [File.Memo]), so the index's memory grows with the
// summaries only. progress, when not nil, is called after each file with the count done so
// far and the total (from several goroutines). Index returns early when ctx is done.
func (s *Snapshot) Index(ctx context.Context, progress func(done, total int)) {
	files := s.Walk()
	var done atomic.Int64
	// One processor fewer than the machine has (at least one): a language server indexing in
	// the background keeps one free for the requests and edits that arrive meanwhile.
	parallelN(ctx, max(runtime.GOMAXPROCS(0)-1, 1), len(files), func(i int) {
		s.indexFile(files[i])
		if progress != nil {
			progress(int(done.Add(1)), len(files))
		}
	})
	if ctx.Err() != nil {
		return
	}
	s.OpenShiftFiles()
	for _, fn := range s.eng.indexWS {
		fn(s)
	}
}

func (s *Snapshot) indexFile(p string) {
	f, err := s.File(p)
	if err != nil {
		return
	}
	for _, fn := range s.eng.index {
		fn(s, f)
	}
	if s.eng.openShift != nil {
		s.holdsOpenShift(p)
	}
}

// parallel calls fn(0) … fn(n-1) from GOMAXPROCS goroutines, and returns when they have
// returned; it starts no new call once ctx is done.
func parallel(ctx context.Context, n int, fn func(i int)) {
	parallelN(ctx, runtime.GOMAXPROCS(0), n, fn)
}

// parallelN is parallel on at most workers goroutines.
func parallelN(ctx context.Context, workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
