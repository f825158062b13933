package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/internal/retry"
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
	// Retry paces the retries of the token request after a failure without an
	// answer, a 429 or a 5xx (an OAuth refusal is never retried), never past
	// the caller's deadline; transport.Config.LoginRetry sets it. nil means 4
	// attempts, exponential backoff with full jitter from 200ms, at least the
	// answer's Retry-After, and no retry after a Retry-After over a minute.
	Retry retry.Policy
	// RetryBudget, when set, is the budget the retries spend from: the
	// transport shares its API calls' budget with its token request.
	RetryBudget *retry.Budget
	// Logger receives debug records of token fetches; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// JWTBearer fetches tokens with the JWT bearer flow; it does not cache (the client's transport does).
//
// Sessions that end in quick succession (an org's short session timeout, an
// administrator revoking sessions, a storm of expiries) each need a token at
// once, while every call they rejected waits. When a token is fetched within
// signAheadWithin of the one before, the next assertion is signed soon after
// in the background, so that the next fetch spends no time on the RSA
// signature, the larger share of a token request on a fast network. A first
// fetch, or one after a long session, signs only what it sends.
type JWTBearer struct {
	cfg      JWTBearerConfig
	tokenURL string
	audience string
	retry    retry.Policy
	log      *slog.Logger
	now      func() time.Time

	ahead     atomic.Pointer[signedAssertion] // signed ahead, for the next exchange
	signing   atomic.Bool                     // a goroutine is signing ahead
	lastFetch atomic.Int64                    // unix nanoseconds of the latest token received

	signAheadAfter time.Duration // signAheadDelay; tests change it
}

// signedAssertion is an assertion signed ahead, and what it is good for.
type signedAssertion struct {
	jwt      string
	signedAt time.Time
	key      crypto.PublicKey // the signer's key when it signed
}

// Signing ahead: fetches closer together than signAheadWithin sign the next
// assertion ahead, signAheadDelay after the fetch; an assertion signed ahead
// is used within aheadMaxAge of its signing. It expires 2 minutes 50 seconds
// after it was signed, so a server clock up to a minute and a half ahead of
// ours still accepts it.
const (
	signAheadWithin = 3 * time.Minute
	aheadMaxAge     = time.Minute
	signAheadDelay  = 50 * time.Millisecond
)

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
	ts := &JWTBearer{cfg: cfg, tokenURL: tokenURL, audience: cfg.Audience, retry: cfg.Retry, log: cfg.Logger, now: cfg.Now,
		signAheadAfter: signAheadDelay}
	if ts.audience == "" {
		ts.audience = defaultAudience(cfg.LoginURL)
	}
	if ts.retry == nil {
		ts.retry = retry.Login
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
	for attempt := 1; ; attempt++ {
		tok, f, err := ts.exchange(ctx)
		if err == nil {
			ts.fetched()
			if ts.log.Enabled(ctx, slog.LevelDebug) { // hostOf parses a URL
				ts.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: token fetched",
					slog.Duration("duration", time.Since(start)), slog.Int("attempts", attempt),
					slog.String("instance_host", hostOf(tok.InstanceURL)))
			}
			return tok, nil
		}
		if ctx.Err() != nil {
			return nil, ts.abandoned(ctx, err)
		}
		if !retryable(err) {
			return nil, err
		}
		wait, d := retry.Next(ctx, ts.retry, ts.cfg.RetryBudget, attempt, f)
		if d != retry.Retry {
			return nil, err
		}
		ts.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: token request failed, retrying",
			slog.Int("attempt", attempt), slog.Duration("backoff", wait), slog.String("error", err.Error()))
		if retry.Sleep(ctx, wait) != nil {
			return nil, ts.abandoned(ctx, err)
		}
	}
}

// abandoned is the error of a token request whose caller's context ended: the
// context's error, with the last failure. A failure that is itself the
// context's error goes back as it is.
func (ts *JWTBearer) abandoned(ctx context.Context, last error) error {
	if errors.Is(last, ctx.Err()) {
		return last
	}
	return fmt.Errorf("auth: token request to %s: %w (last failure: %v)", ts.tokenURL, ctx.Err(), last)
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return ""
}

