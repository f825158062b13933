// Package storetest checks an auth.Store against the contract the token cache (internal/tokencache)
// relies on, and its positions and leases against events.Store's, in the spirit of testing/fstest: every store (auth.FileStore,
// redisstore) runs the same cases, so none is held to less than the others.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/keystore"
)

// Harness gives Run what it needs of one kind of store.
type Harness struct {
	// New returns an empty store, released in t's cleanup.
	New func(t *testing.T) auth.Store
	// SetRaw replaces key's token in s with data, as if data were what the
	// store's own encoding produced (inside whatever framing or encryption
	// the store adds), as a crash, an older version or another writer could
	// leave it.
	SetRaw func(t *testing.T, s auth.Store, key string, data []byte)
	// Stop makes s unreachable for the rest of the test (Redis stopped). nil
	// for a store that is never unreachable (files): that case is then not run.
	Stop func(t *testing.T, s auth.Store)
	// UnavailableWithin bounds each call to a stopped store; default 5s.
	UnavailableWithin time.Duration
}

// Bounds the cases hold a store to. A waiter is woken by the release, not by a
// periodic re-check (redisstore re-checks every second); an unreachable store
// answers within its client's timeouts (Harness.UnavailableWithin).
const (
	wakeBound = 500 * time.Millisecond
	excluded  = 50 * time.Millisecond // how long a second holder is shown to wait
)

// Key returns the key of a test identity n, as the transport derives it.
func Key(n int) string {
	return storekey.Key("https://acme.my.salesforce.com", "3MVG9key", fmt.Sprintf("user%d@example.com", n))
}

// Token returns a token whose access token is access, with every field set
// and times at millisecond precision (what the stores keep).
func Token(access string) *auth.Token {
	at := time.UnixMilli(time.Now().UnixMilli())
	return &auth.Token{AccessToken: keystore.Secret(access), InstanceURL: "https://acme.my.salesforce.com",
		ID: "https://login.salesforce.com/id/00D/005", Scope: "api", TokenType: "Bearer", IssuedAt: at, ReceivedAt: at.Add(time.Second)}
}

// Run checks the contract on stores from h.
func Run(t *testing.T, h Harness) {
	t.Run("LoadOfNothing", func(t *testing.T) {
		got, err := h.New(t).Load(t.Context(), Key(1))
		require.NoError(t, err)
		assert.Nil(t, got, "no token, no error")
	})
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, h.New(t)) })
	t.Run("SaveRefusesNoToken", func(t *testing.T) { saveRefusesNoToken(t, h.New(t)) })
	t.Run("KeysIsolated", func(t *testing.T) { keysIsolated(t, h.New(t)) })
	t.Run("CompareAndDelete", func(t *testing.T) { compareAndDelete(t, h.New(t)) })
	t.Run("EmptyKeyRefused", func(t *testing.T) { emptyKeyRefused(t, h.New(t)) })
	t.Run("LockExcludesAndWakes", func(t *testing.T) { lockExcludesAndWakes(t, h.New(t)) })
	t.Run("LockHonoursContext", func(t *testing.T) { lockHonoursContext(t, h.New(t)) })
	t.Run("Concurrent", func(t *testing.T) { concurrent(t, h.New(t)) })
	t.Run("UndecodableData", func(t *testing.T) { undecodable(t, h) })
	t.Run("Positions", func(t *testing.T) { positions(t, h) })
	// A store that cannot be unreachable has no such case to check.
	if h.Stop != nil {
		t.Run("Unavailable", func(t *testing.T) { unavailable(t, h) })
	}
}

// assertSame checks that got is want as the store keeps it: every field.
func assertSame(t *testing.T, want, got *auth.Token) {
	t.Helper()
	require.NotNil(t, got)
	assert.True(t, got.Equal(want), "the access token")
	assert.Equal(t, want.InstanceURL, got.InstanceURL)
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.Scope, got.Scope)
	assert.Equal(t, want.TokenType, got.TokenType)
	assert.True(t, want.IssuedAt.Equal(got.IssuedAt), "IssuedAt %s, got %s", want.IssuedAt, got.IssuedAt)
	assert.True(t, want.ReceivedAt.Equal(got.ReceivedAt), "ReceivedAt %s, got %s", want.ReceivedAt, got.ReceivedAt)
}

func roundTrip(t *testing.T, s auth.Store) {
	ctx, key := t.Context(), Key(1)
	first := Token("00Dfirst!token")
	require.NoError(t, s.Save(ctx, key, first))
	got, err := s.Load(ctx, key)
	require.NoError(t, err)
	assertSame(t, first, got)

	second := Token("00Dsecond!token")
	require.NoError(t, s.Save(ctx, key, second))
	got, err = s.Load(ctx, key)
	require.NoError(t, err)
	assertSame(t, second, got)
}

