package placement

import "sync"

// maxMemoEntries bounds a memo's memory, whatever the strings it is asked about.
const maxMemoEntries = 4096

// memo remembers the results of a pure function of a string, for values that every pass asks about again (pod
// annotations, image references) and that repeat across a set's pods. Nothing decided depends on what it holds: it
// is emptied whole when it reaches maxMemoEntries entries.
type memo[V any] struct {
	compute func(string) V
	mu      sync.Mutex
	byKey   map[string]V
}

func newMemo[V any](compute func(string) V) *memo[V] {
	return &memo[V]{compute: compute, byKey: map[string]V{}}
}

// of is compute(key), remembered.
func (m *memo[V]) of(key string) V {
	m.mu.Lock()
	v, found := m.byKey[key]
	m.mu.Unlock()
	if found {
		return v
	}
	v = m.compute(key)
	m.mu.Lock()
	if len(m.byKey) >= maxMemoEntries {
		clear(m.byKey)
	}
	m.byKey[key] = v
	m.mu.Unlock()
	return v
}
