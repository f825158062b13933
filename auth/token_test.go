package auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/internal/retry"
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
		Signer:      org.PKI.JWTIdentity.Signer(),
		HTTPClient:  org.HTTPClient(nil),
		Retry:       fastRetry(0),
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
	assert.Equal(t, jwtbearer.ProductionAudience, ts.Audience())

	before := time.Now().Add(-time.Second)
	tok, err := ts.Token(t.Context())
	require.NoError(t, err)
	assert.NotEmpty(t, string(tok.AccessToken))
	// Salesforce names the host alone (port 443); on loopback the fake names the port that plays 443.
	assert.Equal(t, org.StandardURL, tok.InstanceURL, "instance_url never names the mutual TLS port")
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
		{"wrong audience", func(c *auth.JWTBearerConfig) { c.Audience = jwtbearer.SandboxAudience },
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
			_, err := sourceFor(t, org, c.edit).Token(t.Context())
			var oe *auth.OAuthError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, http.StatusBadRequest, oe.StatusCode)
			assert.Equal(t, c.code, oe.Code)
			assert.Equal(t, c.desc, oe.Description)
			assert.Contains(t, oe.Fix(), c.hint)
			assert.NotContains(t, oe.Error(), oe.Fix(), "the message says what went wrong; Fix says how to mend it")
			assert.Contains(t, err.Error(), c.desc)
			assert.Equal(t, before+1, org.Stats().TokenRequests, "400 OAuth errors are never retried")
		})
	}
}

func TestUnregisteredClientCertificate(t *testing.T) {
	org := startOrg(t)
	other, err := org.PKI.NewClientIdentity("unregistered@example.com", time.Time{}, time.Time{})
	require.NoError(t, err)
	_, err = sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.HTTPClient = org.HTTPClient(other) }).Token(t.Context())
	var oe *auth.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Contains(t, oe.Fix(), "Enforce SSL/TLS Mutual Authentication")
}

func TestRetriesTransientFailures(t *testing.T) {
	org := startOrg(t)
	org.Faults().FailTokenRequests(3, http.StatusServiceUnavailable)
	tok, err := sourceFor(t, org, nil).Token(t.Context())
	require.NoError(t, err)
	assert.NotNil(t, tok)
	assert.Equal(t, int64(4), org.Stats().TokenRequests, "three 503s, then success")

	org.Faults().FailTokenRequests(10, http.StatusServiceUnavailable)
	_, err = sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Retry = fastRetry(2) }).Token(t.Context())
	var re *auth.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
	assert.Equal(t, int64(6), org.Stats().TokenRequests)

	org.Faults().FailTokenRequests(1, http.StatusTooManyRequests)
	_, err = sourceFor(t, org, nil).Token(t.Context())
	require.NoError(t, err)
}

func TestTokenRequestHonoursTheDeadline(t *testing.T) {
	org := startOrg(t)
	org.Faults().SetTokenDelay(2 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := sourceFor(t, org, nil).Token(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second, "gave up at the caller's deadline, not the server's pace")
}

func TestNetworkErrorsNameTheEndpoint(t *testing.T) {
	org := startOrg(t)
	ts := sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.LoginURL = "https://127.0.0.1:1"; c.Retry = fastRetry(2) })
	_, err := ts.Token(t.Context())
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
		cfg := auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: "k", Username: "u", Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: http.DefaultClient}
		edit(&cfg)
		_, err := auth.NewJWTBearer(cfg)
		assert.ErrorIs(t, err, errs.ErrConfig, name)
	}
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
	_, err = ts.Token(t.Context())
	var ne *auth.NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Contains(t, err.Error(), "bad certificate")
	assert.Empty(t, attempts, "no retry was logged")
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// fastRetry is the token request's policy with short waits; 0 attempts keeps
// the default number.
func fastRetry(attempts int) retry.Backoff {
	return retry.Backoff{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}.Or(retry.Login)
}
