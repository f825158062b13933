package transport

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/keystore"
)

// ErrConfig marks a Transport configuration that cannot work; the error says
// which field and how to fix it.
var ErrConfig = errors.New("transport: invalid configuration")

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// Config configures a Transport. client.Config embeds it, so each setting has
// one name everywhere.
type Config struct {
	// LoginURL is the org's My Domain URL, e.g. https://acme.my.salesforce.com.
	// Mutual TLS needs it: login.salesforce.com and test.salesforce.com cannot
	// serve it. Optional with TokenSource.
	LoginURL string
	// Audience overrides the JWT audience: by default https://test.salesforce.com
	// for sandbox My Domains, else https://login.salesforce.com.
	Audience string
	// ConsumerKey and Username are the app's consumer key and the integration
	// user; not needed with TokenSource.
	ConsumerKey string
	Username    string
	// MTLS is the CA-signed identity uploaded as Mutual Authentication Certificate.
	MTLS *keystore.Identity
	// JWT is the identity whose certificate is uploaded to the app (Use digital
	// signatures); nil means MTLS. Its key must be RSA: the flow signs with RS256.
	JWT *keystore.Identity
	// Port is the mutual TLS port for the token request and API calls when the
	// URL names none; 0 means 8443.
	Port int
	// RootCAs verifies the servers; nil means the system roots.
	RootCAs *x509.CertPool
	// ExtraRoots are added to RootCAs (or to the system roots), for a test org or
	// a TLS-inspecting proxy.
	ExtraRoots []*x509.Certificate
	// TokenSource, when set, supplies the access tokens in place of the JWT
	// bearer exchange (then JWT, ConsumerKey and Username are not needed). Its
	// tokens are still cached and refreshed on INVALID_SESSION_ID as the
	// exchange's are; it must be safe for concurrent use.
	TokenSource auth.TokenSource
	// SessionTimeout is the org's session timeout, to refresh before it runs out;
	// 0 refreshes only when Salesforce answers INVALID_SESSION_ID. Every
	// successful call extends the session, as Salesforce's inactivity timeout does.
	SessionTimeout time.Duration
	// Store shares the access token with other processes of the same login
	// (auth.NewFileStore, or redisstore), so that a fleet logs in once; nil
	// keeps it in this process.
	Store auth.Store
	// InstanceHosts are hosts a token's instance_url may name besides the login
	// host and Salesforce's own domains (auth.SalesforceDomains): a private or
	// test setup's. "host" matches exactly; ".example.com" or "*.example.com"
	// matches its subdomains. A token naming any other host is refused before
	// it is cached or used, and the host never gets the token or the client
	// certificate.
	InstanceHosts []string
	// LoginRetry paces the retries of the token request after a failure
	// without an answer, a 429 or a 5xx (an OAuth refusal is never retried);
	// nil means 4 attempts, exponential backoff with jitter from 200ms, at
	// least the answer's Retry-After, and a Backoff's zero fields take these
	// defaults. Its retries spend from the same RetryBudget as API calls'.
	LoginRetry RetryPolicy
	// MaxConnsPerHost bounds the HTTP/2 connections to each Salesforce host; 0
	// means 4. HTTP/2 carries many requests on each, and without a bound a burst
	// beyond a connection's stream limit dials one TLS connection per waiting
	// request. A host that answers in HTTP/1.1 (through a proxy or load balancer
	// without HTTP/2) carries one request per connection, so its connections are
	// not bounded: they follow the callers, as with net/http's defaults.
	MaxConnsPerHost int
	// HTTP2 tunes the HTTP/2 connections (net/http's HTTP2Config). Its health
	// check finds connections that went silent: one that has received nothing
	// for SendPingTimeout is pinged, and closed when no answer comes within
	// PingTimeout, so the requests on it fail instead of waiting minutes for the
	// operating system, and the next ones dial anew. nil, or a zero
	// SendPingTimeout or PingTimeout, means 30s and 15s; a negative
	// SendPingTimeout turns the health check off.
	HTTP2 *http.HTTP2Config
	// WrapBase, when set, wraps each base transport: the mutual TLS ones for the
	// org (API calls and the token request; one for HTTP/2, one for hosts that
	// answer in HTTP/1.1) and the plain one for other hosts.
	// Use it for instrumentation such as otelhttp.NewTransport. It receives an
	// *http.Transport not yet used, whose DialContext or Proxy it may replace.
	WrapBase func(http.RoundTripper) http.RoundTripper
	// Header holds fixed headers added to every request for the org (API calls
	// and the token request), such as Sforce-Call-Options: client=acme. A header
	// the request sets itself wins. Requests for other hosts never get them.
	Header http.Header
	// CallRetry decides how API calls that failed transiently are sent again
	// (see RoundTrip for which failures qualify); nil means Backoff{}: 3
	// attempts, exponential backoff with jitter from 100ms, at least the
	// answer's Retry-After. WithRetryPolicy overrides it for one call.
	CallRetry RetryPolicy
	// RetryBudget is how many retries the Transport may spend before calls that
	// succeed earn more (a tenth of a retry each), so that retries cannot
	// multiply the load on a failing org; 0 means 10, negative means none.
	RetryBudget int
	// UsageCap, when set, refuses new calls locally with *UsageCapError once
	// the org's API usage (or the app's quota) in Sforce-Limit-Info reaches this
	// fraction of its allocation, such as 0.9; one call every 30 seconds still
	// goes out to read the usage again. 0 means no cap.
	UsageCap float64
	// Logger receives debug records of token fetches, refreshes and retries,
	// and API usage as it passes 50, 75, 90 and 95% of the allocation; nil logs nothing.
	Logger *slog.Logger
}

