package diagnostics

import (
	"context"
	"sync"
)

// Cache keeps the values of an expensive computation by key across snapshots (a chart's
// render by its content), for the engine that owns it: a group makes one in its
// Group.NewState. It holds at most its size of entries (the oldest go first). A computation
// runs once per key even when several callers ask at the same time; one that ctx cancelled is
// not kept, and a caller still waiting for it computes the value itself.
type Cache struct {
	size  int
	mu    sync.Mutex
	memo  memo
	order []any
}

// NewCache returns a cache of at most size entries.
func NewCache(size int) *Cache { return &Cache{size: max(size, 1)} }

// Get returns the value fn computes for key. fn reports false when ctx stopped it; Get
// returns false when it has no value because ctx is done.
func (c *Cache) Get(ctx context.Context, key any, fn func(context.Context) (any, bool)) (any, bool) {
	if v, ok := c.memo.peek(key); ok {
		return v, true
	}
	v, ok := c.memo.getCtx(ctx, key, fn)
	if ok {
		c.mu.Lock()
		if !contains(c.order, key) {
			c.order = append(c.order, key)
			for len(c.order) > c.size {
				c.memo.drop(c.order[0])
				c.order = c.order[1:]
			}
		}
		c.mu.Unlock()
	}
	return v, ok
}

func contains(keys []any, k any) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
