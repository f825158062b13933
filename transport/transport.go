// Package transport gives an http.RoundTripper that calls Salesforce with mutual
// TLS and the JWT bearer flow: it presents the client certificate on port 8443,
// fetches, caches and refreshes the access token over the same connection pool,
// and adds the token only to requests for the org's own hosts.
package transport

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/keystore"
)

// ErrGenericLoginHost: mutual TLS was configured with login.salesforce.com or
// test.salesforce.com, which Salesforce does not serve it on.
var ErrGenericLoginHost = errors.New("sfmtls: mutual TLS needs the org's My Domain login URL (https://<domain>.my.salesforce.com), not login.salesforce.com or test.salesforce.com")

// Config configures a Transport.
type Config struct {
	// LoginURL is the org's My Domain URL, e.g. https://acme.my.salesforce.com.
	LoginURL string
	// Audience overrides the JWT audience (default from LoginURL; see auth.DefaultAudience).
	Audience string
	// ConsumerKey and Username are the app's consumer key and the integration user.
	ConsumerKey string
	Username    string
	// MTLS is the CA-signed identity uploaded as Mutual Authentication Certificate.
	MTLS *keystore.Identity
	// JWT is the identity whose certificate is uploaded to the app; nil means MTLS.
	JWT *keystore.Identity
	// RootCAs verifies Salesforce's servers; nil means the system roots.
	RootCAs *x509.CertPool
	// MTLSPort is the port API calls and the token request go to; 0 means 8443.
	MTLSPort int
	// SessionTimeout is the org's session timeout, to refresh before it runs out;
	// 0 refreshes only when Salesforce answers INVALID_SESSION_ID.
	SessionTimeout time.Duration
	// Retry controls retries of the token request.
	Retry auth.RetryPolicy
	// Logger receives debug records of token fetches and refreshes; nil logs nothing.
	Logger *slog.Logger
	// MaxConnsPerHost bounds the connections to each Salesforce host; 0 means 4.
	// HTTP/2 carries many requests on each, and without a bound a burst beyond a
	// connection's stream limit dials one TLS connection per waiting request.
	MaxConnsPerHost int
}

// defaultMaxConnsPerHost: measured with 1,000 callers bursting at once, ~1,000
// handshakes without a bound and 21 with 4; 200 callers over connections of 10
// streams each all complete.
const defaultMaxConnsPerHost = 4

// Stats counts what a Transport did.
type Stats struct {
	TokenFetches int64 // token requests started (each may retry)
	Refreshes    int64 // answers rejecting the session; concurrent ones share one new token
	Replays      int64 // requests sent again with a fresh token
}

// Transport is an http.RoundTripper for Salesforce; see the package comment.
// It is safe for concurrent use.
type Transport struct {
	base      *http.Transport
	tokens    *auth.Cache
	source    *auth.JWTBearer
	mtls, jwt atomic.Pointer[keystore.Identity]
	login     *url.URL // token endpoint
	port      string   // mutual TLS port for instance hosts
	log       *slog.Logger
	route     atomic.Pointer[route]

	refreshes, replays atomic.Int64
}

// route caches what each request needs of the token in use, computed once per
// token rather than per request.
type route struct {
	tok          *auth.Token
	instanceHost string   // host name of instance_url
	instanceAddr string   // host:mtls port
	authz        []string // the Authorization header value, shared read-only by requests
}

