package auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func startOrg(t *testing.T) *salesforcetest.Org {
	t.Helper()
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	return org
}

// sourceFor returns a JWTBearer for org over a mutual TLS client; edit tweaks the config.
func sourceFor(t *testing.T, org *salesforcetest.Org, edit func(*auth.JWTBearerConfig)) *auth.JWTBearer {
	t.Helper()
	cfg := auth.JWTBearerConfig{
		LoginURL:    org.URL,
		ConsumerKey: org.ConsumerKey,
		Username:    org.Username,
		Signer:      org.JWTIdentity().Signer(),
		HTTPClient:  org.HTTPClient(nil),
		Retry:       auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	}
	if edit != nil {
		edit(&cfg)
	}
	ts, err := auth.NewJWTBearer(cfg)
	require.NoError(t, err)
	return ts
}

func TestTokenExchange(t *testing.T) {
	org := startOrg(t)
	var logs bytes.Buffer
	ts := sourceFor(t, org, func(c *auth.JWTBearerConfig) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	assert.Equal(t, org.URL+"/services/oauth2/token", ts.TokenURL())
	assert.Equal(t, auth.ProductionAudience, ts.Audience())

	before := time.Now().Add(-time.Second)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, string(tok.AccessToken))
	assert.Equal(t, "https://127.0.0.1", tok.InstanceURL, "instance_url comes without a port")
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, "api", tok.Scope)
	assert.Contains(t, tok.ID, "/id/")
	assert.True(t, tok.IssuedAt.After(before), "issued_at is parsed from milliseconds")
	assert.Equal(t, int64(1), org.Stats().TokensIssued)

	assert.Contains(t, logs.String(), "token fetched")
	assert.Contains(t, logs.String(), "instance_host=127.0.0.1")
	assert.NotContains(t, logs.String(), string(tok.AccessToken))
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", *tok)} {
		assert.NotContains(t, s, string(tok.AccessToken))
	}
}

func TestOAuthRefusalsAreTypedWithHints(t *testing.T) {
	org := startOrg(t)
	otherJWT, err := org.PKI.NewJWTIdentity("not the app's key")
	require.NoError(t, err)
	cases := []struct {
		name       string
		edit       func(*auth.JWTBearerConfig)
		code, desc string
		hint       string
	}{
		{"user not pre-authorized", func(c *auth.JWTBearerConfig) { c.Username = "someone.else@example.com" },
			"invalid_grant", "user hasn't approved this consumer", "pre-authorize the user"},
		{"wrong audience", func(c *auth.JWTBearerConfig) { c.Audience = auth.SandboxAudience },
			"invalid_grant", "audience is invalid", "the audience must be"},
		{"key does not match the app's certificate", func(c *auth.JWTBearerConfig) { c.Signer = otherJWT.Signer() },
			"invalid_grant", "invalid assertion", "does not match the certificate uploaded to the app"},
		{"wrong consumer key", func(c *auth.JWTBearerConfig) { c.ConsumerKey = "3MVG9wrong" },
			"invalid_client_id", "client identifier invalid", "check the consumer key"},
		{"clock behind", func(c *auth.JWTBearerConfig) { c.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) } },
			"invalid_grant", "expired authorization code", "check this machine's clock"},
		{"clock ahead", func(c *auth.JWTBearerConfig) { c.Now = func() time.Time { return time.Now().Add(10 * time.Minute) } },
			"invalid_grant", "expired authorization code", "check this machine's clock"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := org.Stats().TokenRequests
			_, err := sourceFor(t, org, c.edit).Token(context.Background())
			var oe *auth.OAuthError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, http.StatusBadRequest, oe.StatusCode)
			assert.Equal(t, c.code, oe.Code)
			assert.Equal(t, c.desc, oe.Description)
			assert.Contains(t, oe.Fix(), c.hint)
			assert.Contains(t, oe.Error(), oe.Fix(), "the message carries the fix")
			assert.Contains(t, err.Error(), c.desc)
			assert.Equal(t, before+1, org.Stats().TokenRequests, "400 OAuth errors are never retried")
		})
	}
}

func TestUnregisteredClientCertificate(t *testing.T) {
	org := startOrg(t)
	other, err := org.PKI.NewClientIdentity("unregistered@example.com", time.Time{}, time.Time{})
	require.NoError(t, err)
	_, err = sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.HTTPClient = org.HTTPClient(other) }).Token(context.Background())
	var oe *auth.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Contains(t, oe.Fix(), "Enforce SSL/TLS Mutual Authentication")
}

