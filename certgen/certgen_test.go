package certgen_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/certgen"
	"github.com/sfmtls/sfmtls/internal/testtool"
)

var subject = pkix.Name{
	CommonName:         "mulesoft-orders.example.com",
	Organization:       []string{"Example Corp"},
	OrganizationalUnit: []string{"Integration"},
	Locality:           []string{"San Francisco"},
	Province:           []string{"California"},
	Country:            []string{"US"},
}

// tool runs an interoperability tool; CI installs openssl, so a missing one fails.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	testtool.Need(t, name)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // never hang CI on a stuck tool
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

func TestGenerateKey(t *testing.T) {
	cases := map[certgen.KeyType]func(t *testing.T, k crypto.Signer){
		certgen.RSA2048: func(t *testing.T, k crypto.Signer) { assert.Equal(t, 2048, k.(*rsa.PrivateKey).N.BitLen()) },
		certgen.RSA3072: func(t *testing.T, k crypto.Signer) { assert.Equal(t, 3072, k.(*rsa.PrivateKey).N.BitLen()) },
		certgen.RSA4096: func(t *testing.T, k crypto.Signer) { assert.Equal(t, 4096, k.(*rsa.PrivateKey).N.BitLen()) },
		certgen.P256:    func(t *testing.T, k crypto.Signer) { assert.Equal(t, elliptic.P256(), k.(*ecdsa.PrivateKey).Curve) },
		certgen.P384:    func(t *testing.T, k crypto.Signer) { assert.Equal(t, elliptic.P384(), k.(*ecdsa.PrivateKey).Curve) },
	}
	require.Len(t, certgen.KeyTypes(), len(cases))
	for _, kt := range certgen.KeyTypes() {
		t.Run(string(kt), func(t *testing.T) {
			parsed, err := certgen.ParseKeyType(strings.ToUpper(string(kt)))
			require.NoError(t, err)
			require.Equal(t, kt, parsed)
			k, err := certgen.GenerateKey(kt)
			require.NoError(t, err)
			cases[kt](t, k)
		})
	}
	_, err := certgen.GenerateKey("ed25519")
	require.ErrorIs(t, err, certgen.ErrUnsupportedKey)
	_, err = certgen.ParseKeyType("rsa1024")
	require.ErrorIs(t, err, certgen.ErrUnsupportedKey)
	var cerr *certgen.Error
	require.ErrorAs(t, err, &cerr)
	assert.Contains(t, cerr.Fix(), "rsa2048, rsa3072, rsa4096, p256, p384")
}

func parseCSR(t *testing.T, data []byte) *x509.CertificateRequest {
	t.Helper()
	b, rest := pem.Decode(data)
	require.NotNil(t, b)
	require.Empty(t, rest)
	require.Equal(t, "CERTIFICATE REQUEST", b.Type)
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	require.NoError(t, err)
	require.NoError(t, csr.CheckSignature())
	return csr
}

func TestNewCSRAsksForClientAuthOnly(t *testing.T) {
	for _, kt := range []certgen.KeyType{certgen.RSA2048, certgen.P256, certgen.P384} {
		t.Run(string(kt), func(t *testing.T) {
			key, err := certgen.GenerateKey(kt)
			require.NoError(t, err)
			data, err := certgen.NewCSR(key, subject, certgen.CSROptions{DNSNames: []string{"orders.example.com"}})
			require.NoError(t, err)
			csr := parseCSR(t, data)
			assert.Equal(t, subject.String(), csr.Subject.String())
			assert.Equal(t, []string{"orders.example.com"}, csr.DNSNames)
			assert.True(t, key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(csr.PublicKey))

			// Sign it the way a CA does, honouring the requested extensions, and
			// read the usages back from the certificate.
			ca := newCA(t)
			cert := ca.signCSR(t, csr, nil)
			assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, cert.ExtKeyUsage)
			wantKU := x509.KeyUsageDigitalSignature
			if strings.HasPrefix(string(kt), "rsa") {
				wantKU |= x509.KeyUsageKeyEncipherment
			}
			assert.Equal(t, wantKU, cert.KeyUsage)

			// OpenSSL verifies the request's signature and reads the same request.
			path := filepath.Join(t.TempDir(), "client.csr")
			require.NoError(t, os.WriteFile(path, data, 0o600))
			out := tool(t, "openssl", "req", "-in", path, "-noout", "-verify", "-text")
			assert.Contains(t, out, "TLS Web Client Authentication")
			assert.NotContains(t, out, "TLS Web Server Authentication")
			assert.Contains(t, out, "X509v3 Key Usage: critical")
			assert.Contains(t, out, "CN = mulesoft-orders.example.com")
		})
	}
}

