package transport

import (
	"cmp"
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
	"github.com/sfmtls/sfmtls/internal/certcheck"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/keystore"
)

// Config is the transport's share of client.Config; client.New fills it in,
// and client.Config documents each field under the same name. Programs set
// client.Config and call client.New; this type is for the transport's own
// tests and benchmarks.
type Config struct {
	// The org and its user.
	LoginURL    string
	Audience    string
	ConsumerKey string
	Username    string

	// The identities.
	MTLS *keystore.Identity
	JWT  *keystore.Identity

	// The connection.
	Port            int
	RootCAs         *x509.CertPool
	InstanceHosts   []string
	Header          http.Header
	MaxConnsPerHost int
	HTTP2           *http.HTTP2Config
	WrapBase        func(http.RoundTripper) http.RoundTripper

	// The session.
	TokenSource    auth.TokenSource
	Store          auth.Store
	SessionTimeout time.Duration

	// Retries and limits.
	LoginRetry  RetryPolicy
	CallRetry   RetryPolicy
	RetryBudget int
	UsageCap    float64

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
	fmt.Fprintf(f, "{LoginURL:%q Audience:%q ConsumerKey:%q Username:%q MTLS:%v JWT:%v Port:%d "+
		"RootCAs:%t InstanceHosts:%q Header:%v MaxConnsPerHost:%d HTTP2:%+v WrapBase:%t "+
		"TokenSource:%s Store:%T SessionTimeout:%s LoginRetry:%T CallRetry:%T RetryBudget:%d UsageCap:%v Logger:%t}",
		c.LoginURL, c.Audience, c.ConsumerKey, c.Username, c.MTLS, c.JWT, c.Port,
		c.RootCAs != nil, c.InstanceHosts, names, c.MaxConnsPerHost, c.HTTP2, c.WrapBase != nil,
		source, c.Store, c.SessionTimeout, c.LoginRetry, c.CallRetry, c.RetryBudget, c.UsageCap, c.Logger != nil)
}

// Validate returns every problem of c at once, each a *client.ConfigError
// (matching client.ErrConfig) naming its field, joined; nil when c can work.
// It checks each identity now: present, within its validity period, and
// signing for its certificate; the JWT one RSA of 2,048 bits or more.
func (c Config) Validate() error {
	_, err := c.validate()
	return err
}

