package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/internal/storetest"
	"github.com/sfmtls/sfmtls/internal/tokencache"
	"github.com/sfmtls/sfmtls/redisstore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const testKey = "0123456789abcdef0123456789abcdef"

// sampleKey is the test identity's store key.
var sampleKey = storetest.Key(1)

func newStore(t *testing.T, srv *redisServer, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(srv.Client(t), opts)
	require.NoError(t, err)
	return s
}

// The Redis store keeps the Store contract every store keeps, with and
// without encryption; each store has a redis-server of its own, which Stop
// kills.
func TestStoreContract(t *testing.T) {
	for _, encKey := range [][]byte{nil, []byte(testKey)} {
		t.Run(fmt.Sprintf("encrypted=%t", encKey != nil), func(t *testing.T) {
			servers := map[auth.Store]*redisServer{}
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T) auth.Store {
					srv := startRedis(t)
					s := newStore(t, srv, redisstore.Options{EncryptionKey: encKey, LockTTL: time.Minute})
					servers[s] = srv
					return s
				},
				SetRaw: func(t *testing.T, s auth.Store, key string, data []byte) {
					sealed, err := redisstore.Seal(s.(*redisstore.Store), key, data)
					require.NoError(t, err)
					raw := servers[s].Client(t)
					require.NoError(t, raw.Del(t.Context(), "sfmtls:token:"+key).Err())
					require.NoError(t, raw.HSet(t.Context(), "sfmtls:token:"+key, "v", sealed).Err())
				},
				Stop: func(t *testing.T, s auth.Store) { servers[s].Stop() },
				// The client dials for 1 s, once more on failure.
				UnavailableWithin: 2500 * time.Millisecond,
			})
		})
	}
}

func TestNewChecksOptions(t *testing.T) {
	srv := startRedis(t)
	_, err := redisstore.New(srv.Client(t), redisstore.Options{EncryptionKey: []byte("short")})
	require.ErrorIs(t, err, errs.ErrConfig)
	_, err = redisstore.New(nil, redisstore.Options{})
	require.ErrorIs(t, err, errs.ErrConfig)
	s, err := redisstore.New(srv.Client(t), redisstore.Options{})
	require.NoError(t, err)
	_, err = s.Load(t.Context(), "")
	require.ErrorIs(t, err, errs.ErrConfig, "an empty key names no identity")
}

// What sits in Redis: one namespaced hash per identity, whose fingerprint is
// not the token, encrypted at rest with a key, and bounded by TokenTTL.
func TestStoredForm(t *testing.T) {
	srv := startRedis(t)
	ctx := t.Context()
	raw := srv.Client(t)
	for _, key := range [][]byte{nil, []byte(testKey)} {
		t.Run(fmt.Sprintf("encrypted=%t", key != nil), func(t *testing.T) {
			require.NoError(t, raw.FlushAll(ctx).Err())
			s := newStore(t, srv, redisstore.Options{EncryptionKey: key})
			require.NoError(t, s.Save(ctx, sampleKey, storetest.Token("00Dredis!secretvalue")))

			keys, err := raw.Keys(ctx, "*").Result()
			require.NoError(t, err)
			assert.Equal(t, []string{"sfmtls:token:" + sampleKey}, keys, "keys are namespaced")
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
	ctx := t.Context()
	enc := newStore(t, srv, redisstore.Options{EncryptionKey: []byte(testKey)})
	require.NoError(t, enc.Save(ctx, sampleKey, storetest.Token("00Dx")))
	_, err := newStore(t, srv, redisstore.Options{EncryptionKey: []byte("fedcba9876543210fedcba9876543210")}).Load(ctx, sampleKey)
	require.ErrorIs(t, err, auth.ErrStoredToken)
	_, err = newStore(t, srv, redisstore.Options{}).Load(ctx, sampleKey)
	require.ErrorIs(t, err, auth.ErrStoredToken, "stored encrypted, and this store has no key")
	// A value copied under another identity's key does not decrypt.
	raw := srv.Client(t)
	v, err := raw.HGet(ctx, "sfmtls:token:"+sampleKey, "v").Bytes()
	require.NoError(t, err)
	other := storetest.Key(2)
	require.NoError(t, raw.HSet(ctx, "sfmtls:token:"+other, "v", v).Err())
	_, err = enc.Load(ctx, other)
	require.ErrorIs(t, err, auth.ErrStoredToken)
	// Nor does a value whose ciphertext was altered.
	v[len(v)-1] ^= 1
	require.NoError(t, raw.HSet(ctx, "sfmtls:token:"+sampleKey, "v", v).Err())
	_, err = enc.Load(ctx, sampleKey)
	require.ErrorIs(t, err, auth.ErrStoredToken)
	// A store with a key does not trust a value stored unencrypted.
	plain := newStore(t, srv, redisstore.Options{})
	require.NoError(t, raw.Del(ctx, "sfmtls:token:"+sampleKey).Err())
	require.NoError(t, plain.Save(ctx, sampleKey, storetest.Token("00Dplain")))
	_, err = enc.Load(ctx, sampleKey)
	require.ErrorIs(t, err, auth.ErrStoredToken)
}

// A holder that died leaves its lock to expire: the waiters get it within the TTL.
func TestLockTTLFreesADeadHolder(t *testing.T) {
	srv := startRedis(t)
	ctx := t.Context()
	s := newStore(t, srv, redisstore.Options{LockTTL: 700 * time.Millisecond})
	_, err := s.Lock(ctx, sampleKey) // never released
	require.NoError(t, err)
	start := time.Now()
	unlock, err := s.Lock(ctx, sampleKey)
	require.NoError(t, err)
	unlock()
	assert.Less(t, time.Since(start), 700*time.Millisecond+300*time.Millisecond)
}

// Redis down never fails a call that could succeed without it: the cache warns
// and logs in by itself.
func TestCacheFallsBackWhenRedisIsDown(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	defer org.Close()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{})
	srv.Stop()
	src, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(nil)})
	require.NoError(t, err)
	var logs bytes.Buffer
	var mu sync.Mutex
	cache := tokencache.New(src, tokencache.Options{Store: s, StoreKey: storekey.Key(org.URL, org.ConsumerKey, org.Username), Logger: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))})
	start := time.Now()
	tok, err := cache.Token(t.Context())
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
	opts := redisstore.Options{EncryptionKey: key}
	s := newStore(t, srv, opts)
	for _, v := range []any{s, opts, &opts} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, "SECRETKEY", verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", key[:8]), verb)
		}
	}
}

