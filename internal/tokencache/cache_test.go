package tokencache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/retry"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/internal/tokencache"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// fakeClock drives the cache's idea of time; the org still checks the
// assertion's exp against real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// tokenAnswer serves a 200 token answer with the given fields, as a broken
// endpoint or proxy might.
func tokenAnswer(fields map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(fields)
	})
}

// oauthRefusal serves Salesforce's OAuth error JSON.
func oauthRefusal(status int, code, desc string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	})
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond, msg)
}

func TestCacheSharesOneFetch(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	org.Faults().SetTokenDelay(50 * time.Millisecond)
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{})
	const callers = 200
	tokens := make([]*auth.Token, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := cache.Token(t.Context())
			assert.NoError(t, err)
			tokens[i] = tok
		}()
	}
	wg.Wait()
	for _, tok := range tokens {
		assert.Same(t, tokens[0], tok)
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests)
	assert.Equal(t, int64(1), cache.Fetches())
}

func TestCacheInvalidateIsCompareAndSwap(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{})
	ctx := t.Context()
	old, err := cache.Token(ctx)
	require.NoError(t, err)
	cache.Invalidate(old)
	fresh, err := cache.Token(ctx)
	require.NoError(t, err)
	require.NotSame(t, old, fresh)

	cache.Invalidate(old) // a late 401 for the old token
	again, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.Same(t, fresh, again, "the fresh token survives a late invalidation of the old one")
	assert.Equal(t, int64(2), org.Stats().TokenRequests)
}

// A token that comes back from elsewhere (a shared store, another process) is a
// new value for the same session: invalidating by value must still drop it.
func TestCacheInvalidateComparesByValue(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{})
	ctx := t.Context()
	cached, err := cache.Token(ctx)
	require.NoError(t, err)
	copied := *cached
	require.True(t, cached.Equal(&copied))
	cache.Invalidate(&copied)
	fresh, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.False(t, fresh.Equal(cached), "a new session after invalidating a copy of the old token")
	assert.Equal(t, int64(2), org.Stats().TokenRequests)

	other := copied
	other.AccessToken += "x"
	assert.False(t, cached.Equal(&other))
	assert.False(t, cached.Equal(nil))
	assert.True(t, (*auth.Token)(nil).Equal(nil))
}

// With SessionTimeout, a token near the end of its session is refreshed in the
// background: the caller gets the still-valid token at once.
func TestCacheRefreshesEarlyInTheBackground(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	clock := newClock()
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{SessionTimeout: 2 * time.Hour, Now: clock.Now})
	ctx := t.Context()
	first, err := cache.Token(ctx)
	require.NoError(t, err)

	clock.Advance(time.Hour + 58*time.Minute) // the margin is a minute: not yet
	same, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.Same(t, first, same, "not yet within the margin")

	org.Faults().SetTokenDelay(3 * time.Second)
	clock.Advance(90 * time.Second)
	during, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.Same(t, first, during, "the caller keeps the valid token while the refresh runs")
	// Had Token waited for the refresh, the new token would be current now.
	assert.Same(t, first, cache.Current(), "no caller waits for an early refresh")
	require.Eventually(t, func() bool { return cache.Current() != first }, time.Minute, 10*time.Millisecond,
		"the background refresh replaces the token")
	next, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.NotSame(t, first, next)
	assert.Equal(t, int64(2), org.Stats().TokenRequests)
}

// The failure observed: with SessionTimeout set, a 503 inside the refresh
// margin failed the call although the token had time left.
func TestCacheFailedEarlyRefreshNeverFailsAValidToken(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	clock := newClock()
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{SessionTimeout: time.Hour, Now: clock.Now})
	ctx := t.Context()
	first, err := cache.Token(ctx)
	require.NoError(t, err)

	org.Faults().FailTokenRequests(1000, http.StatusServiceUnavailable)
	clock.Advance(time.Hour - 30*time.Second) // inside the one-minute margin
	for range 200 {
		tok, err := cache.Token(ctx)
		require.NoError(t, err, "the token has time left: the failed refresh must not fail the call")
		assert.Same(t, first, tok)
	}
	eventually(t, func() bool { return org.Stats().TokenRequests >= 2 }, "the background refresh was tried")
	time.Sleep(50 * time.Millisecond)
	// One background refresh (4 attempts with retries); no new one until the
	// jittered window passes.
	assert.LessOrEqual(t, org.Stats().TokenRequests, int64(1+4))

	// Once the session has really ended, the failure reaches the caller.
	clock.Advance(time.Minute)
	_, err = cache.Token(ctx)
	var re *auth.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
}

