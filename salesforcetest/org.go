// Package salesforcetest runs a fake Salesforce org on loopback for tests, as
// net/http/httptest runs a fake server: mutual TLS that demands a registered
// client certificate, the OAuth 2.0 JWT bearer token endpoint with Salesforce's
// answers and errors, and the REST API as the REST API Developer Guide
// documents it: versions 31.0 to APIVersion, describeGlobal, sObject basic
// information and describe, records by id (15 or 18 characters) and by
// external id, query and queryAll with paging, SOSL search, limits with
// Sforce-Limit-Info, identity and userinfo.
//
// The org has a schema — the common standard objects (Account, Contact,
// Opportunity, Lead, Case, Task, Event, User, and the Organization and
// RecordType clients read at start-up) and the custom objects and fields a
// test declares — and validates every write against it as Salesforce does, with
// Salesforce's status and error codes.
//
// The org also models what goes wrong: sessions that expire (all at once, or
// after a lifetime), token requests that fail with 503 or answer slowly, and
// calls that arrive without a client certificate. Counters tell how many TLS
// handshakes, token requests, API requests and 401s it saw.
package salesforcetest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/bulkjob"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// Defaults for Config, and the newest API version.
const (
	defaultConsumerKey = "3MVG9fakeOrgConsumerKey.sfmtls"
	defaultUsername    = "integration.user@example.com"
	defaultPageSize    = 2000
	// APIVersion is the newest version the org lists.
	APIVersion = "68.0"
)

// Config configures a fake org. The zero value starts an org with a fresh PKI,
// a consumer key, a pre-authorized user (Org.ConsumerKey and Org.Username tell
// them), and sessions that never expire.
type Config struct {
	PKI         *PKI   // nil generates one
	ConsumerKey string // the app's consumer key
	Username    string // the pre-authorized integration user
	// Audience the token endpoint accepts; default https://login.salesforce.com.
	Audience string
	// SessionLifetime ends sessions this long after login; 0 means never.
	SessionLifetime time.Duration
	// PageSize is how many records a query page holds when the client sends no
	// Sforce-Query-Options batchSize (which is held to 200–2000); default 2000.
	PageSize int
	// ErrorLog receives the HTTP server's errors (failed handshakes); nil discards them.
	ErrorLog *log.Logger
	// MaxConcurrentStreams per HTTP/2 connection; 0 means net/http's default (250).
	MaxConcurrentStreams int
	// HTTP1Only serves HTTP/1.1 alone (ALPN offers no h2), as behind a proxy
	// or load balancer that does not speak HTTP/2.
	HTTP1Only bool
	// Objects declares custom objects (Invoice__c) and, in an entry named
	// after a standard object, custom fields to add to it (External_Id__c on Account).
	Objects []SObject
	// DailyAPIRequests is the daily API allocation; 0 means DefaultDailyAPIRequests.
	// Past it, calls get 403 REQUEST_LIMIT_EXCEEDED.
	DailyAPIRequests int64
	// MaxConcurrentAPIRequests limits the REST calls in flight; 0 means no limit.
	// Salesforce counts only calls running 20 seconds or more; the fake counts
	// every call in flight, so a test can reach the limit without waiting.
	MaxConcurrentAPIRequests int
	// Now is the org's clock: it decides session expiry and the assertion's
	// exp, and stamps records (CreatedDate, LastModifiedDate). nil means
	// time.Now; a test passes a clock it advances instead of sleeping.
	Now func() time.Time
	// BulkStoreMaxRecords bounds memory (every stored record stays on the
	// heap): a Bulk API 2.0 insert or upsert job with more rows ends Failed
	// before any row is applied, its errorMessage ("FakeOrgRowCap : …")
	// naming the cap, rather than report rows the fake did not keep as
	// successes; the rows stay in the job's unprocessedrecords. 0 means
	// 50,000. Raise it when a test stores more in one job: storing costs the
	// same per row however large the store.
	BulkStoreMaxRecords int
}

