package transport_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// seen is what a server recorded of one request.
type seen struct {
	clientCert    bool
	authorization string
	callOptions   string
}

// certAskingServer starts a second loopback TLS server, trusted like the org,
// that asks every client for a certificate (tls.RequestClientCert: it accepts
// none too) and records whether one came, with the Authorization and
// Sforce-Call-Options headers.
func certAskingServer(t *testing.T, org *salesforcetest.Org) (*httptest.Server, func() []seen) {
	t.Helper()
	cert, err := org.PKI.ServerTLSCertificate("127.0.0.1", "localhost")
	require.NoError(t, err)
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{clientCert: len(r.TLS.PeerCertificates) > 0, authorization: r.Header.Get("Authorization"),
			callOptions: r.Header.Get("Sforce-Call-Options")})
		mu.Unlock()
		_, _ = io.WriteString(w, "elsewhere")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, func() []seen { mu.Lock(); defer mu.Unlock(); return append([]seen(nil), got...) }
}

// TestOnlyTheOrgGetsItsSecrets: a request for another host fetches no token and
// carries neither the token nor the client certificate, before and after the
// org's token is known.
func TestOnlyTheOrgGetsItsSecrets(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	other, recorded := certAskingServer(t, org)

	// The control: a client that offers its certificate is seen doing so.
	require.NoError(t, getOK(org.HTTPClient(nil), other.URL+"/control"))
	require.Equal(t, []seen{{clientCert: true}}, recorded(), "the server records an offered certificate")

	tr := newTransport(t, configFor(org))
	c := tr.Client()
	localhost := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)

	// No token yet: the calls need none, and none is fetched.
	require.NoError(t, getOK(c, other.URL+"/before-token"))
	require.NoError(t, getOK(c, localhost+"/before-token"))
	assert.Zero(t, org.Stats().TokenRequests, "no token request for another host")
	assert.Zero(t, org.Stats().TLSHandshakes, "the org was not contacted")
	assert.Zero(t, tr.Stats().TokenFetches)

	// With the token known, the same holds.
	require.NoError(t, getOK(c, org.InstanceURL+"/services/data/v65.0/limits"))
	require.NoError(t, getOK(c, other.URL+"/after-token"))
	require.NoError(t, getOK(c, localhost+"/after-token"))
	assert.Equal(t, int64(1), org.Stats().TokenRequests)

	got := recorded()[1:]
	require.Len(t, got, 4, "the second server was reached each time")
	for i, s := range got {
		assert.False(t, s.clientCert, "request %d presented the client certificate", i)
		assert.Empty(t, s.authorization, "request %d carried the token", i)
	}
}

// recordingWrapper is a WrapBase that records every request through either
// base, and which base it went through, and dials through its own dialer.
type recordingWrapper struct {
	mu    sync.Mutex
	reqs  []string // "org GET host/path [Sforce-Call-Options]"
	dials atomic.Int64
}

func (w *recordingWrapper) wrap(base http.RoundTripper) http.RoundTripper {
	ht := base.(*http.Transport)
	kind := "plain"
	if ht.TLSClientConfig.GetClientCertificate != nil {
		kind = "org"
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	ht.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		w.dials.Add(1) // a custom dialer slots in here
		return dialer.DialContext(ctx, network, addr)
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		w.mu.Lock()
		w.reqs = append(w.reqs, kind+" "+req.Method+" "+req.URL.Host+req.URL.Path+" ["+req.Header.Get("Sforce-Call-Options")+"]")
		w.mu.Unlock()
		return ht.RoundTrip(req)
	})
}