// Format prints the configuration for every verb without key material: the
// identities print as their summaries, the token source as its type, and the
// headers as their names only, since a header may carry a credential.
func (c Config) Format(f fmt.State, _ rune) {
	names := make([]string, 0, len(c.Header))
	for k := range c.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	source := "<nil>"
	if c.TokenSource != nil {
		source = fmt.Sprintf("%T", c.TokenSource)
	}
	fmt.Fprintf(f, "transport.Config{LoginURL:%q Audience:%q ConsumerKey:%q Username:%q MTLS:%v JWT:%v Port:%d "+
		"RootCAs:%t ExtraRoots:%d TokenSource:%s SessionTimeout:%s Store:%T InstanceHosts:%q LoginRetry:%T MaxConnsPerHost:%d "+
		"HTTP2:%+v WrapBase:%t Header:%v CallRetry:%T RetryBudget:%d UsageCap:%v Logger:%t}",
		c.LoginURL, c.Audience, c.ConsumerKey, c.Username, c.MTLS, c.JWT, c.Port,
		c.RootCAs != nil, len(c.ExtraRoots), source, c.SessionTimeout, c.Store, c.InstanceHosts, c.LoginRetry, c.MaxConnsPerHost,
		c.HTTP2, c.WrapBase != nil, names, c.CallRetry, c.RetryBudget, c.UsageCap, c.Logger != nil)
}

// defaultPort is where Salesforce enforces client certificates.
const defaultPort = 8443

