package certgen_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/certgen"
	"github.com/sfmtls/sfmtls/keystore"
)

// mtlsServer is a loopback HTTPS server that requires a client certificate
// chaining to ca's root, as Salesforce's port 8443 does, and answers with the
// client certificate's common name.
func mtlsServer(t *testing.T, ca *testCA) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	key, err := certgen.GenerateKey(certgen.P256)
	require.NoError(t, err)
	cert := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, key.Public(), ca.inter, ca.interKey)
	roots := x509.NewCertPool()
	roots.AddCert(ca.root)
	srv := httptest.NewUnstartedServer(&countingHandler{})
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw, ca.inter.Raw}, PrivateKey: key}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
		MinVersion:   tls.VersionTLS12,
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, roots
}

// countingHandler answers with the client certificate's common name and counts
// the requests that got through the handshake.
type countingHandler struct{ calls atomic.Int64 }

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls.Add(1)
	fmt.Fprint(w, r.TLS.PeerCertificates[0].Subject.CommonName)
}

// get calls the server with id as the client certificate. The certificate is
// sent even when it does not chain to the CAs the server names, so that the
// server's verification, not the client's choice, decides.
func get(t *testing.T, srv *httptest.Server, roots *x509.CertPool, id *keystore.Identity) (string, error) {
	t.Helper()
	sent := false
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			sent = true
			c := id.TLSCertificate()
			return &c, nil
		},
	}}}
	defer func() { require.True(t, sent, "the server did not ask for a client certificate") }()
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return string(body), err
}

// TestCSRToKeystoreToHandshake is issue 14's end-to-end path at library level:
// new key and CSR → the CA signs it → checked → written as a keystore → loaded
// back → a mutual TLS handshake with a server that verifies client certificates.
func TestCSRToKeystoreToHandshake(t *testing.T) {
	ca := newCA(t)
	srv, roots := mtlsServer(t, ca)
	writes := []keystore.WriteOptions{
		{Format: keystore.FormatJKS, Alias: "mtls", Password: "store-secret", KeyPassword: "key-secret"},
		{Format: keystore.FormatPKCS12, Alias: "mtls", Password: "store-secret"},
		{Format: keystore.FormatPEM, Password: "store-secret", KeyIterations: 1000}, // the lowest count accepted: quick under -race
	}
	for _, kt := range []certgen.KeyType{certgen.RSA2048, certgen.P256} {
		for _, w := range writes {
			t.Run(fmt.Sprintf("%s/%s", kt, w.Format), func(t *testing.T) {
				key, err := certgen.GenerateKey(kt)
				require.NoError(t, err)
				subj := pkix.Name{CommonName: "orders-" + string(kt), Organization: []string{"Example Corp"}, Country: []string{"US"}}
				csrPEM, err := certgen.NewCSR(key, subj, certgen.CSROptions{})
				require.NoError(t, err)
				leaf := ca.signCSR(t, parseCSR(t, csrPEM), nil)

				chain := []*x509.Certificate{leaf, ca.inter}
				warnings, err := certgen.CheckIdentity(key, chain, certgen.CheckOptions{Roots: []*x509.Certificate{ca.root}})
				require.NoError(t, err)
				require.Empty(t, warnings)
				id, err := keystore.NewIdentity(key, chain)
				require.NoError(t, err)

				path := filepath.Join(t.TempDir(), "mtls."+w.Format.String())
				require.NoError(t, keystore.WriteFile(path, id, w))
				loaded, err := keystore.LoadFile(path, keystore.Options{Password: w.Password, KeyPassword: w.KeyPassword, Alias: w.Alias})
				require.NoError(t, err)
				require.Len(t, loaded.Chain(), 2, "the intermediate travels with the leaf")

				cn, err := get(t, srv, roots, loaded)
				require.NoError(t, err)
				assert.Equal(t, subj.CommonName, cn)
			})
		}
	}
}

func TestServerRefusesWhatCheckIdentityWarnsAbout(t *testing.T) {
	// The server really verifies: a self-signed client certificate, which
	// CheckIdentity warns about, fails the handshake; so does a leaf sent without
	// its intermediate, which CheckIdentity refuses.
	ca := newCA(t)
	srv, roots := mtlsServer(t, ca)

	key, err := certgen.GenerateKey(certgen.RSA2048)
	require.NoError(t, err)
	self, err := certgen.NewJWTCertificate(key, pkix.Name{CommonName: "self"}, 0)
	require.NoError(t, err)
	warnings, err := certgen.CheckIdentity(key, []*x509.Certificate{self}, certgen.CheckOptions{})
	require.NoError(t, err)
	require.Contains(t, warnings, keystore.WarnSelfSigned)
	id, err := keystore.NewIdentity(key, []*x509.Certificate{self})
	require.NoError(t, err)
	_, err = get(t, srv, roots, id)
	require.Error(t, err, "the server should refuse a self-signed client certificate")

	csrPEM, err := certgen.NewCSR(key, pkix.Name{CommonName: "no-intermediate"}, certgen.CSROptions{})
	require.NoError(t, err)
	leaf := ca.signCSR(t, parseCSR(t, csrPEM), nil)
	_, err = certgen.CheckIdentity(key, []*x509.Certificate{leaf}, certgen.CheckOptions{Roots: []*x509.Certificate{ca.root}})
	require.ErrorIs(t, err, certgen.ErrIncompleteChain)
	id, err = keystore.NewIdentity(key, []*x509.Certificate{leaf})
	require.NoError(t, err)
	_, err = get(t, srv, roots, id)
	require.Error(t, err, "the server should refuse a leaf without its intermediate")
	assert.Zero(t, srv.Config.Handler.(*countingHandler).calls.Load(), "no request may get past a refused handshake")
}