func TestNewCSRRefusesBadInput(t *testing.T) {
	key, err := certgen.GenerateKey(certgen.P256)
	require.NoError(t, err)
	_, err = certgen.NewCSR(key, pkix.Name{Organization: []string{"x"}}, certgen.CSROptions{})
	assert.ErrorIs(t, err, certgen.ErrBadSubject)
	assert.Contains(t, err.Error(), "common name")
	_, err = certgen.NewCSR(key, pkix.Name{CommonName: "x", Country: []string{"USA"}}, certgen.CSROptions{})
	assert.ErrorIs(t, err, certgen.ErrBadSubject)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	_, err = certgen.NewCSR(weak, subject, certgen.CSROptions{})
	assert.ErrorIs(t, err, certgen.ErrUnsupportedKey)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	_, err = certgen.NewCSR(p224, subject, certgen.CSROptions{})
	assert.ErrorIs(t, err, certgen.ErrUnsupportedKey)
	_, err = certgen.NewCSR(nil, subject, certgen.CSROptions{})
	assert.ErrorIs(t, err, certgen.ErrUnsupportedKey)
}

func TestNewJWTCertificateSignsRS256(t *testing.T) {
	key, err := certgen.GenerateKey(certgen.RSA2048)
	require.NoError(t, err)
	cert, err := certgen.NewJWTCertificate(key, subject, 0)
	require.NoError(t, err)
	assert.Equal(t, subject.String(), cert.Subject.String())
	assert.Equal(t, cert.RawSubject, cert.RawIssuer)
	require.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature))
	assert.Equal(t, x509.SHA256WithRSA, cert.SignatureAlgorithm)
	assert.False(t, cert.IsCA)
	assert.Equal(t, x509.KeyUsageDigitalSignature, cert.KeyUsage)
	assert.WithinDuration(t, time.Now().Add(2*365*24*time.Hour), cert.NotAfter, time.Minute)
	assert.True(t, cert.NotBefore.Before(time.Now()))
	assert.Positive(t, cert.SerialNumber.Sign())

	// An assertion signed with the key verifies with the certificate's key, as
	// Salesforce checks it against the uploaded certificate.
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "user@example.com"}).SignedString(key)
	require.NoError(t, err)
	_, err = jwt.Parse(signed, func(*jwt.Token) (any, error) { return cert.PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"}))
	require.NoError(t, err)

	week, err := certgen.NewJWTCertificate(key, subject, 7*24*time.Hour)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(7*24*time.Hour), week.NotAfter, time.Minute)

	// The PEM to upload is what OpenSSL reads as a self-signed certificate.
	path := filepath.Join(t.TempDir(), "jwt.crt")
	require.NoError(t, os.WriteFile(path, certgen.CertificatePEM(cert), 0o600))
	out := tool(t, "openssl", "verify", "-CAfile", path, "-partial_chain", path)
	assert.Contains(t, out, ": OK")
}

func TestNewJWTCertificateRefusesNonRSA(t *testing.T) {
	ec, err := certgen.GenerateKey(certgen.P256)
	require.NoError(t, err)
	_, err = certgen.NewJWTCertificate(ec, subject, 0)
	require.ErrorIs(t, err, certgen.ErrUnsupportedKey)
	assert.Contains(t, err.Error(), "RS256")
	rsaKey, err := certgen.GenerateKey(certgen.RSA2048)
	require.NoError(t, err)
	_, err = certgen.NewJWTCertificate(rsaKey, subject, -time.Hour)
	require.ErrorIs(t, err, certgen.ErrBadValidity)
	_, err = certgen.NewJWTCertificate(rsaKey, pkix.Name{}, 0)
	require.ErrorIs(t, err, certgen.ErrBadSubject)
}

// testCA is a root with an intermediate that issues client certificates.
type testCA struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
}

func newCA(t testing.TB) *testCA {
	t.Helper()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := &testCA{rootKey: rootKey, interKey: interKey}
	ca.root = issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Test Root CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign}, rootKey.Public(), nil, rootKey)
	ca.inter = issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Test Issuing CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign}, interKey.Public(), ca.root, rootKey)
	return ca
}

// issue signs tmpl (self-signed when parent is nil), valid for a year from an hour ago
// unless tmpl says otherwise.
func issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl.SerialNumber = serial
	tmpl.BasicConstraintsValid = true
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

// signCSR issues the requested certificate from the intermediate, copying the
// request's extensions as a CA does; adjust may change the template first.
func (ca *testCA) signCSR(t testing.TB, csr *x509.CertificateRequest, adjust func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{Subject: csr.Subject, ExtraExtensions: csr.Extensions}
	if adjust != nil {
		adjust(tmpl)
	}
	return issue(t, tmpl, csr.PublicKey, ca.inter, ca.interKey)
}

func TestKeyUsageEncodingMatchesTheStandardLibrary(t *testing.T) {
	// The CSR's KeyUsage value is encoded by hand (x509 has no CSR field for it);
	// a certificate carrying it must decode to the same bits Go itself writes.
	key, err := certgen.GenerateKey(certgen.RSA2048)
	require.NoError(t, err)
	data, err := certgen.NewCSR(key, subject, certgen.CSROptions{})
	require.NoError(t, err)
	csr := parseCSR(t, data)
	var ku asn1.BitString
	for _, e := range csr.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 15}) {
			_, err := asn1.Unmarshal(e.Value, &ku)
			require.NoError(t, err)
		}
	}
	// digitalSignature (bit 0) and keyEncipherment (bit 2), minimal length.
	assert.Equal(t, 3, ku.BitLength)
	assert.Equal(t, 1, ku.At(0))
	assert.Equal(t, 0, ku.At(1))
	assert.Equal(t, 1, ku.At(2))
}