// validate is Validate, returning the token endpoint it parsed (nil with a
// TokenSource and no LoginURL) for New.
func (c Config) validate() (*url.URL, error) {
	var problems []error
	var login *url.URL
	add := func(err error) {
		if err != nil {
			problems = append(problems, err)
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		add(errs.New("Port", fmt.Sprintf("%d is not a TCP port", c.Port), "give the mutual TLS port, or 0 for 8443"))
	}
	if c.LoginURL != "" || c.TokenSource == nil {
		var err error
		login, err = loginEndpoint(c.LoginURL, cmp.Or(c.Port, defaultPort))
		add(err)
	}
	add(checkIdentity("MTLS", c.MTLS))
	if c.TokenSource == nil {
		if c.ConsumerKey == "" {
			add(errs.New("ConsumerKey", "empty", "copy the consumer key of the app (Setup → App Manager → View)"))
		}
		if c.Username == "" {
			add(errs.New("Username", "empty", "give the integration user's username"))
		}
		switch {
		case c.JWT != nil:
			add(checkJWTIdentity(c.JWT, false))
		case c.MTLS != nil && len(c.MTLS.Chain()) > 0:
			// The MTLS identity signs the JWT too; its own problems are reported once, above.
			add(checkJWTIdentity(c.MTLS, true))
		}
	}
	if c.Store != nil && c.TokenSource != nil && c.Username == "" {
		// A TokenSource's user is unknown to the SDK: without a
		// username two users' sessions would share one entry.
		add(errs.New("Username", "empty, but Store needs it to name the shared session",
			"give the Username (and ConsumerKey) the TokenSource's tokens are for, or no Store"))
	}
	_, err := cleanHeader(c.Header)
	add(err)
	add(checkInstanceHosts(c.InstanceHosts))
	if c.MaxConnsPerHost < 0 {
		add(errs.New("MaxConnsPerHost", fmt.Sprintf("%d is negative", c.MaxConnsPerHost), "give a bound, or 0 for 4"))
	}
	if c.UsageCap < 0 || c.UsageCap > 1 {
		add(errs.New("UsageCap", fmt.Sprintf("%v is not a fraction between 0 and 1", c.UsageCap),
			"give 0.9 to refuse calls past 90% of the allocation, or 0 for no cap"))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return login, nil
}

// defaultPort is where Salesforce enforces client certificates.
const defaultPort = 8443

// loginEndpoint parses a My Domain login URL into the token endpoint: its own
// port when it names one, else port.
func loginEndpoint(loginURL string, port int) (*url.URL, error) {
	u, err := url.Parse(loginURL)
	if err != nil || u.Host == "" {
		return nil, errs.New("LoginURL", fmt.Sprintf("%q is not an absolute URL", loginURL),
			"give the org's My Domain URL, such as https://acme.my.salesforce.com")
	}
	if u.Scheme != "https" {
		return nil, errs.New("LoginURL", fmt.Sprintf("%q does not use https", loginURL),
			"give the org's My Domain URL with https://, such as https://acme.my.salesforce.com")
	}
	if isGenericLoginHost(u.Hostname()) {
		return nil, errs.New("LoginURL", fmt.Sprintf("%q does not serve mutual TLS", loginURL),
			"give the org's My Domain URL (https://<domain>.my.salesforce.com, as Setup → My Domain shows it): "+
				"login.salesforce.com and test.salesforce.com do not serve mutual TLS")
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
			return errs.New("InstanceHosts", fmt.Sprintf("entry %q is not a host name or a domain pattern", h),
				"give host names (acme.example.com) or domain patterns (.example.com or *.example.com), with no scheme, port or path")
		}
	}
	return nil
}

// cleanHeader copies h with canonical names, refusing the header the Transport
// sets itself.
func cleanHeader(h http.Header) (http.Header, error) {
	if len(h) == 0 {
		return nil, nil
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if k == "Authorization" || k == "Host" {
			return nil, errs.New("Header", "sets "+k, "remove "+k+": the SDK sets it for the org")
		}
		out[k] = slices.Clone(v)
	}
	return out, nil
}

// checkIdentity refuses an identity that cannot serve now: missing, empty,
// outside its validity period, or whose key does not sign for its certificate.
// field is the Config field it came from.
func checkIdentity(field string, id *keystore.Identity) error {
	if id == nil {
		return errs.New(field, "no identity", "load the keystore with keystore.LoadFile")
	}
	if len(id.Chain()) == 0 || id.Signer() == nil {
		return errs.New(field, "the identity is empty", "make it with keystore.Load, keystore.LoadFile or keystore.NewIdentity")
	}
	if err := id.CheckValidity(time.Now()); err != nil {
		return &errs.ConfigError{Field: field, Err: err}
	}
	if err := keyMatches(id); err != nil {
		return &errs.ConfigError{Field: field, Err: err,
			Remedy: "give the key that belongs to the certificate; with a key store such as an HSM, allow SHA-256 signatures"}
	}
	return nil
}

// localKey marks a crypto.Signer whose public key is computed from the very
// private key it signs with, as for the standard library's keys; the tests'
// wrappers of such keys implement it.
type localKey interface{ localKey() }

// keyMatches makes sure id's key signs for its certificate. A key held in
// memory does when its public key is the certificate's, a comparison (the
// keystore made it when it loaded the key): signing would only repeat, at the
// cost of an RSA signature, what the first handshake or JWT will do anyway.
// Any other signer (an HSM's, say) can claim the certificate's public key and
// still sign with another key, so it signs a test digest (probeSignature).
func keyMatches(id *keystore.Identity) error {
	switch id.Signer().(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, localKey:
		// keystore.NewIdentity has refused any other: the comparison is a guard.
		if certcheck.SameKey(id.Signer().Public(), id.Leaf().PublicKey) {
			return nil
		}
	}
	return probeSignature(id)
}

// probeSignature signs a test digest and verifies it with the certificate's
// public key, finding a signer that is not the certificate's key here rather
// than at the first handshake.
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
		return fmt.Errorf("transport: the private key does not sign for the certificate %q (%v): it is not the certificate's key, "+
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
const jwtFix = "make a self-signed RSA certificate for the app (sfmtls jwt-cert, or openssl req -x509 -newkey rsa:2048 -nodes " +
	"-keyout jwt.key -out jwt.crt -days 730), upload its certificate under the app's Use digital signatures, and set Config.JWT to it"

// checkJWTIdentity refuses a JWT identity whose key cannot sign RS256, the only
// algorithm Salesforce's JWT bearer flow accepts. fromMTLS says that JWT is
// unset and the MTLS identity, already checked, signs the JWT.
func checkJWTIdentity(id *keystore.Identity, fromMTLS bool) error {
	if !fromMTLS {
		if err := checkIdentity("JWT", id); err != nil {
			return err
		}
	}
	switch pub := id.Leaf().PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < minRSABits {
			return errs.New("JWT", fmt.Sprintf("the JWT key is RSA of %d bits, under %d", bits, minRSABits), jwtFix)
		}
	default:
		problem := fmt.Sprintf("the JWT key is %s, but Salesforce signs JWT bearer assertions only with RS256, which needs an RSA key",
			id.Leaf().PublicKeyAlgorithm)
		if fromMTLS {
			problem += " (JWT is unset, so the MTLS identity signs the JWT: the MTLS key may be EC, the JWT one may not)"
		}
		return errs.New("JWT", problem, jwtFix)
	}
	return nil
}