// maxTokenResponse bounds what is read from the token endpoint.
const maxTokenResponse = 1 << 20

// fetched records a token received and, when the one before came less than
// signAheadWithin ago, signs the next assertion in the background once
// signAheadAfter has passed: the calls that waited for this token are being
// sent again meanwhile, and an RSA signature would compete with them for the
// CPU while they make up the tail of the storm.
func (ts *JWTBearer) fetched() {
	now := ts.now()
	prev := ts.lastFetch.Swap(now.UnixNano())
	if prev == 0 || now.Sub(time.Unix(0, prev)) >= signAheadWithin || !ts.signing.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(ts.signAheadAfter, func() {
		defer ts.signing.Store(false)
		// The key is read before signing: should the signer rotate meanwhile, the
		// assertion is tagged with the older key and not used.
		key, at := ts.cfg.Signer.Public(), ts.now()
		if jwt, err := signAssertion(ts.cfg.Signer, ts.claims(), at); err == nil {
			ts.ahead.Store(&signedAssertion{jwt: jwt, signedAt: at, key: key})
		}
	})
}

func (ts *JWTBearer) claims() claims {
	return claims{Issuer: ts.cfg.ConsumerKey, Subject: ts.cfg.Username, Audience: ts.audience}
}

// grantField opens the token request's form: grant_type, escaped as
// url.Values escapes it, then the assertion, whose base64url and dots need
// no escaping.
const grantField = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="

// form returns the token request's body: the assertion signed ahead when it
// is still young and from the signer's current key, else one signed now,
// written straight into the body.
func (ts *JWTBearer) form() ([]byte, error) {
	now := ts.now()
	if a := ts.ahead.Swap(nil); a != nil {
		age := now.Sub(a.signedAt)
		if current, ok := ts.cfg.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); ok &&
			age >= 0 && age < aheadMaxAge && current.Equal(a.key) {
			return append(append(make([]byte, 0, len(grantField)+len(a.jwt)), grantField...), a.jwt...), nil
		}
	}
	return signAfter(grantField, ts.cfg.Signer, ts.claims(), now)
}

// exchange makes one token request. On failure, f describes it for the retry
// policy.
func (ts *JWTBearer) exchange(ctx context.Context) (_ *Token, f retry.Failure, _ error) {
	form, err := ts.form()
	if err != nil {
		return nil, f, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.tokenURL, bytes.NewReader(form))
	if err != nil {
		return nil, f, configError("token URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := ts.cfg.HTTPClient.Do(req)
	if err != nil {
		// url.Error names the URL, never the form body.
		return nil, retry.Failure{Err: err}, &NetworkError{URL: ts.tokenURL, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, retry.Failure{Err: err}, &NetworkError{URL: ts.tokenURL, Err: err}
	}
	f = retry.Failure{StatusCode: resp.StatusCode, RetryAfter: retry.RetryAfter(resp.Header)}
	if resp.StatusCode != http.StatusOK {
		err := errorFromResponse(ts.tokenURL, resp, body)
		var oe *OAuthError
		if errors.As(err, &oe) {
			f.ErrorCode = oe.Code
		}
		return nil, f, err
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
		return nil, f, &ResponseError{URL: ts.tokenURL, StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Detail: "a 200 answer without access_token and instance_url in JSON"}
	}
	received := ts.now()
	tok := &Token{AccessToken: keystore.Secret(raw.AccessToken), InstanceURL: raw.InstanceURL, ID: raw.ID,
		Scope: raw.Scope, TokenType: raw.TokenType, IssuedAt: received, ReceivedAt: received}
	if ms, err := strconv.ParseInt(raw.IssuedAt, 10, 64); err == nil {
		tok.IssuedAt = time.UnixMilli(ms)
	}
	return tok, f, nil
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
