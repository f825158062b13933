package events

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logSource is a Source over an in-memory log of replay ids, with a
// retention floor: ids below it are gone.
type logSource struct {
	mu      sync.Mutex
	ids     []int64
	floor   int64 // the earliest retained id
	changed chan struct{}
	runs    int
}

func newLogSource(n int) *logSource {
	s := &logSource{changed: make(chan struct{}), floor: 1}
	for i := 1; i <= n; i++ {
		s.ids = append(s.ids, int64(i))
	}
	return s
}

func (s *logSource) Key() string { return "test:log" }

func (s *logSource) append(n int) {
	s.mu.Lock()
	for range n {
		s.ids = append(s.ids, int64(len(s.ids)+1))
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *logSource) Run(ctx context.Context, pos []byte, start Replay, deliver func(context.Context, Event) error) error {
	s.mu.Lock()
	s.runs++
	after := int64(0)
	switch {
	case pos != nil:
		id, err := strconv.ParseInt(string(pos), 10, 64)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		if id < s.floor {
			s.mu.Unlock()
			return ErrPositionGone
		}
		after = id
	case start == ReplayAll:
		after = s.floor - 1
	default:
		after = int64(len(s.ids))
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		var next []int64
		for _, id := range s.ids {
			if id > after {
				next = append(next, id)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		for _, id := range next {
			p := strconv.FormatInt(id, 10)
			if err := deliver(ctx, Event{Channel: "/test", ReplayID: id, Position: []byte(p)}); err != nil {
				return err
			}
			after = id
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// collect runs sub until handle says stop (by cancelling), returning the
// ids handled.
func runUntil(t *testing.T, sub *Subscription, n int, fail func(id int64) error) ([]int64, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []int64
	err := sub.Run(ctx, func(_ context.Context, ev Event) error {
		if fail != nil {
			if err := fail(ev.ReplayID); err != nil {
				return err
			}
		}
		got = append(got, ev.ReplayID)
		if len(got) == n {
			cancel()
		}
		return nil
	})
	return got, err
}

func TestSubscriptionSavesAfterHandlerAndResumes(t *testing.T) {
	src := newLogSource(5)
	store := newMemStore()
	sub := &Subscription{Source: src, Start: ReplayAll, Store: store}
	boom := errors.New("handler failed")
	// The handler fails on event 3: 1 and 2 are saved, 3 is not.
	got, err := runUntil(t, sub, 99, func(id int64) error {
		if id == 3 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, []int64{1, 2}, got)
	pos, err := store.LoadPosition(t.Context(), src.Key())
	require.NoError(t, err)
	assert.Equal(t, "2", string(pos))

	// The next run starts after the saved position: event 3 is delivered again.
	got, err = runUntil(t, sub, 3, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []int64{3, 4, 5}, got)
}

func TestSubscriptionReplayNewSkipsRetained(t *testing.T) {
	src := newLogSource(5)
	sub := &Subscription{Source: src, Start: ReplayNew}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []int64
	started := make(chan struct{})
	go func() {
		// The source has started once the lease is held; wait for that run.
		for {
			src.mu.Lock()
			runs := src.runs
			src.mu.Unlock()
			if runs > 0 {
				close(started)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	errc := make(chan error, 1)
	go func() {
		errc <- sub.Run(ctx, func(_ context.Context, ev Event) error {
			got = append(got, ev.ReplayID)
			if len(got) == 2 {
				cancel()
			}
			return nil
		})
	}()
	<-started
	src.append(2)
	require.ErrorIs(t, <-errc, context.Canceled)
	assert.Equal(t, []int64{6, 7}, got)
}

func TestSubscriptionIfGone(t *testing.T) {
	src := newLogSource(6)
	store := newMemStore()
	// A position saved before the retention floor moved past it.
	ok, err := store.AcquireLease(t.Context(), src.Key(), "seed", time.Minute)
	require.True(t, ok)
	require.NoError(t, err)
	require.NoError(t, store.SavePosition(t.Context(), src.Key(), "seed", []byte("2")))
	require.NoError(t, store.ReleaseLease(t.Context(), src.Key(), "seed"))
	src.floor = 4

	_, err = runUntil(t, &Subscription{Source: src, Store: store}, 99, nil)
	require.ErrorIs(t, err, ErrPositionGone, "GoneFail is the default")

	got, err := runUntil(t, &Subscription{Source: src, Store: store, IfGone: GoneEarliest}, 3, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []int64{4, 5, 6}, got, "GoneEarliest starts from the earliest retained event")
}

// A process whose lease was taken over stops at its next save: the event it
// handled is not saved by it, and it delivers nothing more.
func TestSubscriptionStopsWhenLeaseLost(t *testing.T) {
	src := newLogSource(5)
	store := newMemStore()
	sub := &Subscription{Source: src, Start: ReplayAll, Store: store, Holder: "a", LeaseTTL: time.Hour}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []int64
	err := sub.Run(ctx, func(_ context.Context, ev Event) error {
		got = append(got, ev.ReplayID)
		if ev.ReplayID == 2 {
			// Another process takes the lease over (as after an expiry).
			store.mu.Lock()
			store.leases[src.Key()] = memLease{holder: "b", expires: time.Now().Add(time.Hour)}
			store.mu.Unlock()
			// Run now waits for the lease; end the test once it does.
			time.AfterFunc(50*time.Millisecond, cancel)
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []int64{1, 2}, got, "nothing is delivered after the lease is lost")
	pos, _ := store.LoadPosition(t.Context(), src.Key())
	assert.Equal(t, "1", string(pos), "the lost holder does not move the position")
}

// Two subscriptions share a store: one listens; when it ends, the other
// takes over from the saved position.
func TestSubscriptionLeaseFailover(t *testing.T) {
	src := newLogSource(0)
	store := newMemStore()
	ttl := time.Second
	first := &Subscription{Source: src, Start: ReplayAll, Store: store, Holder: "first", LeaseTTL: ttl}
	second := &Subscription{Source: src, Start: ReplayAll, Store: store, Holder: "second", LeaseTTL: ttl}

	type seen struct {
		who string
		id  int64
	}
	var mu sync.Mutex
	var log []seen
	handler := func(who string) Handler {
		return func(_ context.Context, ev Event) error {
			mu.Lock()
			log = append(log, seen{who, ev.ReplayID})
			mu.Unlock()
			return nil
		}
	}
	ctx1, cancel1 := context.WithCancel(t.Context())
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	done1, done2 := make(chan error, 1), make(chan error, 1)
	go func() { done1 <- first.Run(ctx1, handler("first")) }()
	require.Eventually(t, func() bool { return leaseHolder(store, src.Key()) == "first" }, 5*time.Second, time.Millisecond)
	go func() { done2 <- second.Run(ctx2, handler("second")) }()

	src.append(3)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 3 }, 5*time.Second, time.Millisecond)
	cancel1()
	require.ErrorIs(t, <-done1, context.Canceled)
	require.Eventually(t, func() bool { return leaseHolder(store, src.Key()) == "second" }, 5*time.Second, time.Millisecond)
	src.append(2)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 5 }, 5*time.Second, time.Millisecond)
	cancel2()
	require.ErrorIs(t, <-done2, context.Canceled)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []seen{{"first", 1}, {"first", 2}, {"first", 3}, {"second", 4}, {"second", 5}}, log)
}

func leaseHolder(m *memStore, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[key]
	if !ok || time.Now().After(l.expires) {
		return ""
	}
	return l.holder
}

// failingStore fails AcquireLease while fail is set.
type failingStore struct {
	*memStore
	fail atomic.Bool
}

func (f *failingStore) AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error) {
	if f.fail.Load() {
		return false, errors.New("store unreachable")
	}
	return f.memStore.AcquireLease(ctx, key, holder, ttl)
}

// A renewal that fails stops the listening at once (events published then
// are not delivered by this holder); once the store answers again, the
// subscription takes the lease back and resumes from the saved position.
func TestSubscriptionStopsWhenRenewalFails(t *testing.T) {
	src := newLogSource(2)
	store := &failingStore{memStore: newMemStore()}
	sub := &Subscription{Source: src, Start: ReplayAll, Store: store, LeaseTTL: time.Second}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	var got []int64
	done := make(chan error, 1)
	go func() {
		done <- sub.Run(ctx, func(_ context.Context, ev Event) error {
			mu.Lock()
			got = append(got, ev.ReplayID)
			mu.Unlock()
			return nil
		})
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	require.Eventually(t, func() bool { return count() == 2 }, 5*time.Second, time.Millisecond)
	store.fail.Store(true)
	// The source stops once the renewal failed: its run count grows when it
	// is started again, which needs the lease.
	require.Eventually(t, func() bool { return leaseHolder(store.memStore, src.Key()) == "" }, 5*time.Second, time.Millisecond)
	src.append(2)
	store.fail.Store(false)
	require.Eventually(t, func() bool { return count() == 4 }, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int64{1, 2, 3, 4}, got)
	src.mu.Lock()
	defer src.mu.Unlock()
	assert.GreaterOrEqual(t, src.runs, 2, "the source was stopped and started again")
}