// Stats counts what the org saw.
type Stats struct {
	TLSHandshakes int64 // completed handshakes on the mutual TLS listener
	TokenRequests int64 // requests to /services/oauth2/token, answered or not
	TokensIssued  int64
	APIRequests   int64 // requests to /services/data (but the versions list), /id and userinfo
	Unauthorized  int64 // 401 answers (and identity's 403 Bad_OAuth_Token)
	// APIUsage is the calls counted against the daily allocation, and
	// APIAllocation the allocation (Config.DailyAPIRequests).
	APIUsage, APIAllocation int64
}

// Org is a running fake org.
type Org struct {
	// URL is the My Domain login URL with the mutual TLS port, e.g. https://127.0.0.1:41234.
	URL string
	// Host is the org's host name and Port its mutual TLS port, which stands for 8443.
	Host string
	Port int
	// InstanceURL is the instance URL as Salesforce names it, the host
	// alone (port 443): API URLs a test builds on it reach Port through the
	// SDK, which puts in the mutual TLS port (Config.Port) as it puts in 8443.
	InstanceURL string
	// StandardURL plays Salesforce's port 443, which a loopback server cannot
	// take: the same org over TLS without asking for a client certificate.
	// Token answers' instance_url names it, so a client that calls
	// instance_url as given gets what it would get from Salesforce: 401
	// MUTUAL_AUTHENTICATION_FAILED on every API call, the user having
	// "Enforce SSL/TLS Mutual Authentication". The API answers on Port.
	StandardURL string
	PKI         *PKI
	ConsumerKey string
	Username    string
	Audience    string

	mtls, standard  *http.Server
	mux             *http.ServeMux
	clientRoots     *x509.CertPool
	defaultPageSize int
	limits          *apiLimits
	now             func() time.Time // Config.Now; set once by Start
	schemaChanged   schemaClock      // for If-Modified-Since on describe

	mu            sync.Mutex
	lifetime      time.Duration
	sessions      map[string]session
	mutualAuth    map[[32]byte]bool // SHA-256 of registered Mutual Authentication Certificates
	appCert       *x509.Certificate // the certificate uploaded to the app for the JWT
	preAuthorized map[string]bool
	tokenFaults   []http.Handler // serve the next token requests, one each
	issued        []string       // every access token issued, for secret-hygiene tests
	tokenDelay    time.Duration
	data          *data.Store
	tooling       *data.Store // the Tooling API's objects (tooling.go)
	cursors       *cursors    // the REST query handlers' paging state
	bulk          *bulkjob.Jobs
	v1            asyncJobs // Bulk API 1.0
	handshakes    atomic.Int64
	tokenRequests atomic.Int64
	tokensIssued  atomic.Int64
	apiRequests   atomic.Int64
	unauthorized  atomic.Int64
	streamOnce    sync.Once
	streamState   *streaming // the Streaming API (streaming.go), made on first use
}

type session struct {
	user    string
	expires time.Time // zero: never
}

