package auth

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// Token is an access token with what Salesforce returned beside it. AccessToken
// is a keystore.Secret, so a Token prints, logs and marshals without it.
type Token struct {
	AccessToken keystore.Secret
	InstanceURL string    // as returned: https://host, without the mutual TLS port
	ID          string    // identity URL
	Scope       string    // space-separated scopes
	TokenType   string    // "Bearer"
	IssuedAt    time.Time // Salesforce's issued_at, or the local receive time when absent
	ReceivedAt  time.Time // local clock, for session-timeout arithmetic
}

// Equal reports whether t and u carry the same access token. Tokens are compared
// by value, not by pointer, because a token may come back from a shared store or
// another process as a new value for the same session.
func (t *Token) Equal(u *Token) bool {
	if t == nil || u == nil {
		return t == u
	}
	return subtle.ConstantTimeCompare([]byte(t.AccessToken), []byte(u.AccessToken)) == 1
}

// JWTBearerConfig configures a JWTBearer.
type JWTBearerConfig struct {
	// LoginURL is the org's My Domain login URL, e.g. https://acme.my.salesforce.com.
	// Mutual TLS needs it: login.salesforce.com and test.salesforce.com cannot serve it.
	LoginURL string
	// Port for the token endpoint when LoginURL names none; 0 means 8443.
	Port int
	// Audience overrides the default: https://test.salesforce.com for a sandbox My
	// Domain, else https://login.salesforce.com; Experience Cloud sites use their URL.
	Audience string
	// ConsumerKey is the app's consumer key (the assertion's iss).
	ConsumerKey string
	// Username is the integration user (the assertion's sub).
	Username string
	// Signer holds the RSA key whose certificate is uploaded to the app.
	Signer crypto.Signer
	// HTTPClient sends the token request; it must present the client certificate.
	HTTPClient *http.Client
	// Retry controls retries of network errors, 429 and 5xx.
	Retry RetryPolicy
	// Logger receives debug records of token fetches; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// RetryPolicy sets how token requests are retried: network errors, 429 and 5xx,
// with exponential backoff and full jitter, never past the caller's context.
// A Retry-After (seconds or an HTTP-date) is waited out in full; one longer
// than a minute, or than the time left before the context's deadline, ends the
// retries at once. OAuth errors (400) are never retried. Zero fields take the
// defaults.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all; default 4
	BaseDelay   time.Duration // first backoff; default 200ms
	MaxDelay    time.Duration // backoff cap; default 5s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	return p
}

// backoff returns the wait before attempt n (1-based retries): full jitter over an
// exponentially growing window, or Retry-After when the server gave one (asking
// sooner than the server said would only be refused again).
func (p RetryPolicy) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	window := p.BaseDelay << min(n-1, 16)
	if window <= 0 || window > p.MaxDelay {
		window = p.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(window)) + 1)
}

// JWTBearer fetches tokens with the JWT bearer flow; it does not cache (see Cache).
type JWTBearer struct {
	cfg      JWTBearerConfig
	tokenURL string
	audience string
	retry    RetryPolicy
	log      *slog.Logger
	now      func() time.Time
}

// NewJWTBearer checks cfg and returns a JWTBearer.
func NewJWTBearer(cfg JWTBearerConfig) (*JWTBearer, error) {
	if cfg.ConsumerKey == "" {
		return nil, configError("ConsumerKey is empty: copy the consumer key of the app")
	}
	if cfg.Username == "" {
		return nil, configError("Username is empty: give the integration user's username")
	}
	if cfg.Signer == nil {
		return nil, configError("Signer is empty: give the key whose certificate is uploaded to the app")
	}
	if cfg.HTTPClient == nil {
		return nil, configError("HTTPClient is empty: the token request must go over the mutual TLS client")
	}
	tokenURL, err := loginTokenURL(cfg.LoginURL, cfg.Port)
	if err != nil {
		return nil, err
	}
	ts := &JWTBearer{cfg: cfg, tokenURL: tokenURL, audience: cfg.Audience, retry: cfg.Retry.withDefaults(), log: cfg.Logger, now: cfg.Now}
	if ts.audience == "" {
		ts.audience = defaultAudience(cfg.LoginURL)
	}
	if ts.log == nil {
		ts.log = slog.New(slog.DiscardHandler)
	}
	if ts.now == nil {
		ts.now = time.Now
	}
	return ts, nil
}

// TokenURL returns the endpoint the source posts to.
func (ts *JWTBearer) TokenURL() string { return ts.tokenURL }

// Audience returns the audience the assertions carry.
func (ts *JWTBearer) Audience() string { return ts.audience }