func TestRetriesTransientFailures(t *testing.T) {
	org := startOrg(t)
	org.FailTokenRequests(3, http.StatusServiceUnavailable)
	tok, err := sourceFor(t, org, nil).Token(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, tok)
	assert.Equal(t, int64(4), org.Stats().TokenRequests, "three 503s, then success")

	org.FailTokenRequests(10, http.StatusServiceUnavailable)
	_, err = sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Retry.MaxAttempts = 2 }).Token(context.Background())
	var re *auth.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
	assert.Equal(t, int64(6), org.Stats().TokenRequests)

	org.FailTokenRequests(1, http.StatusTooManyRequests)
	_, err = sourceFor(t, org, nil).Token(context.Background())
	require.NoError(t, err)
}

func TestTokenRequestHonoursTheDeadline(t *testing.T) {
	org := startOrg(t)
	org.SetTokenDelay(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := sourceFor(t, org, nil).Token(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second, "gave up at the caller's deadline, not the server's pace")
}

func TestNetworkErrorsNameTheEndpoint(t *testing.T) {
	org := startOrg(t)
	ts := sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.LoginURL = "https://127.0.0.1:1"; c.Retry.MaxAttempts = 2 })
	_, err := ts.Token(context.Background())
	var ne *auth.NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Contains(t, err.Error(), "https://127.0.0.1:1/services/oauth2/token")
	assert.NotContains(t, err.Error(), "assertion=")
}

func TestConfigErrors(t *testing.T) {
	org := startOrg(t)
	for name, edit := range map[string]func(*auth.JWTBearerConfig){
		"no consumer key": func(c *auth.JWTBearerConfig) { c.ConsumerKey = "" },
		"no username":     func(c *auth.JWTBearerConfig) { c.Username = "" },
		"no signer":       func(c *auth.JWTBearerConfig) { c.Signer = nil },
		"no client":       func(c *auth.JWTBearerConfig) { c.HTTPClient = nil },
		"bad login URL":   func(c *auth.JWTBearerConfig) { c.LoginURL = "::" },
	} {
		cfg := auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: "k", Username: "u", Signer: org.JWTIdentity().Signer(), HTTPClient: http.DefaultClient}
		edit(&cfg)
		_, err := auth.NewJWTBearer(cfg)
		assert.ErrorIs(t, err, auth.ErrConfig, name)
	}
}

func TestCacheSharesOneFetch(t *testing.T) {
	org := startOrg(t)
	org.SetTokenDelay(50 * time.Millisecond)
	cache := auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{})
	const callers = 200
	tokens := make([]*auth.Token, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := cache.Token(context.Background())
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
	org := startOrg(t)
	cache := auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{})
	ctx := context.Background()
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
	org := startOrg(t)
	cache := auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{})
	ctx := context.Background()
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

func TestCacheRefreshesBeforeTheSessionTimeout(t *testing.T) {
	org := startOrg(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	// Only the cache runs on the fake clock: the org checks exp against real time.
	cache := auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{SessionTimeout: 2 * time.Hour, Now: clock})
	ctx := context.Background()
	first, err := cache.Token(ctx)
	require.NoError(t, err)

	advance(time.Hour + 58*time.Minute) // the margin is a minute: not yet stale
	same, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.Same(t, first, same, "not yet within the margin")

	advance(90 * time.Second)
	next, err := cache.Token(ctx)
	require.NoError(t, err)
	assert.NotSame(t, first, next, "refreshed before the session ran out")
	assert.Equal(t, int64(2), org.Stats().TokenRequests)
}

func TestCacheWaiterCancellation(t *testing.T) {
	org := startOrg(t)
	org.SetTokenDelay(300 * time.Millisecond)
	cache := auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{})

	// One impatient caller does not fail a patient one waiting for the same fetch.
	impatient, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var patientErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, patientErr = cache.Token(context.Background())
	}()
	time.Sleep(5 * time.Millisecond)
	_, err := cache.Token(impatient)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	wg.Wait()
	require.NoError(t, patientErr)
	assert.Equal(t, int64(1), org.Stats().TokenRequests)

	// When every waiter gives up, the fetch is abandoned and the next caller starts afresh.
	cache.Invalidate(cache.Current())
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err = cache.Token(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	org.SetTokenDelay(0)
	tok, err := cache.Token(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, tok)
	assert.Equal(t, int64(3), cache.Fetches())
	assert.False(t, errors.Is(err, context.Canceled))
}

func TestRefusedClientCertificateIsNotRetried(t *testing.T) {
	org := startOrg(t)
	stranger, err := salesforcetest.NewPKI()
	require.NoError(t, err)
	var attempts []string
	ts := sourceFor(t, org, func(c *auth.JWTBearerConfig) {
		c.HTTPClient = org.HTTPClient(stranger.ClientIdentity)
		c.HTTPClient.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS12 // the refusal is part of the handshake
		c.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) { attempts = append(attempts, string(p)) }), &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err = ts.Token(context.Background())
	var ne *auth.NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Contains(t, err.Error(), "bad certificate")
	assert.Empty(t, attempts, "no retry was logged")
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