// Once Redis proved unavailable, the next fetches within StoreRetryAfter log
// in without asking it (no store timeouts, no new warnings); after it, Redis is
// used again.
func TestCacheSkipsAnUnavailableStoreForAWhile(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	defer org.Close()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{})
	key := storekey.Key(org.URL, org.ConsumerKey, org.Username)
	src, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(nil)})
	require.NoError(t, err)
	var warnings lineCounter
	clock := struct {
		sync.Mutex
		now time.Time
	}{now: time.Now()}
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.now }
	cache := tokencache.New(src, tokencache.Options{Store: s, StoreKey: key, StoreRetryAfter: time.Minute, Now: now,
		Logger: slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ctx := t.Context()

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
	stored, err := s.Load(ctx, key)
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

// A process started without the EncryptionKey never turns the fleet's
// encrypted token into a plaintext one (issue 19, must hold 8): its Save is
// refused with ErrPlaintextOverEncrypted, atomically on the server, and its
// CompareAndDelete cannot match the encrypted token's keyed fingerprint. A
// store with the key still replaces a plaintext token with an encrypted one.
func TestNoKeyNeverReplacesAnEncryptedToken(t *testing.T) {
	srv := startRedis(t)
	ctx := t.Context()
	raw := srv.Client(t)
	enc := newStore(t, srv, redisstore.Options{EncryptionKey: []byte(testKey)})
	plain := newStore(t, srv, redisstore.Options{})
	fleet := storetest.Token("00Dfleet!encrypted")
	require.NoError(t, enc.Save(ctx, sampleKey, fleet))
	before, err := raw.HGetAll(ctx, "sfmtls:token:"+sampleKey).Result()
	require.NoError(t, err)

	err = plain.Save(ctx, sampleKey, storetest.Token("00Dintruder!plaintext"))
	require.ErrorIs(t, err, redisstore.ErrPlaintextOverEncrypted)
	assert.NotErrorIs(t, err, auth.ErrStoreUnavailable, "Redis answered: the cache must not take it for an outage")
	var fixer interface{ Fix() string }
	require.ErrorAs(t, err, &fixer)
	assert.Contains(t, fixer.Fix(), "EncryptionKey")

	// Neither the token it holds nor the encrypted one's plaintext value
	// deletes the encrypted token.
	require.NoError(t, plain.CompareAndDelete(ctx, sampleKey, storetest.Token("00Dintruder!plaintext")))
	require.NoError(t, plain.CompareAndDelete(ctx, sampleKey, fleet))

	after, err := raw.HGetAll(ctx, "sfmtls:token:"+sampleKey).Result()
	require.NoError(t, err)
	assert.Equal(t, before, after, "the stored hash is untouched")
	got, err := enc.Load(ctx, sampleKey)
	require.NoError(t, err)
	assert.True(t, got.Equal(fleet), "the fleet still reads its encrypted token")

	// Where no token is stored, or a plaintext one, a keyless store saves.
	other := storetest.Key(2)
	require.NoError(t, plain.Save(ctx, other, storetest.Token("00Dfirst")))
	require.NoError(t, plain.Save(ctx, other, storetest.Token("00Dsecond")))
	// A store with the key upgrades a plaintext token to an encrypted one.
	require.NoError(t, enc.Save(ctx, other, storetest.Token("00Dupgraded")))
	v, err := raw.HGet(ctx, "sfmtls:token:"+other, "v").Bytes()
	require.NoError(t, err)
	assert.False(t, bytes.Contains(v, []byte("00Dupgraded")), "encrypted at rest")
	require.ErrorIs(t, plain.Save(ctx, other, storetest.Token("00Dback")), redisstore.ErrPlaintextOverEncrypted)
}

// The same through the token cache, as a process runs it: the keyless process
// logs in by itself with a warning, and the encrypted token stays.
func TestCacheWithoutKeyLeavesTheEncryptedToken(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	defer org.Close()
	srv := startRedis(t)
	ctx := t.Context()
	key := storekey.Key(org.URL, org.ConsumerKey, org.Username)
	newCache := func(s *redisstore.Store, w *lineCounter) *tokencache.Cache {
		src, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
			Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(nil)})
		require.NoError(t, err)
		return tokencache.New(src, tokencache.Options{Store: s, StoreKey: key,
			Logger: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	}
	enc := newStore(t, srv, redisstore.Options{EncryptionKey: []byte(testKey)})
	var quiet, warned lineCounter
	fleetTok, err := newCache(enc, &quiet).Token(ctx)
	require.NoError(t, err)

	tok, err := newCache(newStore(t, srv, redisstore.Options{}), &warned).Token(ctx)
	require.NoError(t, err)
	assert.False(t, tok.Equal(fleetTok), "the keyless process cannot read the encrypted token: it logs in")
	assert.Positive(t, warned.n())

	got, err := enc.Load(ctx, key)
	require.NoError(t, err)
	assert.True(t, got.Equal(fleetTok), "the encrypted token stays")
	assert.Zero(t, quiet.n())
}

// A caller's deadline that passes while Redis is silent is the caller's
// deadline, not an outage: go-redis ends the pending read with its own
// ReadTimeout and returns a net "i/o timeout", which the Store must still
// report as context.DeadlineExceeded (the token cache would otherwise stop
// using the store for a while; the contract's lock test, on a loaded machine,
// saw "redisstore: lock: subscribe: ... i/o timeout" where it waited for its
// own deadline). The server here finds the lock taken and then never answers
// the SUBSCRIBE.
func TestCallerDeadlineOnASilentRedisIsTheCallers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go serveLockTakenSilentSubscribe(c)
		}
	}()
	opts := clientOptions(ln.Addr().String())
	opts.ReadTimeout = 200 * time.Millisecond // the read times out after the caller's deadline
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	s, err := redisstore.New(rdb, redisstore.Options{})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = s.Lock(ctx, sampleKey)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, auth.ErrStoreUnavailable)
}

// serveLockTakenSilentSubscribe speaks just enough RESP2: HELLO is unknown
// (the client falls back to RESP2), SET ... NX finds the key taken, and
// SUBSCRIBE gets no answer.
func serveLockTakenSilentSubscribe(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
		if err != nil || n < 1 || n > 16 {
			return
		}
		var args []string
		for range n {
			if _, err := r.ReadString('\n'); err != nil { // $len
				return
			}
			arg, err := r.ReadString('\n')
			if err != nil {
				return
			}
			args = append(args, strings.TrimSpace(arg))
		}
		switch strings.ToUpper(args[0]) {
		case "HELLO":
			_, _ = io.WriteString(c, "-ERR unknown command 'HELLO'\r\n")
		case "SET":
			_, _ = io.WriteString(c, "$-1\r\n")
		case "SUBSCRIBE":
			// silent
		default:
			_, _ = io.WriteString(c, "+OK\r\n")
		}
	}
}
