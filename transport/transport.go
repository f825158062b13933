// Package transport gives an http.RoundTripper that calls Salesforce with mutual
// TLS and the JWT bearer flow: it presents the client certificate on port 8443,
// fetches, caches and refreshes the access token over the same connection pool,
// and adds the token only to requests for the org's own hosts (see
// Transport.RoundTrip for the rule).
package transport

import (
	"cmp"
	"context"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/retry"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/internal/tokencache"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
	"github.com/sfmtls/sfmtls/keystore"
)

// defaultMaxConnsPerHost bounds the HTTP/2 connections per host (see orgBase);
// bench/README.md has the measurements behind 4.
const defaultMaxConnsPerHost = 4

// Stats counts what a Transport did and the org's latest API usage.
type Stats struct {
	TokenFetches  int64 // token requests started (each may retry)
	Refreshes     int64 // answers rejecting the session; concurrent ones share one new token
	Replays       int64 // requests sent again with a fresh token
	Retries       int64 // requests sent again after a transient failure
	RetriesDenied int64 // retries the budget refused (the failure went to the caller)
	CapRefusals   int64 // calls refused locally by Config.UsageCap
	APIUsage      Usage // the org's api-usage from the latest Sforce-Limit-Info
	AppUsage      Usage // the connected app's per-app-api-usage, when it has a quota
	AppName       string
}

// Transport is an http.RoundTripper for Salesforce; see RoundTrip.
// It is safe for concurrent use.
type Transport struct {
	org    *orgBase          // with the client certificate (see base.go)
	orgRT  http.RoundTripper // org, as an interface value made once
	plain  *lazyBase         // for other hosts, without the client certificate
	tokens *tokencache.Cache
	bearer *auth.JWTBearer // nil with Config.TokenSource
	// mtls points to a value allocated on its own: the client certificate
	// callback reaches it from connections that net/http keeps after they
	// close (see TestClosedTransportIsNotRetained), and the address of a
	// value inside the Transport would keep the whole Transport with it.
	mtls          *atomic.Pointer[keystore.Identity]
	jwt           atomic.Pointer[keystore.Identity]
	login         *url.URL // token endpoint; nil with a TokenSource and no LoginURL
	port          string   // mutual TLS port for instance hosts
	header        http.Header
	log           *slog.Logger
	route         atomic.Pointer[route]
	instanceHosts []string      // Config.InstanceHosts
	retry         retry.Policy  // Config.CallRetry
	budget        *retry.Budget // shared by API calls and the token request
	limits        limits

	refreshes, replays, retries, retriesDenied atomic.Int64
}

