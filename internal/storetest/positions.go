package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
)

// PositionStore is events.Store, named here because storetest sits below
// events: the positions and leases of subscriptions, beside the tokens.
type PositionStore interface {
	LoadPosition(ctx context.Context, key string) ([]byte, error)
	SavePosition(ctx context.Context, key, holder string, pos []byte) error
	AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, key, holder string) error
}

// Subscription keys as the sources name them: channels have slashes.
const (
	subKey   = "/data/AccountChangeEvent"
	otherSub = "/event/Order_Placed__e"
	// shortTTL is the lease a case waits out; long enough that the holder's
	// own calls right after taking it are inside it on a loaded machine.
	shortTTL = 300 * time.Millisecond
	longTTL  = time.Minute
	// expiryBound is how long a lease may outlive its TTL before a case fails.
	expiryBound = 10 * time.Second
)

func positions(t *testing.T, h Harness) {
	ps := func(t *testing.T) PositionStore {
		s := h.New(t)
		p, ok := s.(PositionStore)
		require.True(t, ok, "%T keeps positions and leases (events.Store)", s)
		return p
	}
	t.Run("PositionRoundTrip", func(t *testing.T) { positionRoundTrip(t, ps(t)) })
	t.Run("LeaseExcludes", func(t *testing.T) { leaseExcludes(t, ps(t)) })
	t.Run("LeaseExpiresAndIsTakenOver", func(t *testing.T) { leaseExpires(t, ps(t)) })
	t.Run("LeaseRenewal", func(t *testing.T) { leaseRenewal(t, ps(t)) })
	t.Run("LeaseRelease", func(t *testing.T) { leaseRelease(t, ps(t)) })
	t.Run("LeaseOneOfMany", func(t *testing.T) { leaseOneOfMany(t, ps(t)) })
	t.Run("PositionArgumentsRefused", func(t *testing.T) { positionArgsRefused(t, ps(t)) })
}

func loadPos(t *testing.T, s PositionStore, key string) []byte {
	t.Helper()
	pos, err := s.LoadPosition(t.Context(), key)
	require.NoError(t, err)
	return pos
}

func acquire(t *testing.T, s PositionStore, key, holder string, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.AcquireLease(t.Context(), key, holder, ttl)
	require.NoError(t, err)
	return ok
}

// waitAcquire tries to take key's lease for holder until it gets it, and
// returns when it did.
func waitAcquire(t *testing.T, s PositionStore, key, holder string, ttl time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(expiryBound)
	for time.Now().Before(deadline) {
		if acquire(t, s, key, holder, ttl) {
			return time.Now()
		}
		time.Sleep(10 * time.Millisecond) // the condition is the store's answer
	}
	t.Fatalf("%s never got the lease", holder)
	return time.Time{}
}

func positionRoundTrip(t *testing.T, s PositionStore) {
	ctx := t.Context()
	assert.Nil(t, loadPos(t, s, subKey), "no position, no error")
	require.True(t, acquire(t, s, subKey, "a", longTTL))
	require.NoError(t, s.SavePosition(ctx, subKey, "a", []byte("42")))
	assert.Equal(t, []byte("42"), loadPos(t, s, subKey))
	bin := []byte{0, 0xff, '\n', '"', 1}
	require.NoError(t, s.SavePosition(ctx, subKey, "a", bin))
	assert.Equal(t, bin, loadPos(t, s, subKey), "positions are opaque bytes")
	assert.Nil(t, loadPos(t, s, otherSub), "one subscription's position is not another's")

	// Positions and tokens do not share entries.
	got, err := s.(auth.Store).Load(ctx, subKey)
	if err == nil {
		assert.Nil(t, got)
	}
	// A renewal keeps the position.
	require.True(t, acquire(t, s, subKey, "a", longTTL))
	assert.Equal(t, bin, loadPos(t, s, subKey))
}

func leaseExcludes(t *testing.T, s PositionStore) {
	ctx := t.Context()
	require.True(t, acquire(t, s, subKey, "a", longTTL))
	require.NoError(t, s.SavePosition(ctx, subKey, "a", []byte("1")))
	assert.False(t, acquire(t, s, subKey, "b", longTTL), "a lease held by another is not granted")
	err := s.SavePosition(ctx, subKey, "b", []byte("2"))
	require.ErrorIs(t, err, errs.ErrLeaseLost, "a process without the lease cannot move the position")
	assert.NotErrorIs(t, err, auth.ErrStoreUnavailable)
	assert.Equal(t, []byte("1"), loadPos(t, s, subKey))
	assert.True(t, acquire(t, s, otherSub, "b", longTTL), "one subscription's lease does not hold another's")
	require.ErrorIs(t, s.SavePosition(ctx, otherSub, "a", []byte("x")), errs.ErrLeaseLost)
}

