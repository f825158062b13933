package transport

import (
	"sync"
	"sync/atomic"
)

// smallMap is a concurrent map for the few keys an orgBase keeps (the org's
// hosts, a probe's connection): a read takes no lock and allocates nothing,
// and a write copies the entries under a lock. A sync.Map allocates a node of
// sixteen children on its first write; a write here allocates the entries
// alone. Every operation is linear in the number of keys, which suits a
// handful, not hundreds.
type smallMap[K, V comparable] struct {
	mu      sync.Mutex
	entries atomic.Pointer[[]smallEntry[K, V]] // never changed once stored
}

type smallEntry[K, V comparable] struct {
	key K
	val V
}

// Load returns the value stored for key.
func (m *smallMap[K, V]) Load(key K) (v V, ok bool) {
	if p := m.entries.Load(); p != nil {
		for _, e := range *p {
			if e.key == key {
				return e.val, true
			}
		}
	}
	return v, false
}

// LoadOrStore returns the value stored for key, or stores v.
func (m *smallMap[K, V]) LoadOrStore(key K, v V) (actual V, loaded bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.Load(key); ok {
		return old, true
	}
	m.setLocked(key, v)
	return v, false
}

// Store sets the value for key.
func (m *smallMap[K, V]) Store(key K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(key, v)
}

// LoadAndDelete deletes the value for key and returns it.
func (m *smallMap[K, V]) LoadAndDelete(key K) (v V, loaded bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, loaded = m.Load(key); loaded {
		m.deleteLocked(key)
	}
	return v, loaded
}

// CompareAndDelete deletes key when its value is old.
func (m *smallMap[K, V]) CompareAndDelete(key K, old V) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.Load(key); !ok || v != old {
		return false
	}
	m.deleteLocked(key)
	return true
}

// Clear deletes every key.
func (m *smallMap[K, V]) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries.Store(nil)
}

func (m *smallMap[K, V]) setLocked(key K, v V) {
	var cur []smallEntry[K, V]
	if p := m.entries.Load(); p != nil {
		cur = *p
	}
	next := make([]smallEntry[K, V], 0, len(cur)+1)
	replaced := false
	for _, e := range cur {
		if e.key == key {
			e.val, replaced = v, true
		}
		next = append(next, e)
	}
	if !replaced {
		next = append(next, smallEntry[K, V]{key, v})
	}
	m.entries.Store(&next)
}

func (m *smallMap[K, V]) deleteLocked(key K) {
	cur := *m.entries.Load()
	if len(cur) == 1 {
		m.entries.Store(nil)
		return
	}
	next := make([]smallEntry[K, V], 0, len(cur)-1)
	for _, e := range cur {
		if e.key != key {
			next = append(next, e)
		}
	}
	m.entries.Store(&next)
}