// Start starts a fake org on 127.0.0.1.
func Start(cfg Config) (*Org, error) {
	if cfg.PKI == nil {
		p, err := NewPKI()
		if err != nil {
			return nil, err
		}
		cfg.PKI = p
	}
	o := &Org{
		PKI:             cfg.PKI,
		ConsumerKey:     valueOr(cfg.ConsumerKey, defaultConsumerKey),
		Username:        valueOr(cfg.Username, defaultUsername),
		Audience:        valueOr(cfg.Audience, jwtbearer.ProductionAudience),
		Host:            "127.0.0.1",
		InstanceURL:     "https://127.0.0.1",
		defaultPageSize: cfg.PageSize,
		limits:          &apiLimits{max: cfg.DailyAPIRequests, maxConcurrent: cfg.MaxConcurrentAPIRequests},
		lifetime:        cfg.SessionLifetime,
		sessions:        map[string]session{},
		mutualAuth:      map[[32]byte]bool{},
		preAuthorized:   map[string]bool{},
		clientRoots:     x509.NewCertPool(),
		cursors:         newCursors(),
		now:             cfg.Now,
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.schemaChanged.touch(o.now())
	o.data = data.NewStore(o.now)
	o.bulk = o.newBulkJobs(cfg.BulkStoreMaxRecords)
	if o.defaultPageSize <= 0 {
		o.defaultPageSize = defaultPageSize
	}
	if o.limits.max <= 0 {
		o.limits.max = DefaultDailyAPIRequests
	}
	for _, obj := range cfg.Objects {
		if err := o.declare(obj); err != nil {
			return nil, err
		}
	}
	o.clientRoots.AddCert(o.PKI.ClientRootCA)
	o.Setup().RegisterMutualAuthCertificate(o.PKI.ClientIdentity.Leaf())
	o.appCert = o.PKI.JWTIdentity.Leaf()
	o.preAuthorized[o.Username] = true

	cert, key, err := o.PKI.serverCertificate("127.0.0.1", "localhost")
	if err != nil {
		return nil, err
	}
	serverCert := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	errLog := cfg.ErrorLog
	if errLog == nil {
		errLog = log.New(discard{}, "", 0)
	}
	o.mux = o.routes()
	handler := sameResource(o.mux)

	// Like Salesforce on 8443: a client certificate is required, and the request
	// names no acceptable CAs (RequireAnyClientCert sends an empty list, where
	// RequireAndVerifyClientCert would list ClientCAs); the chain is then
	// verified in full in VerifyConnection.
	mtlsConfig := &tls.Config{
		Certificates:     []tls.Certificate{serverCert},
		ClientAuth:       tls.RequireAnyClientCert,
		MinVersion:       tls.VersionTLS12,
		VerifyConnection: o.verifyClient,
	}
	if o.mtls, o.URL, o.Port, err = serve(handler, mtlsConfig, errLog, cfg); err != nil {
		return nil, err
	}
	o.data.SetUserID(o.userID(o.Username))
	o.tooling = data.NewToolingStore(o.now)
	o.tooling.SetUserID(o.userID(o.Username))
	if err := o.data.AddOrganization(orgID, organizationFields(o.Audience)); err != nil {
		o.mtls.Close()
		return nil, err
	}
	standardConfig := &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}
	if o.standard, o.StandardURL, _, err = serve(handler, standardConfig, errLog, cfg); err != nil {
		o.mtls.Close()
		return nil, err
	}
	return o, nil
}

func serve(h http.Handler, tlsConfig *tls.Config, errLog *log.Logger, cfg Config) (*http.Server, string, int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", 0, err
	}
	srv := &http.Server{Handler: h, TLSConfig: tlsConfig, ErrorLog: errLog, ReadHeaderTimeout: 10 * time.Second}
	if cfg.MaxConcurrentStreams > 0 {
		srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: cfg.MaxConcurrentStreams}
	}
	if cfg.HTTP1Only {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	port := l.Addr().(*net.TCPAddr).Port
	return srv, "https://127.0.0.1:" + strconv.Itoa(port), port, nil
}

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// verifyClient checks the presented chain against the client CAs, as the TLS
// layer of Salesforce's port 8443 does, and counts the handshake.
func (o *Org) verifyClient(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("salesforcetest: no client certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: o.clientRoots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("salesforcetest: client certificate refused: %w", err)
	}
	o.handshakes.Add(1)
	return nil
}

// Handle adds a route to the org, such as a custom Apex REST service or a
// redirect, for tests of behaviour the fake does not model. With authenticated
// set, the route checks the session and the client certificate first, and
// counts against the API limits with Sforce-Limit-Info, like every
// /services/data route.
func (s Setup) Handle(pattern string, authenticated bool, h http.Handler) {
	o := s.o
	if authenticated {
		h = o.authenticated(h)
	}
	o.mux.Handle(pattern, h)
}

// Close shuts the org down, closing its connections.
func (o *Org) Close() {
	o.mtls.Close()
	o.standard.Close()
	o.bulk.Close()
	o.closeStreaming()
}

// RootCAs returns a pool holding the org's server CA, for clients' RootCAs.
func (o *Org) RootCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(o.PKI.ServerCA)
	return p
}

// HTTPClient returns a client that trusts the org and presents id (nil: the
// org's registered client identity) with its intermediates, like
// httptest.Server.Client. It adds no token: that is the SDK's job.
func (o *Org) HTTPClient(id *keystore.Identity) *http.Client {
	if id == nil {
		id = o.PKI.ClientIdentity
	}
	cert := id.TLSCertificate()
	return &http.Client{Transport: &http.Transport{
		ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{
			RootCAs:    o.RootCAs(),
			MinVersion: tls.VersionTLS12,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return &cert, nil
			},
		},
	}}
}