func leaseExpires(t *testing.T, s PositionStore) {
	ctx := t.Context()
	before := time.Now()
	require.True(t, acquire(t, s, subKey, "a", shortTTL))
	require.NoError(t, s.SavePosition(ctx, subKey, "a", []byte("1")))
	got := waitAcquire(t, s, subKey, "b", longTTL)
	// The store's clock rounds to milliseconds.
	assert.GreaterOrEqual(t, got.Sub(before), shortTTL-5*time.Millisecond, "the lease lasted its TTL")
	require.ErrorIs(t, s.SavePosition(ctx, subKey, "a", []byte("2")), errs.ErrLeaseLost,
		"the holder whose lease expired and was taken over cannot save")
	assert.False(t, acquire(t, s, subKey, "a", shortTTL), "nor take it back")
	assert.Equal(t, []byte("1"), loadPos(t, s, subKey), "the new holder resumes from the saved position")
	require.NoError(t, s.SavePosition(ctx, subKey, "b", []byte("3")))
	assert.Equal(t, []byte("3"), loadPos(t, s, subKey))

	// An expired lease nobody took over is not held either: the holder must
	// renew it before saving.
	require.True(t, acquire(t, s, otherSub, "c", shortTTL))
	deadline := time.Now().Add(expiryBound)
	for s.SavePosition(ctx, otherSub, "c", []byte("x")) == nil {
		require.True(t, time.Now().Before(deadline), "a lease never expired")
		time.Sleep(10 * time.Millisecond)
	}
	require.ErrorIs(t, s.SavePosition(ctx, otherSub, "c", []byte("y")), errs.ErrLeaseLost)
	require.True(t, acquire(t, s, otherSub, "c", longTTL), "an expired lease is free to its old holder too")
	require.NoError(t, s.SavePosition(ctx, otherSub, "c", []byte("z")))
}

func leaseRenewal(t *testing.T, s PositionStore) {
	ctx := t.Context()
	start := time.Now()
	require.True(t, acquire(t, s, subKey, "a", shortTTL))
	require.True(t, acquire(t, s, subKey, "a", longTTL), "a renewal")
	// Wait out the first TTL: the renewal is what holds it now.
	time.Sleep(time.Until(start.Add(shortTTL + 50*time.Millisecond)))
	assert.False(t, acquire(t, s, subKey, "b", longTTL), "a renewed lease outlives its first TTL")
	require.NoError(t, s.SavePosition(ctx, subKey, "a", []byte("1")))
}

func leaseRelease(t *testing.T, s PositionStore) {
	ctx := t.Context()
	require.True(t, acquire(t, s, subKey, "a", longTTL))
	require.NoError(t, s.ReleaseLease(ctx, subKey, "b"), "releasing another's lease is no error")
	assert.False(t, acquire(t, s, subKey, "b", longTTL), "and does not release it")
	require.NoError(t, s.ReleaseLease(ctx, subKey, "a"))
	require.ErrorIs(t, s.SavePosition(ctx, subKey, "a", []byte("1")), errs.ErrLeaseLost, "a released lease is not held")
	assert.True(t, acquire(t, s, subKey, "b", longTTL), "a released lease is free at once")
	require.NoError(t, s.ReleaseLease(ctx, subKey, "a"), "a late release by the old holder")
	require.NoError(t, s.SavePosition(ctx, subKey, "b", []byte("2")), "leaves the new holder's lease")
}

// leaseOneOfMany: holders racing for a free lease: exactly one wins.
func leaseOneOfMany(t *testing.T, s PositionStore) {
	const holders = 8
	var won atomic.Int64
	var wg sync.WaitGroup
	for i := range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.AcquireLease(t.Context(), subKey, string(rune('a'+i)), longTTL)
			if assert.NoError(t, err) && ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), won.Load(), "one holder at a time")
}

func positionArgsRefused(t *testing.T, s PositionStore) {
	ctx := t.Context()
	_, err := s.LoadPosition(ctx, "")
	require.ErrorIs(t, err, errs.ErrConfig, "an empty key")
	_, err = s.AcquireLease(ctx, "", "a", longTTL)
	require.ErrorIs(t, err, errs.ErrConfig)
	_, err = s.AcquireLease(ctx, subKey, "", longTTL)
	require.ErrorIs(t, err, errs.ErrConfig, "an empty holder")
	_, err = s.AcquireLease(ctx, subKey, "a", 0)
	require.ErrorIs(t, err, errs.ErrConfig, "no TTL")
	require.True(t, acquire(t, s, subKey, "a", longTTL))
	require.ErrorIs(t, s.SavePosition(ctx, subKey, "a", make([]byte, 1<<20)), errs.ErrConfig, "an oversized position")
	require.ErrorIs(t, s.SavePosition(ctx, subKey, "", []byte("1")), errs.ErrConfig)
}

// positionsUnavailable: an unreachable store fails positions and leases with
// ErrStoreUnavailable too, not ErrLeaseLost: the holder may still hold it.
func positionsUnavailable(t *testing.T, s auth.Store, bounded func(string, func() error)) {
	ps, ok := s.(PositionStore)
	require.True(t, ok)
	ctx := t.Context()
	bounded("load position", func() error { _, err := ps.LoadPosition(ctx, subKey); return err })
	bounded("save position", func() error { return ps.SavePosition(ctx, subKey, "a", []byte("1")) })
	bounded("acquire lease", func() error { _, err := ps.AcquireLease(ctx, subKey, "a", longTTL); return err })
	bounded("release lease", func() error { return ps.ReleaseLease(ctx, subKey, "a") })
}