// Salesforce's session timeout is an inactivity timeout: each successful call
// (Touch) extends the session, so a busy token is never refreshed.
func TestCacheTouchExtendsTheSession(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	clock := newClock()
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{SessionTimeout: 2 * time.Hour, Now: clock.Now})
	ctx := t.Context()
	tok, err := cache.Token(ctx)
	require.NoError(t, err)
	for range 10 { // 10 hours of calls every 30 minutes
		clock.Advance(30 * time.Minute)
		got, err := cache.Token(ctx)
		require.NoError(t, err)
		require.Same(t, tok, got)
		cache.Touch(got)
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "a session in use is never refreshed")

	cache.Touch(&auth.Token{AccessToken: "another"}) // touching another token does nothing
	clock.Advance(2 * time.Hour)
	got, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.NotSame(t, tok, got, "after two idle hours the session has ended")
	assert.Equal(t, int64(2), org.Stats().TokenRequests)
}

func TestCacheWaiterCancellation(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	org.Faults().SetTokenDelay(300 * time.Millisecond)
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{})

	// One impatient caller does not fail a patient one waiting for the same fetch.
	impatient, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var patientErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, patientErr = cache.Token(t.Context())
	}()
	time.Sleep(5 * time.Millisecond)
	_, err := cache.Token(impatient)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	wg.Wait()
	require.NoError(t, patientErr)
	assert.Equal(t, int64(1), org.Stats().TokenRequests)
}

// The failure observed: callers with short deadlines that all gave up cancelled
// the fetch, so nothing was cached and each new caller logged in again.
func TestCacheAbandonedFetchCompletesAndCaches(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	org.Faults().SetTokenDelay(200 * time.Millisecond)
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{FetchTimeout: 5 * time.Second})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			_, err := cache.Token(ctx)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}()
	}
	wg.Wait()
	eventually(t, func() bool { return cache.Current() != nil }, "the abandoned fetch still caches its token")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := cache.Token(ctx)
	require.NoError(t, err, "the next short-deadline caller gets the cached token")
	assert.Equal(t, int64(1), org.Stats().TokenRequests)
	assert.Equal(t, int64(1), cache.Fetches())

	// A fetch is bounded by FetchTimeout even if nobody waits.
	org.Faults().SetTokenDelay(time.Hour)
	bounded := tokencache.New(sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Retry = retry.Backoff{MaxAttempts: 1}.Or(retry.Login) }),
		tokencache.Options{FetchTimeout: 100 * time.Millisecond})
	_, err = bounded.Token(t.Context())
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// The failure observed: 8 callers against 400 invalid_grant made 431 token
// requests in 0.5 s. A refusal is remembered for a jittered 1–5 s.
func TestCacheRemembersRefusals(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	cache := tokencache.New(sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Username = "not.approved@example.com" }), tokencache.Options{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	deadline := time.Now().Add(500 * time.Millisecond)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				_, err := cache.Token(t.Context())
				var oe *auth.OAuthError
				if !assert.ErrorAs(t, err, &oe) {
					return
				}
				assert.Equal(t, "invalid_grant", oe.Code)
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Greater(t, calls.Load(), int64(100))
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "a burst of callers costs one login")

	// After the window (at most 5 s) the next caller asks again.
	clock := newClock()
	cache = tokencache.New(sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Username = "not.approved@example.com" }), tokencache.Options{Now: clock.Now})
	before := org.Stats().TokenRequests
	_, err := cache.Token(t.Context())
	require.Error(t, err)
	clock.Advance(999 * time.Millisecond)
	_, err = cache.Token(t.Context())
	require.Error(t, err)
	assert.Equal(t, before+1, org.Stats().TokenRequests, "within the first second: remembered")
	clock.Advance(4*time.Second + 2*time.Millisecond)
	_, err = cache.Token(t.Context())
	require.Error(t, err)
	assert.Equal(t, before+2, org.Stats().TokenRequests, "after 5 s: asked again")

	// Transient failures are not remembered: the next caller tries again.
	org.Faults().FailTokenRequests(100, http.StatusServiceUnavailable)
	transient := tokencache.New(sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Retry = retry.Backoff{MaxAttempts: 1}.Or(retry.Login) }), tokencache.Options{})
	before = org.Stats().TokenRequests
	for range 3 {
		_, err = transient.Token(t.Context())
		require.Error(t, err)
	}
	assert.Equal(t, before+3, org.Stats().TokenRequests)
}

