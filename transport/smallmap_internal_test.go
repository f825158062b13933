package transport

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSmallMap: the operations orgBase uses, as sync.Map defines them, and
// readers that see every write whole while writers run.
func TestSmallMap(t *testing.T) {
	var m smallMap[string, *int]
	one, two := new(int), new(int)
	_, ok := m.Load("a")
	assert.False(t, ok)
	v, loaded := m.LoadOrStore("a", one)
	assert.False(t, loaded)
	assert.Same(t, one, v)
	v, loaded = m.LoadOrStore("a", two)
	assert.True(t, loaded)
	assert.Same(t, one, v, "the value stored first stays")
	m.Store("b", two)
	m.Store("a", two)
	v, _ = m.Load("a")
	assert.Same(t, two, v, "Store replaces")
	assert.False(t, m.CompareAndDelete("a", one), "not the value stored")
	assert.True(t, m.CompareAndDelete("a", two))
	_, ok = m.Load("a")
	assert.False(t, ok)
	v, loaded = m.LoadAndDelete("b")
	assert.True(t, loaded)
	assert.Same(t, two, v)
	_, loaded = m.LoadAndDelete("b")
	assert.False(t, loaded)
	m.Store("c", one)
	m.Clear()
	_, ok = m.Load("c")
	assert.False(t, ok)

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := strconv.Itoa(w*1000 + i%5)
				m.Store(k, one)
				if v, ok := m.Load(k); ok && v != one && v != two {
					t.Errorf("key %s holds a value never stored", k)
				}
				m.CompareAndDelete(k, one)
				m.LoadOrStore(k, two)
				m.LoadAndDelete(k)
			}
		}()
	}
	wg.Wait()
}