// loginEndpoint parses a My Domain login URL into the token endpoint: its own
// port when it names one, else port.
func loginEndpoint(loginURL string, port int) (*url.URL, error) {
	u, err := url.Parse(loginURL)
	if err != nil || u.Host == "" {
		return nil, configError("LoginURL %q is not an absolute URL such as https://acme.my.salesforce.com", loginURL)
	}
	if u.Scheme != "https" {
		return nil, configError("LoginURL %q must use https", loginURL)
	}
	if isGenericLoginHost(u.Hostname()) {
		return nil, configError("LoginURL %q: mutual TLS needs the org's My Domain URL "+
			"(https://<domain>.my.salesforce.com, as Setup → My Domain shows it), not login.salesforce.com or test.salesforce.com", loginURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	}
	return &url.URL{Scheme: "https", Host: host, Path: "/services/oauth2/token"}, nil
}

// isGenericLoginHost: login.salesforce.com and test.salesforce.com do not serve
// mutual TLS; Salesforce requires the org's My Domain for it.
func isGenericLoginHost(host string) bool {
	host = strings.ToLower(host)
	return host == "login.salesforce.com" || host == "test.salesforce.com"
}

// checkInstanceHosts refuses an InstanceHosts entry that is not a host name
// or a domain pattern.
func checkInstanceHosts(hosts []string) error {
	for _, h := range hosts {
		name := strings.TrimPrefix(strings.TrimPrefix(h, "*"), ".")
		if name == "" || strings.ContainsAny(name, "/:@ *") {
			return configError("InstanceHosts entry %q is not a host name (acme.example.com) or a domain pattern "+
				"(.example.com or *.example.com): give no scheme, port or path", h)
		}
	}
	return nil
}

// cleanHeader copies h with canonical names, refusing the header the Transport
// sets itself.
func cleanHeader(h http.Header) (http.Header, error) {
	out := make(http.Header, len(h))
	for k, v := range h {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if k == "Authorization" || k == "Host" {
			return nil, configError("Header must not set %s: the Transport sets it for the org", k)
		}
		out[k] = slices.Clone(v)
	}
	return out, nil
}

// checkIdentity refuses an identity that cannot serve now: missing, empty,
// outside its validity period, or whose key does not sign for its certificate.
func checkIdentity(role string, id *keystore.Identity) error {
	if id == nil {
		return configError("%s identity is missing: load the keystore with keystore.LoadFile", role)
	}
	if len(id.Chain()) == 0 || id.Signer() == nil {
		return configError("%s identity is empty: make it with keystore.Load, keystore.LoadFile or keystore.NewIdentity", role)
	}
	if err := id.CheckValidity(time.Now()); err != nil {
		return fmt.Errorf("%w: %s identity: %w", ErrConfig, role, err)
	}
	if err := probeSignature(id); err != nil {
		return fmt.Errorf("%w: %s identity: %w", ErrConfig, role, err)
	}
	return nil
}

// probeSignature signs a test digest and verifies it with the certificate's
// public key. A key from an HSM can claim the certificate's public key and still
// sign with another; this finds that here, not at the first handshake.
func probeSignature(id *keystore.Identity) error {
	digest := sha256.Sum256([]byte("sfmtls: identity probe"))
	leaf := id.Leaf()
	var sig []byte
	var err error
	switch pub := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if sig, err = id.Signer().Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
		}
	case *ecdsa.PublicKey:
		if sig, err = id.Signer().Sign(rand.Reader, digest[:], crypto.SHA256); err == nil && !ecdsa.VerifyASN1(pub, digest[:], sig) {
			err = errors.New("verification failed")
		}
	case ed25519.PublicKey:
		if sig, err = id.Signer().Sign(rand.Reader, digest[:], crypto.Hash(0)); err == nil && !ed25519.Verify(pub, digest[:], sig) {
			err = errors.New("verification failed")
		}
	default:
		return nil // crypto/tls decides what it can use
	}
	if err != nil {
		return fmt.Errorf("the private key does not sign for the certificate %q (%v): it is not the certificate's key, "+
			"or the key store refuses SHA-256 signatures", leaf.Subject.String(), err)
	}
	return nil
}

// minRSABits is the smallest JWT key accepted. Salesforce's documents name no
// minimum for the certificate uploaded to an app; its own certificate generator
// (Setup → Certificate and Key Management) offers 2048 bits and up, and NIST SP
// 800-131A has disallowed 1024-bit RSA signatures since 2013.
const minRSABits = 2048

// jwtFix names the remedy for a JWT key Salesforce cannot verify.
const jwtFix = "make a self-signed RSA certificate for the app (openssl req -x509 -newkey rsa:2048 -nodes " +
	"-keyout jwt.key -out jwt.crt -days 730), upload jwt.crt under the app's Use digital signatures, and set Config.JWT to it"

// checkJWTIdentity refuses a JWT identity whose key cannot sign RS256, the only
// algorithm Salesforce's JWT bearer flow accepts.
func checkJWTIdentity(id *keystore.Identity) error {
	if err := checkIdentity("JWT", id); err != nil {
		return err
	}
	switch pub := id.Leaf().PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < minRSABits {
			return configError("the JWT key is RSA of %d bits, under %d: %s", bits, minRSABits, jwtFix)
		}
	default:
		return configError("the JWT key is %s, but Salesforce signs JWT bearer assertions only with RS256, "+
			"which needs an RSA key (the mutual TLS identity may be EC; the JWT one may not): %s",
			id.Leaf().PublicKeyAlgorithm, jwtFix)
	}
	return nil
}