// TestJWTCertificateToKeystoreSigns is jwt-cert's path: key and self-signed
// certificate → mulesoft.jks → loaded back → an RS256 assertion that verifies
// with the uploaded certificate.
func TestJWTCertificateToKeystoreSigns(t *testing.T) {
	key, err := certgen.GenerateKey(certgen.RSA2048)
	require.NoError(t, err)
	cert, err := certgen.NewJWTCertificate(key, pkix.Name{CommonName: "mulesoft-jwt"}, 0)
	require.NoError(t, err)
	warnings, err := certgen.CheckIdentity(key, []*x509.Certificate{cert}, certgen.CheckOptions{Purpose: certgen.PurposeJWT})
	require.NoError(t, err)
	require.Empty(t, warnings)
	id, err := keystore.NewIdentity(key, []*x509.Certificate{cert})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "mulesoft.jks")
	require.NoError(t, keystore.WriteFile(path, id, keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mulesoft", Password: "store-secret"}))

	loaded, err := keystore.LoadFile(path, keystore.Options{Password: "store-secret", Alias: "mulesoft"})
	require.NoError(t, err)
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "client-id", "sub": "user@example.com"}).SignedString(loaded.Signer())
	require.NoError(t, err)
	uploaded := certgen.CertificatePEM(cert)
	_, err = jwt.Parse(signed, func(*jwt.Token) (any, error) { return parseCert(t, uploaded).PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"}))
	require.NoError(t, err)
}

// parseCert reads the one certificate of the PEM to upload.
func parseCert(t *testing.T, pemData []byte) *x509.Certificate {
	t.Helper()
	b, rest := pem.Decode(pemData)
	require.NotNil(t, b)
	require.Empty(t, rest)
	require.Equal(t, "CERTIFICATE", b.Type)
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	return c
}

// TestPlaceholderKeystoreThenCAReply is csr --keystore's path, keytool's
// -genkeypair/-certreq/-importcert: the new key waits in a JKS under a
// placeholder certificate; the CA's answer then replaces the placeholder, and
// the result handshakes.
func TestPlaceholderKeystoreThenCAReply(t *testing.T) {
	ca := newCA(t)
	srv, roots := mtlsServer(t, ca)
	key, err := certgen.GenerateKey(certgen.P384)
	require.NoError(t, err)
	subj := pkix.Name{CommonName: "waiting-for-the-ca"}
	placeholder, err := certgen.NewPlaceholderCertificate(key, subj, 0)
	require.NoError(t, err)
	warnings, err := certgen.CheckIdentity(key, []*x509.Certificate{placeholder}, certgen.CheckOptions{})
	require.NoError(t, err)
	assert.Contains(t, warnings, keystore.WarnSelfSigned)
	id, err := keystore.NewIdentity(key, []*x509.Certificate{placeholder})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "mtls.jks")
	opts := keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mtls", Password: "store-secret"}
	require.NoError(t, keystore.WriteFile(path, id, opts))
	csrPEM, err := certgen.NewCSR(key, subj, certgen.CSROptions{})
	require.NoError(t, err)

	// The CA answers; the key is read back from the keystore and paired with it.
	leaf := ca.signCSR(t, parseCSR(t, csrPEM), nil)
	waiting, err := keystore.LoadFile(path, keystore.Options{Password: opts.Password, Alias: "mtls"})
	require.NoError(t, err)
	chain := []*x509.Certificate{leaf, ca.inter}
	warnings, err = certgen.CheckIdentity(waiting.Signer(), chain, certgen.CheckOptions{Roots: []*x509.Certificate{ca.root}})
	require.NoError(t, err)
	require.Empty(t, warnings)
	signed, err := keystore.NewIdentity(waiting.Signer(), chain)
	require.NoError(t, err)
	require.ErrorIs(t, keystore.WriteFile(path, signed, opts), keystore.ErrFileExists)
	opts.Overwrite = true
	require.NoError(t, keystore.WriteFile(path, signed, opts))

	loaded, err := keystore.LoadFile(path, keystore.Options{Password: opts.Password, Alias: "mtls"})
	require.NoError(t, err)
	cn, err := get(t, srv, roots, loaded)
	require.NoError(t, err)
	assert.Equal(t, subj.CommonName, cn)
}
