package events

import (
	"context"
	"sync"
	"time"
)

// memStore is the Store of a Subscription without one: positions and leases
// in this process's memory, so nothing survives it and no other process
// shares them.
type memStore struct {
	mu     sync.Mutex
	pos    map[string][]byte
	leases map[string]memLease
}

type memLease struct {
	holder  string
	expires time.Time
}

func newMemStore() *memStore {
	return &memStore{pos: map[string][]byte{}, leases: map[string]memLease{}}
}

func (m *memStore) LoadPosition(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.pos[key]...), nil
}

func (m *memStore) SavePosition(ctx context.Context, key, holder string, pos []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[key]; !ok || l.holder != holder || time.Now().After(l.expires) {
		return ErrLeaseLost
	}
	m.pos[key] = append([]byte(nil), pos...)
	return nil
}

func (m *memStore) AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if l, ok := m.leases[key]; ok && l.holder != holder && now.Before(l.expires) {
		return false, nil
	}
	m.leases[key] = memLease{holder: holder, expires: now.Add(ttl)}
	return true, nil
}

func (m *memStore) ReleaseLease(ctx context.Context, key, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[key]; ok && l.holder == holder {
		delete(m.leases, key)
	}
	return nil
}