// New checks cfg and returns a Transport. It fetches nothing until first used.
func New(cfg Config) (*Transport, error) {
	if auth.IsGenericLoginHost(cfg.LoginURL) {
		return nil, ErrGenericLoginHost
	}
	if cfg.MTLS == nil {
		return nil, fmt.Errorf("%w: MTLS identity is missing: load the CA-signed client certificate's keystore", auth.ErrConfig)
	}
	if err := cfg.MTLS.CheckValidity(time.Now()); err != nil {
		return nil, err
	}
	t := &Transport{log: cfg.Logger}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.mtls.Store(cfg.MTLS)
	jwtID := cfg.JWT
	if jwtID == nil {
		jwtID = cfg.MTLS
	}
	t.jwt.Store(jwtID)
	port := cfg.MTLSPort
	if port == 0 {
		port = auth.MTLSPort
	}
	t.port = strconv.Itoa(port)

	t.base = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       NewTLSConfig(t.mtls.Load, cfg.RootCAs),
		ForceAttemptHTTP2:     true,
		MaxConnsPerHost:       cmp.Or(cfg.MaxConnsPerHost, defaultMaxConnsPerHost),
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	source, err := auth.NewJWTBearer(auth.JWTBearerConfig{
		LoginURL:    cfg.LoginURL,
		Port:        port,
		Audience:    cfg.Audience,
		ConsumerKey: cfg.ConsumerKey,
		Username:    cfg.Username,
		Signer:      rotatingSigner{&t.jwt},
		// The token request shares the API's connection pool: one handshake serves both.
		HTTPClient: &http.Client{Transport: t.base, CheckRedirect: noRedirect},
		Retry:      cfg.Retry,
		Logger:     cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	t.source = source
	t.login, _ = url.Parse(source.TokenURL())
	t.tokens = auth.NewCache(source, auth.CacheOptions{SessionTimeout: cfg.SessionTimeout})
	return t, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// rotatingSigner signs with whatever JWT identity is current.
type rotatingSigner struct {
	id *atomic.Pointer[keystore.Identity]
}

func (s rotatingSigner) Public() crypto.PublicKey { return s.id.Load().Signer().Public() }

func (s rotatingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.id.Load().Signer().Sign(r, digest, opts)
}

// SetMTLSIdentity makes new handshakes present id; open connections keep theirs.
func (t *Transport) SetMTLSIdentity(id *keystore.Identity) { t.mtls.Store(id) }

// SetJWTIdentity makes the next token request sign with id.
func (t *Transport) SetJWTIdentity(id *keystore.Identity) { t.jwt.Store(id) }

// CloseIdleConnections closes idle connections, so the next call handshakes
// again (with a rotated certificate, say).
func (t *Transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	return Stats{TokenFetches: t.tokens.Fetches(), Refreshes: t.refreshes.Load(), Replays: t.replays.Load()}
}

// Client returns an http.Client over the Transport.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// Token returns the current access token, fetching one if needed.
func (t *Transport) Token(ctx context.Context) (*auth.Token, error) { return t.tokens.Token(ctx) }

// InstanceURL returns the org's instance URL with the mutual TLS port, the base
// for API paths: https://acme.my.salesforce.com:8443.
func (t *Transport) InstanceURL(ctx context.Context) (*url.URL, error) {
	tok, err := t.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "https", Host: t.routeFor(tok).instanceAddr}, nil
}

// TokenURL returns the token endpoint the Transport uses.
func (t *Transport) TokenURL() string { return t.login.String() }

func (t *Transport) routeFor(tok *auth.Token) *route {
	if r := t.route.Load(); r != nil && (r.tok == tok || r.tok.Equal(tok)) {
		return r
	}
	host := ""
	if u, err := url.Parse(tok.InstanceURL); err == nil {
		host = u.Hostname()
	}
	r := &route{tok: tok, instanceHost: host, instanceAddr: net.JoinHostPort(host, t.port),
		authz: []string{"Bearer " + string(tok.AccessToken)}}
	t.route.Store(r)
	return r
}

// target decides whether u is one of the org's hosts and returns its host:port
// with the mutual TLS port put in. Anything else gets no token.
func (t *Transport) target(u *url.URL, r *route) (string, bool) {
	if u.Scheme != "https" {
		return "", false
	}
	if u.Host == r.instanceAddr || u.Host == t.login.Host { // the common case, without allocating
		return u.Host, true
	}
	host, port := u.Hostname(), u.Port()
	defaultPort := port == "" || port == "443"
	switch {
	case strings.EqualFold(host, r.instanceHost) && (defaultPort || port == t.port):
		return r.instanceAddr, true
	case strings.EqualFold(host, t.login.Hostname()) && (defaultPort || port == t.login.Port()):
		return t.login.Host, true
	}
	return "", false
}

// maxReplays bounds how often one request is sent again after its session was
// rejected: once per session that ended under it, and no more than this.
const maxReplays = 3

// RoundTrip sends req with the access token when it is for the org, over mutual
// TLS. When Salesforce rejects the session (401 INVALID_SESSION_ID, or Bulk's
// 400 InvalidSessionId) it drops that token, fetches one new token shared with
// every concurrent caller, and sends the request again if its body can be
// replayed. Should the new session end too before the replay arrives, the
// request is replayed once more per ended session, up to maxReplays times.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.tokens.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	out, ok := t.authorize(req, tok)
	if !ok {
		return t.base.RoundTrip(req)
	}
	resp, err := t.base.RoundTrip(out)
	for replays := 0; ; replays++ {
		if err != nil {
			return nil, err
		}
		switch sessionVerdict(resp) {
		case sessionOK:
			return resp, nil
		case mutualAuthFailed:
			t.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: Salesforce refused the call: MUTUAL_AUTHENTICATION_FAILED",
				slog.String("host", out.URL.Host), slog.String("fix", auth.HintMutualTLS))
			return resp, nil
		}
		t.tokens.Invalidate(tok)
		t.refreshes.Add(1)
		t.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: session rejected, refreshing the token", slog.String("host", out.URL.Host))
		if replays == maxReplays {
			return resp, nil
		}
		// Release the rejected answer first: it holds an HTTP/2 stream, and the
		// token request may need one (waiting with it held deadlocks a busy connection).
		discard(resp)
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return nil, &SessionExpiredError{Method: req.Method, URL: redactedURL(req.URL)}
		}
		if tok, err = t.tokens.Token(ctx); err != nil {
			return nil, err
		}
		replay := req.Clone(ctx)
		if req.GetBody != nil {
			if replay.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		out, _ = t.authorize(replay, tok)
		t.replays.Add(1)
		resp, err = t.base.RoundTrip(out)
	}
}