func (w *recordingWrapper) recorded() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.reqs...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestWrapBaseAndHeader: the wrapper sees the token request, every org request
// and every other request; the fixed headers reach the org's requests only.
func TestWrapBaseAndHeader(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	other, recorded := certAskingServer(t, org)
	var atOrg []string
	var mu sync.Mutex
	org.Setup().Handle("/services/apexrest/echo", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atOrg = append(atOrg, r.Header.Get("Sforce-Call-Options"))
		mu.Unlock()
	}))
	w := &recordingWrapper{}
	cfg := configFor(org)
	cfg.WrapBase = w.wrap
	cfg.Header = http.Header{"sforce-call-options": {"client=acme"}} // any case: names are canonicalized
	tr := newTransport(t, cfg)
	c := tr.Client()

	require.NoError(t, getOK(c, org.InstanceURL+"/services/apexrest/echo"))
	req, err := http.NewRequest(http.MethodGet, org.InstanceURL+"/services/apexrest/echo", nil)
	require.NoError(t, err)
	req.Header.Set("Sforce-Call-Options", "client=override")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not changed")
	require.NoError(t, getOK(c, other.URL+"/elsewhere"))

	orgAddr := "127.0.0.1:" + itoa(org.Port)
	assert.Equal(t, []string{
		"org POST " + orgAddr + "/services/oauth2/token [client=acme]",
		"org GET " + orgAddr + "/services/apexrest/echo [client=acme]",
		"org GET " + orgAddr + "/services/apexrest/echo [client=override]",
		"plain GET " + strings.TrimPrefix(other.URL, "https://") + "/elsewhere []",
	}, w.recorded())
	assert.Equal(t, []string{"client=acme", "client=override"}, atOrg, "the org received the fixed header; the request's own wins")
	got := recorded()
	require.Len(t, got, 1)
	assert.Equal(t, seen{}, got[0], "another host gets no fixed header, no token, no certificate")
	assert.Equal(t, int64(2), w.dials.Load(), "both bases dialed through the wrapper's dialer")

	// Headers the Transport sets itself are refused; so is a wrapper that returns nil.
	for _, name := range []string{"Authorization", "host"} {
		cfg := configFor(org)
		cfg.Header = http.Header{name: {"x"}}
		_, err := transport.New(cfg)
		require.ErrorIs(t, err, client.ErrConfig)
		assert.Contains(t, err.Error(), "Config.Header: sets ")
	}
	cfg = configFor(org)
	cfg.WrapBase = func(http.RoundTripper) http.RoundTripper { return nil }
	_, err = transport.New(cfg)
	require.ErrorIs(t, err, client.ErrConfig)
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// countingSource is a user's TokenSource: here it gets tokens with the JWT
// bearer exchange over its own mutual TLS client, and counts the calls.
type countingSource struct {
	src   auth.TokenSource
	calls atomic.Int64
}

func (s *countingSource) Token(ctx context.Context) (*auth.Token, error) {
	s.calls.Add(1)
	return s.src.Token(ctx)
}

// TestTokenSourceReplacesTheExchange: with Config.TokenSource, the Transport
// needs no JWT identity, consumer key or user; it caches the source's tokens
// and asks again when Salesforce rejects the session.
func TestTokenSourceReplacesTheExchange(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	bearer, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey,
		Username: org.Username, Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(nil)})
	require.NoError(t, err)
	src := &countingSource{src: bearer}
	// No login host: the fake org's instance host (127.0.0.1) is not a
	// Salesforce domain, so it is allowed explicitly.
	tr := newTransport(t, transport.Config{MTLS: org.PKI.ClientIdentity, RootCAs: org.RootCAs(), Port: org.Port, TokenSource: src,
		InstanceHosts: []string{org.Host}})
	assert.Empty(t, tr.TokenURL(), "no login URL given")
	c := tr.Client()

	// No token known and no login host: a host on another port than the mutual
	// TLS one cannot be the instance, so no token is asked for.
	other, recorded := certAskingServer(t, org)
	require.NoError(t, getOK(c, other.URL+"/elsewhere"))
	assert.Zero(t, src.calls.Load())
	assert.Equal(t, []seen{{}}, recorded())

	// The instance's host on the mutual TLS port could be the instance: the token
	// is fetched to learn instance_url, which says it is.
	url := org.InstanceURL + "/services/data/v65.0/limits"
	for range 3 {
		require.NoError(t, getOK(c, url))
	}
	assert.Equal(t, int64(1), src.calls.Load(), "cached")
	org.Faults().ExpireAllSessions()
	require.NoError(t, getOK(c, url))
	assert.Equal(t, int64(2), src.calls.Load(), "asked again after INVALID_SESSION_ID")
	assert.Equal(t, int64(2), tr.Stats().TokenFetches)
	assert.Equal(t, int64(1), tr.Stats().Replays)

	err = tr.SetJWTIdentity(org.PKI.JWTIdentity)
	require.ErrorIs(t, err, client.ErrConfig, "no JWT is signed with a TokenSource")
}

// lyingSigner claims the certificate's public key and signs with another key,
// as a misconfigured HSM slot can.
type lyingSigner struct {
	claimed crypto.PublicKey
	real    crypto.Signer
}