func saveRefusesNoToken(t *testing.T, s auth.Store) {
	ctx, key := t.Context(), Key(1)
	kept := Token("00Dkept")
	require.NoError(t, s.Save(ctx, key, kept))
	for _, tok := range []*auth.Token{nil, {InstanceURL: "https://acme.my.salesforce.com"}} {
		err := s.Save(ctx, key, tok)
		require.ErrorIs(t, err, auth.ErrStoredToken)
		assert.NotErrorIs(t, err, auth.ErrStoreUnavailable)
	}
	got, err := s.Load(ctx, key)
	require.NoError(t, err)
	assertSame(t, kept, got)
}

func keysIsolated(t *testing.T, s auth.Store) {
	ctx, one, two := t.Context(), Key(1), Key(2)
	a, b := Token("00Done"), Token("00Dtwo")
	require.NoError(t, s.Save(ctx, one, a))
	got, err := s.Load(ctx, two)
	require.NoError(t, err)
	assert.Nil(t, got, "a token saved under one key is not under another")
	require.NoError(t, s.Save(ctx, two, b))
	got, err = s.Load(ctx, one)
	require.NoError(t, err)
	assertSame(t, a, got)

	require.NoError(t, s.CompareAndDelete(ctx, two, a), "another key's token")
	got, err = s.Load(ctx, two)
	require.NoError(t, err)
	assertSame(t, b, got)
	require.NoError(t, s.CompareAndDelete(ctx, one, a))
	got, err = s.Load(ctx, two)
	require.NoError(t, err)
	assertSame(t, b, got)

	unlock, err := s.Lock(ctx, one)
	require.NoError(t, err)
	defer unlock()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlockTwo, err := s.Lock(short, two)
	require.NoError(t, err, "one key's lock does not hold another's")
	unlockTwo()
}

func compareAndDelete(t *testing.T, s auth.Store) {
	ctx, key := t.Context(), Key(1)
	old, newer := Token("00Dold"), Token("00Dnew")
	require.NoError(t, s.CompareAndDelete(ctx, key, old), "nothing to delete is no error")
	require.NoError(t, s.Save(ctx, key, newer))
	require.NoError(t, s.CompareAndDelete(ctx, key, old))
	require.NoError(t, s.CompareAndDelete(ctx, key, nil))
	got, err := s.Load(ctx, key)
	require.NoError(t, err)
	assertSame(t, newer, got)

	copyOfNewer := *newer // another process's copy of the same session
	copyOfNewer.InstanceURL = "https://elsewhere.my.salesforce.com"
	require.NoError(t, s.CompareAndDelete(ctx, key, &copyOfNewer))
	got, err = s.Load(ctx, key)
	require.NoError(t, err)
	assert.Nil(t, got, "deleted by access token, not by pointer")
}

func emptyKeyRefused(t *testing.T, s auth.Store) {
	ctx, tok := t.Context(), Token("00Dx")
	check := func(name string, err error) {
		t.Helper()
		require.Error(t, err, name)
		assert.NotErrorIs(t, err, auth.ErrStoreUnavailable, name)
	}
	_, err := s.Load(ctx, "")
	check("load", err)
	check("save", s.Save(ctx, "", tok))
	check("compare-and-delete", s.CompareAndDelete(ctx, "", tok))
	unlock, err := s.Lock(ctx, "")
	if err == nil {
		unlock()
	}
	check("lock", err)
}

func lockExcludesAndWakes(t *testing.T, s auth.Store) {
	ctx, key := t.Context(), Key(1)
	unlock, err := s.Lock(ctx, key)
	require.NoError(t, err)

	const waiters = 5
	var holders atomic.Int64
	var releasedAt atomic.Int64 // unix nanoseconds of the last release; 0 before the first
	excludedOnce := make(chan struct{}, waiters)
	var wg sync.WaitGroup
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Shown to be excluded while the first holder holds it...
			short, cancel := context.WithTimeout(ctx, excluded)
			_, err := s.Lock(short, key)
			cancel()
			if !assert.ErrorIs(t, err, context.DeadlineExceeded, "a second holder waits, bounded by its context") {
				return
			}
			excludedOnce <- struct{}{}
			// ... then waits for it.
			u, err := s.Lock(ctx, key)
			if !assert.NoError(t, err) {
				return
			}
			got := time.Now()
			assert.Equal(t, int64(1), holders.Add(1), "one holder at a time")
			if at := releasedAt.Load(); assert.NotZero(t, at, "got the lock only after its release") {
				assert.Less(t, got.Sub(time.Unix(0, at)), wakeBound, "a waiter is woken by the release")
			}
			// While held, nobody else gets it.
			probe, cancel := context.WithTimeout(ctx, excluded)
			_, err = s.Lock(probe, key)
			cancel()
			assert.ErrorIs(t, err, context.DeadlineExceeded, "a holder excludes the others")
			holders.Add(-1)
			releasedAt.Store(time.Now().UnixNano())
			u()
		}()
	}
	for range waiters {
		select {
		case <-excludedOnce:
		case <-time.After(30 * time.Second):
			t.Fatal("a waiter was never excluded")
		}
	}
	releasedAt.Store(time.Now().UnixNano())
	unlock()
	wg.Wait()
}