// New returns a Transport for cfg, refusing a cfg that Validate refuses
// before it builds anything. It fetches nothing until first used.
func New(cfg Config) (*Transport, error) {
	login, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	port := cmp.Or(cfg.Port, defaultPort)
	t := &Transport{log: cfg.Logger, port: strconv.Itoa(port), login: login, mtls: new(atomic.Pointer[keystore.Identity])}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.mtls.Store(cfg.MTLS)
	t.header, _ = cleanHeader(cfg.Header)

	if err := t.buildBases(cfg, cfg.RootCAs); err != nil {
		return nil, err
	}
	t.buildCalls(cfg)

	source := cfg.TokenSource
	if source == nil {
		t.jwt.Store(cmp.Or(cfg.JWT, cfg.MTLS))
		var tokenRT http.RoundTripper = t.orgRT
		if len(t.header) > 0 {
			tokenRT = headerTransport{next: t.orgRT, header: t.header}
		}
		bearer, err := auth.NewJWTBearer(auth.JWTBearerConfig{
			LoginURL:    cfg.LoginURL,
			Port:        port,
			Audience:    cfg.Audience,
			ConsumerKey: cfg.ConsumerKey,
			Username:    cfg.Username,
			Signer:      rotatingSigner{&t.jwt},
			// The token request shares the API's connection pool: one handshake serves both.
			HTTPClient:  &http.Client{Transport: tokenRT, CheckRedirect: noRedirect},
			Retry:       t.loginRetry(cfg.LoginRetry),
			RetryBudget: t.budget,
			Logger:      cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		t.bearer, source = bearer, bearer
	}
	loginHost := ""
	if t.login != nil {
		loginHost = t.login.Hostname()
	}
	t.instanceHosts = slices.Clone(cfg.InstanceHosts)
	storeKey := ""
	if cfg.Store != nil {
		storeKey = storekey.Key(cfg.LoginURL, cfg.ConsumerKey, cfg.Username) // Validate made sure Username is set
	}
	t.tokens = tokencache.New(source, tokencache.Options{
		SessionTimeout: cfg.SessionTimeout,
		// A token naming a host that is not the org's is dropped before it is
		// cached, stored or used: no request, token or certificate goes there.
		Check:    tokencheck.Checker(loginHost, t.instanceHosts),
		Store:    cfg.Store,
		StoreKey: storeKey,
		Logger:   cfg.Logger,
	})
	return t, nil
}

// defaultRetryBudget is how many retries may be spent before successes earn
// more (a tenth of a retry each).
const defaultRetryBudget = 10

// buildCalls sets what applies to every API call: retries, their budget, the
// usage cap.
func (t *Transport) buildCalls(cfg Config) {
	t.retry = retry.Calls
	if cfg.CallRetry != nil {
		t.retry = pacer(cfg.CallRetry, retry.Calls)
	}
	size := cmp.Or(cfg.RetryBudget, defaultRetryBudget)
	if size < 0 {
		size = 0 // no retries at all
	}
	t.budget = retry.NewBudget(size)
	t.limits.capAt = cfg.UsageCap
	t.limits.log = t.log
}

// loginRetry is the token request's policy: nil leaves auth's default.
func (t *Transport) loginRetry(p RetryPolicy) retry.Policy {
	if p == nil {
		return nil
	}
	return pacer(p, retry.Login)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// headerTransport adds the fixed headers to the token request, which the JWT
// bearer exchange builds itself.
type headerTransport struct {
	next   http.RoundTripper
	header http.Header
}

func (h headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := new(http.Request)
	*out = *req
	out.Header = req.Header.Clone()
	for k, v := range h.header {
		if _, set := out.Header[k]; !set {
			out.Header[k] = v
		}
	}
	return h.next.RoundTrip(out)
}

// rotatingSigner signs with whatever JWT identity is current.
type rotatingSigner struct {
	id *atomic.Pointer[keystore.Identity]
}

func (s rotatingSigner) Public() crypto.PublicKey { return s.id.Load().Signer().Public() }

func (s rotatingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.id.Load().Signer().Sign(r, digest, opts)
}

// SetMTLSIdentity makes new handshakes present id; open connections keep theirs.
// An identity that New would refuse (expired, not yet valid, a key that does not
// sign for its certificate) is refused, and the one in use stays.
func (t *Transport) SetMTLSIdentity(id *keystore.Identity) error {
	if err := checkIdentity("MTLS", id); err != nil {
		return err
	}
	t.mtls.Store(id)
	return nil
}

// SetJWTIdentity makes the next token request sign with id. An identity that
// New would refuse, such as one whose key cannot sign RS256, is refused, and the
// one in use stays.
func (t *Transport) SetJWTIdentity(id *keystore.Identity) error {
	if t.bearer == nil {
		return errs.New("JWT", "the Transport takes its tokens from Config.TokenSource: it signs no JWT", "")
	}
	if err := checkJWTIdentity(id, false); err != nil {
		return err
	}
	t.jwt.Store(id)
	return nil
}

// CloseIdleConnections closes idle connections, so the next call handshakes
// again (with a rotated certificate, say).
func (t *Transport) CloseIdleConnections() {
	t.org.CloseIdleConnections()
	t.plain.closeIdle()
}

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	st := Stats{TokenFetches: t.tokens.Fetches(), Refreshes: t.refreshes.Load(), Replays: t.replays.Load(),
		Retries: t.retries.Load(), RetriesDenied: t.retriesDenied.Load(), CapRefusals: t.limits.refused.Load(),
		APIUsage: t.limits.api.load(), AppUsage: t.limits.app.load()}
	if p := t.limits.appName.Load(); p != nil {
		st.AppName = *p
	}
	return st
}

// Client returns an http.Client over the Transport.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// Token returns the current access token, fetching one if needed.
func (t *Transport) Token(ctx context.Context) (*auth.Token, error) { return t.tokens.Token(ctx) }

// RejectToken drops tok, a token Salesforce refused outside this Transport
// (a Pub/Sub API stream's UNAUTHENTICATED), as a 401 INVALID_SESSION_ID does
// on the REST path: compared by value, only while it is still the cached
// token, so that many streams rejecting the same token cause one refresh,
// shared by every caller of the next Token.
func (t *Transport) RejectToken(tok *auth.Token) {
	t.tokens.Invalidate(tok)
	t.refreshes.Add(1)
}

// InstanceURL returns the org's instance URL with the mutual TLS port, the base
// for API paths: https://acme.my.salesforce.com:8443.
func (t *Transport) InstanceURL(ctx context.Context) (*url.URL, error) {
	tok, err := t.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "https", Host: t.routeFor(tok).instanceAddr}, nil
}

// TokenURL returns the token endpoint of the login URL, or "" when the
// Transport has a TokenSource and no LoginURL.
func (t *Transport) TokenURL() string {
	if t.login == nil {
		return ""
	}
	return t.login.String()
}

// Format prints a summary for every verb: fmt would otherwise walk the live
// connection pool (a data race) and the identities.
func (t *Transport) Format(f fmt.State, _ rune) {
	st := t.Stats()
	fmt.Fprintf(f, "transport.Transport{token_url=%s mtls_port=%s mtls=%v token_fetches=%d refreshes=%d replays=%d}",
		t.TokenURL(), t.port, t.mtls.Load(), st.TokenFetches, st.Refreshes, st.Replays)
}
