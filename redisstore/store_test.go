package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/redisstore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const testKey = "0123456789abcdef0123456789abcdef"

func sample(access string) *auth.Token {
	at := time.UnixMilli(time.Now().UnixMilli())
	return &auth.Token{AccessToken: keystore.Secret(access), InstanceURL: "https://acme.my.salesforce.com", TokenType: "Bearer", IssuedAt: at, ReceivedAt: at}
}

func newStore(t *testing.T, srv *redisServer, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	if opts.Key == "" {
		opts.Key = auth.StoreKey("https://acme.my.salesforce.com", "3MVG9key", "user@example.com")
	}
	s, err := redisstore.New(srv.Client(t), opts)
	require.NoError(t, err)
	return s
}

func TestNewChecksOptions(t *testing.T) {
	srv := startRedis(t)
	_, err := redisstore.New(srv.Client(t), redisstore.Options{})
	require.ErrorIs(t, err, redisstore.ErrConfig)
	_, err = redisstore.New(srv.Client(t), redisstore.Options{Key: "k", EncryptionKey: []byte("short")})
	require.ErrorIs(t, err, redisstore.ErrConfig)
	assert.Contains(t, err.Error(), "16, 24 or 32 bytes")
	_, err = redisstore.New(nil, redisstore.Options{Key: "k"})
	require.ErrorIs(t, err, redisstore.ErrConfig)
}

func TestRoundTripPlainAndEncrypted(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	raw := srv.Client(t)
	for _, key := range [][]byte{nil, []byte(testKey)} {
		t.Run(fmt.Sprintf("encrypted=%t", key != nil), func(t *testing.T) {
			require.NoError(t, raw.FlushAll(ctx).Err())
			s := newStore(t, srv, redisstore.Options{EncryptionKey: key})
			got, err := s.Load(ctx)
			require.NoError(t, err)
			assert.Nil(t, got)
			tok := sample("00Dredis!secretvalue")
			require.NoError(t, s.Save(ctx, tok))
			got, err = s.Load(ctx)
			require.NoError(t, err)
			assert.True(t, got.Equal(tok))
			assert.Equal(t, tok.InstanceURL, got.InstanceURL)

			keys, err := raw.Keys(ctx, "*").Result()
			require.NoError(t, err)
			require.Len(t, keys, 1)
			assert.True(t, strings.HasPrefix(keys[0], "sfmtls:token:"), "keys are namespaced: %v", keys)
			stored, err := raw.HGet(ctx, keys[0], "v").Bytes()
			require.NoError(t, err)
			fp, err := raw.HGet(ctx, keys[0], "fp").Result()
			require.NoError(t, err)
			assert.NotContains(t, fp, "00Dredis")
			if key != nil {
				assert.False(t, bytes.Contains(stored, []byte("00Dredis")), "encrypted at rest")
			} else {
				assert.True(t, bytes.Contains(stored, []byte("00Dredis")), "without a key the token is stored as is")
			}
			ttl, err := raw.PTTL(ctx, keys[0]).Result()
			require.NoError(t, err)
			assert.Greater(t, ttl, 23*time.Hour)
		})
	}
}

func TestWrongOrMissingEncryptionKey(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	enc := newStore(t, srv, redisstore.Options{EncryptionKey: []byte(testKey)})
	require.NoError(t, enc.Save(ctx, sample("00Dx")))
	_, err := newStore(t, srv, redisstore.Options{EncryptionKey: []byte("fedcba9876543210fedcba9876543210")}).Load(ctx)
	require.ErrorIs(t, err, redisstore.ErrUnreadable)
	_, err = newStore(t, srv, redisstore.Options{}).Load(ctx)
	require.ErrorIs(t, err, redisstore.ErrUnreadable)
	assert.Contains(t, err.Error(), "EncryptionKey")
	// A value copied under another identity's key does not decrypt.
	other := newStore(t, srv, redisstore.Options{Key: "another", EncryptionKey: []byte(testKey)})
	raw := srv.Client(t)
	v, err := raw.HGet(ctx, "sfmtls:token:"+auth.StoreKey("https://acme.my.salesforce.com", "3MVG9key", "user@example.com"), "v").Bytes()
	require.NoError(t, err)
	require.NoError(t, raw.HSet(ctx, "sfmtls:token:another", "v", v).Err())
	_, err = other.Load(ctx)
	require.ErrorIs(t, err, redisstore.ErrUnreadable)
}

func TestCompareAndDeleteByValue(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	s := newStore(t, srv, redisstore.Options{EncryptionKey: []byte(testKey)})
	old, newer := sample("00Dold"), sample("00Dnew")
	require.NoError(t, s.Save(ctx, newer))
	require.NoError(t, s.CompareAndDelete(ctx, old))
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.True(t, got.Equal(newer), "a newer token survives")
	copyOfNewer := *newer
	require.NoError(t, s.CompareAndDelete(ctx, &copyOfNewer))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, got, "deleted by value, though encrypted with a fresh nonce")
	require.NoError(t, s.CompareAndDelete(ctx, old))
}