func lockHonoursContext(t *testing.T, s auth.Store) {
	ctx, key := t.Context(), Key(1)
	unlock, err := s.Lock(ctx, key)
	require.NoError(t, err)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Lock(canceled, key)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, auth.ErrStoreUnavailable, "the caller gave up: nothing to say about the store")

	short, cancelShort := context.WithTimeout(ctx, excluded)
	defer cancelShort()
	start := time.Now()
	_, err = s.Lock(short, key)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, auth.ErrStoreUnavailable)
	assert.Less(t, time.Since(start), excluded+wakeBound, "the wait ends with its context")

	// A waiter that gave up does not keep the lock once it is free.
	unlock()
	again, cancelAgain := context.WithTimeout(ctx, 10*time.Second)
	defer cancelAgain()
	u, err := s.Lock(again, key)
	require.NoError(t, err, "the lock is free again")
	u()
}

// concurrent: loads, saves and deletes of one key and of others at once (run
// under -race): a load sees no token or one that was saved, never an error or
// a mix of two.
func concurrent(t *testing.T, s auth.Store) {
	ctx := t.Context()
	const workers, rounds = 8, 20
	saved := make(map[string]*auth.Token)
	for w := range workers {
		for r := range rounds {
			tok := Token(fmt.Sprintf("00Dw%dr%d", w, r))
			tok.InstanceURL = fmt.Sprintf("https://w%dr%d.my.salesforce.com", w, r)
			saved[string(tok.AccessToken)] = tok
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := Key(w % 2)
			for r := range rounds {
				tok := saved[fmt.Sprintf("00Dw%dr%d", w, r)]
				if !assert.NoError(t, s.Save(ctx, key, tok)) {
					return
				}
				got, err := s.Load(ctx, key)
				if !assert.NoError(t, err) {
					return
				}
				if got != nil {
					want, ok := saved[string(got.AccessToken)]
					if assert.True(t, ok, "a token that was saved") {
						assert.Equal(t, want.InstanceURL, got.InstanceURL, "not a mix of two tokens")
					}
				}
				if r%3 == 0 {
					assert.NoError(t, s.CompareAndDelete(ctx, key, tok))
				}
			}
		}()
	}
	wg.Wait()
}

// undecodable: bytes the store did not write are an ErrStoredToken error that
// never quotes them, not "unavailable"; the next Save replaces them.
func undecodable(t *testing.T, h Harness) {
	const marker = "00Dleaked!marker"
	cases := map[string][]byte{
		"empty":        {},
		"garbage":      []byte("garbage " + marker),
		"truncated":    []byte(`{"format":1,"access_token":"` + marker),
		"other format": []byte(`{"format":2,"access_token":"` + marker + `","instance_url":"https://a"}`),
		"no token":     []byte(`{"format":1,"access_token":"","instance_url":"https://a"}`),
		"oversized":    append([]byte(`{"format":1,"access_token":"`+marker+`","instance_url":"https://a","id":"`), make([]byte, 1<<20)...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			s := h.New(t)
			ctx, key := t.Context(), Key(1)
			h.SetRaw(t, s, key, data)
			got, err := s.Load(ctx, key)
			require.ErrorIs(t, err, auth.ErrStoredToken)
			assert.NotErrorIs(t, err, auth.ErrStoreUnavailable)
			assert.Nil(t, got)
			assert.NotContains(t, err.Error(), marker, "the error never quotes the stored bytes")
			assert.NotContains(t, fmt.Sprintf("%+v", err), marker)

			tok := Token("00Dreplacement")
			require.NoError(t, s.Save(ctx, key, tok))
			got, err = s.Load(ctx, key)
			require.NoError(t, err)
			assertSame(t, tok, got)
		})
	}
}

// unavailable: with the store unreachable every method fails soon with
// ErrStoreUnavailable, which the token cache (internal/tokencache) answers by logging in without it.
func unavailable(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, key := t.Context(), Key(1)
	require.NoError(t, s.Save(ctx, key, Token("00Dbefore")))
	h.Stop(t, s)
	within := h.UnavailableWithin
	if within <= 0 {
		within = 5 * time.Second
	}
	bounded := func(name string, op func() error) {
		t.Helper()
		start := time.Now()
		err := op()
		require.ErrorIs(t, err, auth.ErrStoreUnavailable, name)
		assert.NotErrorIs(t, err, auth.ErrStoredToken, name)
		assert.Less(t, time.Since(start), within, name)
	}
	bounded("load", func() error { _, err := s.Load(ctx, key); return err })
	bounded("save", func() error { return s.Save(ctx, key, Token("00Dx")) })
	bounded("compare-and-delete", func() error { return s.CompareAndDelete(ctx, key, Token("00Dx")) })
	bounded("lock", func() error {
		unlock, err := s.Lock(ctx, key)
		if err == nil {
			unlock()
			return errors.New("locked an unreachable store")
		}
		return err
	})
	positionsUnavailable(t, s, bounded)
}