// Token signs a fresh assertion and exchanges it, retrying transient failures.
func (ts *JWTBearer) Token(ctx context.Context) (*Token, error) {
	start := time.Now()
	var lastErr error
	for attempt := 1; attempt <= ts.retry.MaxAttempts; attempt++ {
		tok, retryAfter, err := ts.exchange(ctx)
		if err == nil {
			ts.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: token fetched",
				slog.Duration("duration", time.Since(start)), slog.Int("attempts", attempt),
				slog.String("instance_host", hostOf(tok.InstanceURL)))
			return tok, nil
		}
		lastErr = err
		if !retryable(err) || attempt == ts.retry.MaxAttempts || ctx.Err() != nil {
			break
		}
		wait := ts.retry.backoff(attempt, retryAfter)
		if retryAfter > maxRetryAfter {
			break // the server is out for longer than a token fetch should wait
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			break // the caller's deadline comes first: fail now rather than time out asleep
		}
		ts.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: token request failed, retrying",
			slog.Int("attempt", attempt), slog.Duration("backoff", wait), slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("auth: token request to %s: %w (last failure: %v)", ts.tokenURL, ctx.Err(), lastErr)
		case <-time.After(wait):
		}
	}
	if ctx.Err() != nil && !errors.Is(lastErr, ctx.Err()) {
		return nil, fmt.Errorf("auth: token request to %s: %w (last failure: %v)", ts.tokenURL, ctx.Err(), lastErr)
	}
	return nil, lastErr
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return ""
}

// maxTokenResponse bounds what is read from the token endpoint.
const maxTokenResponse = 1 << 20

func (ts *JWTBearer) exchange(ctx context.Context) (*Token, time.Duration, error) {
	assertion, err := signAssertion(ts.cfg.Signer, claims{Issuer: ts.cfg.ConsumerKey, Subject: ts.cfg.Username, Audience: ts.audience}, ts.now())
	if err != nil {
		return nil, 0, err
	}
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, configError("token URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := ts.cfg.HTTPClient.Do(req)
	if err != nil {
		// url.Error names the URL, never the form body.
		return nil, 0, &NetworkError{URL: ts.tokenURL, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, 0, &NetworkError{URL: ts.tokenURL, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, retryAfterOf(resp), errorFromResponse(ts.tokenURL, resp, body)
	}
	var raw struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
		ID          string `json:"id"`
		Scope       string `json:"scope"`
		TokenType   string `json:"token_type"`
		IssuedAt    string `json:"issued_at"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.AccessToken == "" || raw.InstanceURL == "" {
		// The body may hold a token: describe it, never quote it.
		return nil, 0, &ResponseError{URL: ts.tokenURL, StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Detail: "a 200 answer without access_token and instance_url in JSON"}
	}
	received := ts.now()
	tok := &Token{AccessToken: keystore.Secret(raw.AccessToken), InstanceURL: raw.InstanceURL, ID: raw.ID,
		Scope: raw.Scope, TokenType: raw.TokenType, IssuedAt: received, ReceivedAt: received}
	if ms, err := strconv.ParseInt(raw.IssuedAt, 10, 64); err == nil {
		tok.IssuedAt = time.UnixMilli(ms)
	}
	return tok, 0, nil
}

// maxRetryAfter: a longer Retry-After fails the fetch instead of waiting.
const maxRetryAfter = time.Minute

// retryAfterOf reads Retry-After in seconds or as an HTTP-date (see ParseRetryAfter).
func retryAfterOf(resp *http.Response) time.Duration {
	d, _ := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return d
}

// errorFromResponse turns a non-200 answer into *OAuthError when it is Salesforce's
// OAuth JSON, else *ResponseError.
func errorFromResponse(tokenURL string, resp *http.Response, body []byte) error {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if ct == "application/json" && json.Unmarshal(body, &oe) == nil && oe.Error != "" {
		return newOAuthError(resp.StatusCode, oe.Error, oe.Description)
	}
	var rest []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &rest) == nil && len(rest) > 0 && rest[0].ErrorCode != "" {
		return newOAuthError(resp.StatusCode, rest[0].ErrorCode, rest[0].Message)
	}
	return &ResponseError{URL: tokenURL, StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
}

// Format prints the configuration with the signing key reduced to its type, for
// every verb: a crypto.Signer such as *rsa.PrivateKey would otherwise print its
// private numbers under %v.
func (c JWTBearerConfig) Format(f fmt.State, _ rune) {
	signer := "<nil>"
	if c.Signer != nil {
		signer = fmt.Sprintf("%T (redacted)", c.Signer)
	}
	fmt.Fprintf(f, "auth.JWTBearerConfig{LoginURL:%q Port:%d Audience:%q ConsumerKey:%q Username:%q Signer:%s Retry:%+v}",
		c.LoginURL, c.Port, c.Audience, c.ConsumerKey, c.Username, signer, c.Retry)
}