// "login rate exceeded" is invalid_grant with that error_description (Salesforce
// Help 000381578: more than 3,600 logins per user per hour). It stops logins
// for minutes, with an error that says so.
func TestCacheLoginRateExceededOpensTheCircuit(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	org.Faults().FailTokenRequestsWith(1, oauthRefusal(http.StatusBadRequest, "invalid_grant", "login rate exceeded"))
	clock := newClock()
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{Now: clock.Now})
	ctx := t.Context()
	_, err := cache.Token(ctx)
	var rate *auth.LoginRateExceededError
	require.ErrorAs(t, err, &rate)
	var oe *auth.OAuthError
	require.ErrorAs(t, err, &oe, "Salesforce's answer stays reachable")
	assert.Equal(t, "login rate exceeded", oe.Description)
	assert.Contains(t, err.Error(), "login rate exceeded")
	assert.Contains(t, err.Error(), "no login is tried for 5m0s")
	assert.Equal(t, 5*time.Minute, rate.Pause)

	clock.Advance(4*time.Minute + 59*time.Second)
	_, err = cache.Token(ctx)
	require.ErrorAs(t, err, &rate)
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "no login during the pause")

	clock.Advance(2 * time.Second)
	tok, err := cache.Token(ctx)
	require.NoError(t, err, "after the pause the next caller logs in")
	assert.NotNil(t, tok)
	assert.Equal(t, int64(2), org.Stats().TokenRequests)
}

// The failures observed: an access_token holding CR/LF, or an instance_url of
// "https://", "not a url" or "/relative", was accepted; every later call failed
// and no new token was fetched until the process restarted. Now the answer is
// refused with a typed error, nothing is cached, and once the short refusal
// window passes a good token is fetched.
func TestCacheRefusesUnusableTokenAnswers(t *testing.T) {
	cases := []struct {
		name   string
		fields map[string]string
		field  string
	}{
		{"access_token with CR LF", map[string]string{"access_token": "00Dabc\r\nX-Injected: 1", "instance_url": "https://127.0.0.1"}, "access_token"},
		{"instance_url https://", map[string]string{"access_token": "00Dabc!def", "instance_url": "https://"}, "instance_url"},
		{"instance_url not a url", map[string]string{"access_token": "00Dabc!def", "instance_url": "not a url"}, "instance_url"},
		{"instance_url relative", map[string]string{"access_token": "00Dabc!def", "instance_url": "/relative"}, "instance_url"},
		{"instance_url plain http", map[string]string{"access_token": "00Dabc!def", "instance_url": "http://127.0.0.1"}, "instance_url"},
		{"instance_url foreign host", map[string]string{"access_token": "00Dabc!def", "instance_url": "https://collector.example.net"}, "instance_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			org := salesforcetest.NewOrg(t, salesforcetest.Config{})
			org.Faults().FailTokenRequestsWith(1, tokenAnswer(c.fields))
			clock := newClock()
			cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{Now: clock.Now, Check: tokencheck.Checker(org.URL, nil)})
			_, err := cache.Token(t.Context())
			var ite *auth.InvalidTokenError
			require.ErrorAs(t, err, &ite)
			assert.Equal(t, c.field, ite.Field)
			assert.NotEmpty(t, ite.Fix())
			assert.NotContains(t, err.Error(), "00Dabc", "the error never quotes the token")
			assert.Nil(t, cache.Current(), "nothing cached")

			clock.Advance(5*time.Second + time.Millisecond)
			tok, err := cache.Token(t.Context())
			require.NoError(t, err, "a good token is fetched once the refusal window passes")
			assert.Equal(t, org.StandardURL, tok.InstanceURL, "the fake org's instance_url: its 443 stand-in")
			assert.Equal(t, int64(2), org.Stats().TokenRequests)
		})
	}
}

// The per-request path: Token with a cached token, then Touch. It must stay
// allocation-free: it is part of the transport's hot path (bench/README.md).
func TestCacheHotPathAllocatesNothing(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	for _, timeout := range []time.Duration{0, time.Hour} {
		cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{SessionTimeout: timeout})
		ctx := t.Context()
		_, err := cache.Token(ctx)
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(1000, func() {
			tok, _ := cache.Token(ctx)
			cache.Touch(tok)
		})
		assert.Zero(t, allocs, "SessionTimeout %s", timeout)
	}
}

func BenchmarkCacheTokenTouch(b *testing.B) {
	org := startOrgB(b)
	src, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(nil)})
	require.NoError(b, err)
	cache := tokencache.New(src, tokencache.Options{SessionTimeout: time.Hour})
	ctx := context.Background()
	_, err = cache.Token(ctx)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok, err := cache.Token(ctx)
			if err != nil {
				b.Fatal(err)
			}
			cache.Touch(tok)
		}
	})
}

func startOrgB(b *testing.B) *salesforcetest.Org {
	b.Helper()
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(b, err)
	b.Cleanup(org.Close)
	return org
}

