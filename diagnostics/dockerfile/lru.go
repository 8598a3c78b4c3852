package dockerfile

import "sync"

// genCache is a small bounded cache: two generations of entries; when the current one is
// full it becomes the previous one, so entries used since the last turn survive.
type genCache[V any] struct {
	mu         sync.Mutex
	max        int
	cur, older map[string]V
}

func newGenCache[V any](max int) *genCache[V] {
	return &genCache[V]{max: max, cur: map[string]V{}}
}

func (c *genCache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[k]; ok {
		return v, true
	}
	if v, ok := c.older[k]; ok {
		c.putLocked(k, v)
		return v, true
	}
	var zero V
	return zero, false
}

func (c *genCache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, v)
}

func (c *genCache[V]) putLocked(k string, v V) {
	if len(c.cur) >= c.max {
		c.older, c.cur = c.cur, map[string]V{}
	}
	c.cur[k] = v
}