func (s lyingSigner) Public() crypto.PublicKey { return s.claimed }
func (s lyingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return s.real.Sign(r, d, o)
}

// selfSignedRSA makes a self-signed certificate for an RSA key of bits.
func selfSignedRSA(t *testing.T, bits int) *keystore.Identity {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jwt"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	id, err := keystore.NewIdentity(key, []*x509.Certificate{cert})
	require.NoError(t, err)
	return id
}

// TestJWTKeyMustSignRS256: Salesforce's JWT bearer flow takes only RS256
// (OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration: "sign the JWT
// with RSA SHA256"), so New and SetJWTIdentity refuse any key that cannot.
func TestJWTKeyMustSignRS256(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	jwtLeaf := org.PKI.JWTIdentity.Leaf()
	lying, err := keystore.NewIdentity(lyingSigner{claimed: jwtLeaf.PublicKey, real: other}, []*x509.Certificate{jwtLeaf})
	require.NoError(t, err, "keystore sees a matching public key")
	mtlsLeaf := org.PKI.ClientIdentity.Chain()
	otherEC, err := org.PKI.NewClientIdentity("other", time.Time{}, time.Time{})
	require.NoError(t, err)
	lyingMTLS, err := keystore.NewIdentity(lyingSigner{claimed: mtlsLeaf[0].PublicKey, real: otherEC.Signer()}, mtlsLeaf)
	require.NoError(t, err)

	cases := []struct {
		name string
		id   *keystore.Identity
		want []string
	}{
		{"EC key (the mutual TLS identity)", org.PKI.ClientIdentity, []string{"RS256", "ECDSA", "self-signed RSA certificate for the app"}},
		{"RSA key of 1024 bits", selfSignedRSA(t, 1024), []string{"1024 bits", "self-signed RSA certificate for the app"}},
		{"a signer that is not the certificate's key", lying, []string{"does not sign for the certificate"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := configFor(org)
			cfg.JWT = c.id
			_, err := transport.New(cfg)
			require.ErrorIs(t, err, client.ErrConfig)
			for _, w := range c.want {
				assert.Contains(t, withFix(err), w)
			}
			// Rotation refuses it too, and keeps the identity in use.
			tr := newTransport(t, configFor(org))
			require.ErrorIs(t, tr.SetJWTIdentity(c.id), client.ErrConfig)
			_, err = tr.Token(t.Context())
			require.NoError(t, err, "the old identity still signs")
		})
	}
	// The same probe guards the mutual TLS identity.
	cfg := configFor(org)
	cfg.MTLS = lyingMTLS
	_, err = transport.New(cfg)
	require.ErrorIs(t, err, client.ErrConfig)
	assert.Contains(t, err.Error(), "does not sign for the certificate")
	tr := newTransport(t, configFor(org))
	require.ErrorIs(t, tr.SetMTLSIdentity(lyingMTLS), client.ErrConfig)
	require.ErrorIs(t, tr.SetMTLSIdentity(nil), client.ErrConfig)

	// Accepted: an RSA key of 2048 bits and more.
	cfg = configFor(org)
	cfg.JWT = selfSignedRSA(t, 3072)
	_, err = transport.New(cfg)
	require.NoError(t, err)
}

// TestReloaderKeepsTheIdentityWhenRotationIsRefused: a keystore file rewritten
// with an expired certificate is reported, and the identity in use stays.
func TestReloaderKeepsTheIdentityWhenRotationIsRefused(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	files, err := org.PKI.WriteFiles(t.TempDir(), password)
	require.NoError(t, err)
	tr := newTransport(t, configFor(org))
	var reported []error
	r := &transport.Reloader{Path: files.MTLSJKS, Options: keystore.Options{Password: password},
		Apply: tr.SetMTLSIdentity, OnError: func(err error) { reported = append(reported, err) }}
	changed, err := r.Check()
	require.NoError(t, err)
	require.True(t, changed)

	expired, err := org.PKI.NewClientIdentity(org.Username, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	require.NoError(t, err)
	require.NoError(t, keystore.WriteFile(files.MTLSJKS, expired, keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mtls", Password: keystore.Secret(password), Overwrite: true}))
	future := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(files.MTLSJKS, future, future))
	changed, err = r.Check()
	require.ErrorIs(t, err, keystore.ErrExpired)
	assert.False(t, changed)
	require.Len(t, reported, 1)
	require.NoError(t, getOK(tr.Client(), org.InstanceURL+"/services/data/"), "the identity in use stays")
}