// authorize returns a copy of req aimed at the org's mutual TLS port with the
// token set, or false when req is not for the org.
//
// The copy is shallow, as Request.WithContext makes it, with a header map of its
// own: the caller's request is never changed, and the hot path allocates two
// objects instead of a deep Clone's six.
func (t *Transport) authorize(req *http.Request, tok *auth.Token) (*http.Request, bool) {
	r := t.routeFor(tok)
	hostPort, ok := t.target(req.URL, r)
	if !ok {
		return nil, false
	}
	out := new(http.Request)
	*out = *req
	if hostPort != req.URL.Host {
		u := *req.URL
		u.Host = hostPort
		out.URL = &u
		out.Host = ""
	}
	h := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		h[k] = v // values are shared read-only, as the transport only reads them
	}
	h["Authorization"] = r.authz
	out.Header = h
	return out, true
}

type verdict int

const (
	sessionOK verdict = iota
	sessionRejected
	mutualAuthFailed
)

// maxPeek bounds how much of a 400/401 body is read to tell its cause.
const maxPeek = 64 << 10

// sessionVerdict reads (and puts back) the body of a 400 or 401 to see whether
// Salesforce rejected the session or the mutual authentication.
func sessionVerdict(resp *http.Response) verdict {
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
		return sessionOK
	}
	peek, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && bytes.Contains(peek, []byte("MUTUAL_AUTHENTICATION_FAILED")):
		return mutualAuthFailed
	case resp.StatusCode == http.StatusUnauthorized && bytes.Contains(peek, []byte("INVALID_SESSION_ID")):
		return sessionRejected
	case resp.StatusCode == http.StatusBadRequest && bytes.Contains(peek, []byte("InvalidSessionId")):
		return sessionRejected
	}
	return sessionOK
}

// discard drains a little of a response we will not return, so its connection
// can be reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
	resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// SessionExpiredError: Salesforce rejected the session and the request's body
// cannot be sent again (it has no GetBody). Retry the call: the next attempt gets
// a fresh token.
type SessionExpiredError struct {
	Method, URL string
}

func (e *SessionExpiredError) Error() string {
	return fmt.Sprintf("sfmtls: %s %s: session expired and the request body cannot be replayed; the token was refreshed, retry the call (build requests with a GetBody, as http.NewRequest does for bytes and strings readers)", e.Method, e.URL)
}

// redactedURL drops the query, which may carry record data.
func redactedURL(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}

// Format prints a summary for every verb: fmt would otherwise walk the live
// connection pool (a data race) and the identities.
func (t *Transport) Format(f fmt.State, _ rune) {
	st := t.Stats()
	fmt.Fprintf(f, "transport.Transport{token_url=%s mtls_port=%s mtls=%v token_fetches=%d refreshes=%d replays=%d}",
		t.login, t.port, t.mtls.Load(), st.TokenFetches, st.Refreshes, st.Replays)
}