// Stats returns the counters.
func (o *Org) Stats() Stats {
	used, allocation := o.limits.usage()
	return Stats{
		TLSHandshakes: o.handshakes.Load(),
		TokenRequests: o.tokenRequests.Load(),
		TokensIssued:  o.tokensIssued.Load(),
		APIRequests:   o.apiRequests.Load(),
		Unauthorized:  o.unauthorized.Load(),
		APIUsage:      used,
		APIAllocation: allocation,
	}
}

// ExpireAllSessions ends every session now: the next API call with any token
// issued so far gets 401 INVALID_SESSION_ID.
func (f Faults) ExpireAllSessions() {
	o := f.o
	o.mu.Lock()
	clear(o.sessions)
	o.mu.Unlock()
}

// SetSessionLifetime sets how long sessions issued from now on last; 0 means forever.
func (s Setup) SetSessionLifetime(d time.Duration) {
	o := s.o
	o.mu.Lock()
	o.lifetime = d
	o.mu.Unlock()
}

// FailTokenRequests makes the next n token requests answer status (e.g. 503)
// with an HTML page, as a load balancer would.
func (f Faults) FailTokenRequests(n, status int) {
	o := f.o
	o.Faults().FailTokenRequestsWith(n, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><body>%d %s</body></html>", status, http.StatusText(status))
	}))
}

// FailTokenRequestsWith serves the next n token requests with h instead, for
// faults such as a connection cut mid-answer or a body that is not JSON.
func (f Faults) FailTokenRequestsWith(n int, h http.Handler) {
	o := f.o
	o.mu.Lock()
	o.tokenFaults = nil
	for range n {
		o.tokenFaults = append(o.tokenFaults, h)
	}
	o.mu.Unlock()
}

// AbortMidResponse is a token fault: it sends the start of a 200 answer and cuts
// the stream (HTTP/2 RST_STREAM, or a closed HTTP/1.1 connection).
var AbortMidResponse = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"access_token":"00D`)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
})

// IssuedTokens returns every access token the org has issued, for tests that
// check no token reaches a log or an error.
func (o *Org) IssuedTokens() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.issued...)
}

// SetTokenDelay delays every token response by d.
func (f Faults) SetTokenDelay(d time.Duration) {
	o := f.o
	o.mu.Lock()
	o.tokenDelay = d
	o.mu.Unlock()
}

// RegisterMutualAuthCertificate uploads cert as a Mutual Authentication Certificate.
func (s Setup) RegisterMutualAuthCertificate(cert *x509.Certificate) {
	o := s.o
	o.mu.Lock()
	o.mutualAuth[sha256.Sum256(cert.Raw)] = true
	o.mu.Unlock()
}

// UnregisterMutualAuthCertificate removes cert from the Mutual Authentication Certificates.
func (s Setup) UnregisterMutualAuthCertificate(cert *x509.Certificate) {
	o := s.o
	o.mu.Lock()
	delete(o.mutualAuth, sha256.Sum256(cert.Raw))
	o.mu.Unlock()
}

// SetAppCertificate replaces the certificate uploaded to the app for the JWT.
func (s Setup) SetAppCertificate(cert *x509.Certificate) {
	o := s.o
	o.mu.Lock()
	o.appCert = cert
	o.mu.Unlock()
}

// PreAuthorize makes username a pre-authorized user of the app (or, with false, not).
func (s Setup) PreAuthorize(username string, authorized bool) {
	o := s.o
	o.mu.Lock()
	o.preAuthorized[username] = authorized
	o.mu.Unlock()
}

func (o *Org) registered(cert *x509.Certificate) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.mutualAuth[sha256.Sum256(cert.Raw)]
}

// shutdownTimeout bounds Shutdown.
const shutdownTimeout = 5 * time.Second

// Shutdown stops the org gracefully, waiting for requests in flight.
func (o *Org) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, shutdownTimeout)
	defer cancel()
	return errors.Join(o.mtls.Shutdown(ctx), o.standard.Shutdown(ctx))
}