func TestLockExcludesAndWakesWaiters(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	s := newStore(t, srv, redisstore.Options{LockTTL: time.Minute})
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = s.Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	const waiters = 5
	got := make(chan time.Time, waiters)
	var wg sync.WaitGroup
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.Lock(ctx)
			if assert.NoError(t, err) {
				got <- time.Now()
				u()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	released := time.Now()
	unlock()
	wg.Wait()
	close(got)
	var last time.Time
	for at := range got {
		assert.False(t, at.Before(released))
		if at.After(last) {
			last = at
		}
	}
	// With a minute's TTL and a one-second re-check, only the release message
	// can have woken all five this fast.
	assert.Less(t, last.Sub(released), 500*time.Millisecond, "waiters are woken by the release, one after another")
}

// A holder that died leaves its lock to expire: the waiters get it within the TTL.
func TestLockTTLFreesADeadHolder(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	s := newStore(t, srv, redisstore.Options{LockTTL: 700 * time.Millisecond})
	_, err := s.Lock(ctx) // never released
	require.NoError(t, err)
	start := time.Now()
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	unlock()
	assert.Less(t, time.Since(start), 700*time.Millisecond+300*time.Millisecond)
}

func TestRedisDownFailsFast(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{})
	srv.Stop()
	ctx := context.Background()
	// Each call is bounded by the client's dial timeout (1 s) and one retry.
	bounded := func(name string, op func() error) {
		start := time.Now()
		require.ErrorIs(t, op(), auth.ErrStoreUnavailable, name)
		assert.Less(t, time.Since(start), 2500*time.Millisecond, name)
	}
	bounded("load", func() error { _, err := s.Load(ctx); return err })
	bounded("save", func() error { return s.Save(ctx, sample("00Dx")) })
	bounded("compare-and-delete", func() error { return s.CompareAndDelete(ctx, sample("00Dx")) })
	bounded("lock", func() error { _, err := s.Lock(ctx); return err })
}

// Redis down never fails a call that could succeed without it: the cache warns
// and logs in by itself.
func TestCacheFallsBackWhenRedisIsDown(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	defer org.Close()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{Key: auth.StoreKey(org.URL, org.ConsumerKey, org.Username)})
	srv.Stop()
	src, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.JWTIdentity().Signer(), HTTPClient: org.HTTPClient(nil)})
	require.NoError(t, err)
	var logs bytes.Buffer
	var mu sync.Mutex
	cache := auth.NewCache(src, auth.CacheOptions{Store: s, Logger: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))})
	start := time.Now()
	tok, err := cache.Token(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, tok)
	assert.Less(t, time.Since(start), 5*time.Second)
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "level=WARN")
	assert.NotContains(t, logs.String(), string(tok.AccessToken))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestStoreAndOptionsNeverPrintSecrets(t *testing.T) {
	srv := startRedis(t)
	key := []byte("SECRETKEY-0123456789abcdef012345")
	opts := redisstore.Options{Key: "k", EncryptionKey: key}
	s := newStore(t, srv, opts)
	for _, v := range []any{s, opts, &opts} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, "SECRETKEY", verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", key[:8]), verb)
		}
	}
	assert.True(t, errors.Is(fmt.Errorf("x: %w", redisstore.ErrUnreadable), redisstore.ErrUnreadable))
}

// Once Redis proved unavailable, the next fetches within StoreRetryAfter log
// in without asking it (no store timeouts, no new warnings); after it, Redis is
// used again.
func TestCacheSkipsAnUnavailableStoreForAWhile(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	defer org.Close()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{Key: auth.StoreKey(org.URL, org.ConsumerKey, org.Username)})
	src, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.JWTIdentity().Signer(), HTTPClient: org.HTTPClient(nil)})
	require.NoError(t, err)
	var warnings lineCounter
	clock := struct {
		sync.Mutex
		now time.Time
	}{now: time.Now()}
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.now }
	cache := auth.NewCache(src, auth.CacheOptions{Store: s, StoreRetryAfter: time.Minute, Now: now,
		Logger: slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ctx := context.Background()

	srv.Stop()
	tok, err := cache.Token(ctx)
	require.NoError(t, err)
	first := warnings.n()
	assert.Positive(t, first, "the outage is reported")

	cache.Invalidate(tok)
	tok, err = cache.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, warnings.n(), "within StoreRetryAfter the store is not asked")

	srv.Start()
	clock.Lock()
	clock.now = clock.now.Add(time.Minute + time.Second)
	clock.Unlock()
	cache.Invalidate(tok)
	tok, err = cache.Token(ctx)
	require.NoError(t, err)
	stored, err := s.Load(ctx)
	require.NoError(t, err)
	assert.True(t, stored.Equal(tok), "after StoreRetryAfter the store is used again")
	assert.Equal(t, int64(3), org.Stats().TokenRequests)
}

type lineCounter struct {
	mu    sync.Mutex
	lines int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines += strings.Count(string(p), "\n")
	return len(p), nil
}

func (c *lineCounter) n() int { c.mu.Lock(); defer c.mu.Unlock(); return c.lines }