// Two caches over one file store (two runs of a command, or two processes):
// one login between them; a rejected token is replaced once; a file with wider
// permissions or garbage is replaced transparently.
func TestCacheSharesThroughTheFileStore(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	s, err := auth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	key := storekey.Key(org.URL, org.ConsumerKey, org.Username)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil))
	newCache := func() *tokencache.Cache {
		return tokencache.New(sourceFor(t, org, nil), tokencache.Options{Store: s, StoreKey: key, Check: tokencheck.Checker(org.URL, nil), Logger: logger})
	}
	ctx := t.Context()
	a, b := newCache(), newCache()
	ta, err := a.Token(ctx)
	require.NoError(t, err)
	tb, err := b.Token(ctx)
	require.NoError(t, err)
	assert.True(t, ta.Equal(tb))
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "the second run reuses the session")

	// Both see it rejected: one login replaces it for both.
	org.Faults().ExpireAllSessions()
	a.Invalidate(ta)
	b.Invalidate(tb)
	na, err := a.Token(ctx)
	require.NoError(t, err)
	nb, err := b.Token(ctx)
	require.NoError(t, err)
	assert.True(t, na.Equal(nb))
	assert.False(t, na.Equal(ta))
	assert.Equal(t, int64(2), org.Stats().TokenRequests)

	// A file readable by others is ignored, and replaced with a 0600 one.
	require.NoError(t, os.Chmod(s.Path(key), 0o644))
	c := newCache()
	_, err = c.Token(ctx)
	require.NoError(t, err, "a store problem never fails the call")
	assert.Equal(t, int64(3), org.Stats().TokenRequests)
	info, err := os.Stat(s.Path(key))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// Garbage is replaced too.
	require.NoError(t, os.WriteFile(s.Path(key), []byte("{not json"), 0o600))
	d := newCache()
	_, err = d.Token(ctx)
	require.NoError(t, err)
	loaded, err := s.Load(ctx, key)
	require.NoError(t, err)
	assert.True(t, loaded.Equal(d.Current()))

	logMu.Lock()
	defer logMu.Unlock()
	assert.Contains(t, logs.String(), "token store unreadable")
	for _, tok := range org.IssuedTokens() {
		assert.NotContains(t, logs.String(), tok, "no token in the logs")
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A Store without a StoreKey names no identity: the cache says so and keeps
// the token to itself rather than share it under a made-up name.
func TestCacheWithoutStoreKeyDoesNotShare(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	dir := t.TempDir()
	s, err := auth.NewFileStore(dir)
	require.NoError(t, err)
	var logs bytes.Buffer
	cache := tokencache.New(sourceFor(t, org, nil), tokencache.Options{Store: s,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	assert.Contains(t, logs.String(), "level=WARN", "the misconfiguration is reported")
	_, err = cache.Token(t.Context())
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing stored")
}

// sourceFor returns a JWTBearer for org over a mutual TLS client; edit tweaks the config.
func sourceFor(t *testing.T, org *salesforcetest.Org, edit func(*auth.JWTBearerConfig)) *auth.JWTBearer {
	t.Helper()
	cfg := auth.JWTBearerConfig{
		LoginURL:    org.URL,
		ConsumerKey: org.ConsumerKey,
		Username:    org.Username,
		Signer:      org.PKI.JWTIdentity.Signer(),
		HTTPClient:  org.HTTPClient(nil),
		Retry:       retry.Backoff{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}.Or(retry.Login),
	}
	if edit != nil {
		edit(&cfg)
	}
	ts, err := auth.NewJWTBearer(cfg)
	require.NoError(t, err)
	return ts
}

// A Cache and its Options print no access token under any fmt verb.
func TestCachePrintsNoToken(t *testing.T) {
	const secret = "00DREDACTME!AQsecretAccessTokenValue"
	tok := &auth.Token{AccessToken: keystore.Secret(secret), InstanceURL: "https://acme.my.salesforce.com", ReceivedAt: time.Now()}
	store, err := auth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, store.Save(t.Context(), "k", tok))
	opts := tokencache.Options{Store: store, StoreKey: "k", SessionTimeout: time.Hour}
	cache := tokencache.New(tokenSourceFunc(func(context.Context) (*auth.Token, error) { return tok, nil }), opts)
	got, err := cache.Token(t.Context())
	require.NoError(t, err)
	require.Equal(t, secret, string(got.AccessToken))
	for _, v := range []any{cache, opts, &opts} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			assert.NotContains(t, fmt.Sprintf(verb, v), secret, "%T %s", v, verb)
		}
	}
}

type tokenSourceFunc func(context.Context) (*auth.Token, error)

func (f tokenSourceFunc) Token(ctx context.Context) (*auth.Token, error) { return f(ctx) }
