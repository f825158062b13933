package main

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/certgen"
	"github.com/sfmtls/sfmtls/internal/certfile"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const setupPW = "setup-store-pw"

// writeCerts writes certificates as PEM, as a CA hands them out.
func writeCerts(t *testing.T, path string, certs ...*x509.Certificate) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, certgen.CertificatePEM(certs...), 0o644))
	return path
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	certs, err := certfile.Read(path)
	require.NoError(t, err)
	require.Len(t, certs, 1)
	return certs[0]
}

func assertMode0600(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
}

// The setup guide without keytool or OpenSSL, end to end, as issue 14's
// "Done when" lists it: make a key and CSR, sign it with a test CA, build a
// keystore, load it, make the JWT certificate and keystore, register both with
// the org, and connect with them (check, query).
func TestSetupWithoutKeytoolEndToEnd(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	vars := map[string]string{"SF_KEYSTORE_PASSWORD": setupPW}

	// 1. Key and CSR; the key waits in mtls.jks under a placeholder.
	r := sfmtls(t, vars, nil, "csr", "--cn", "orders.example.com", "--org", "Example Corp", "--country", "US",
		"--key-type", "p256", "--keystore", path("mtls.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Wrote the certificate signing request to "+path("mtls.csr"))
	assert.Contains(t, r.stdout, "clientAuth only")
	assert.Contains(t, r.stdout, "Send "+path("mtls.csr")+" to your certificate authority")
	assert.Contains(t, r.stdout, "Upload Mutual Authentication Certificate")
	assert.NotContains(t, r.stdout+r.stderr, setupPW)
	assertMode0600(t, path("mtls.jks"), path("mtls.csr"))

	csrPEM, err := os.ReadFile(path("mtls.csr"))
	require.NoError(t, err)
	block, _ := pem.Decode(csrPEM)
	require.NotNil(t, block)
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, "CN=orders.example.com,O=Example Corp,C=US", csr.Subject.String())

	// 2. The CA answers; the certificate and its chain join the key.
	leaf, err := org.PKI.SignCSR(csrPEM)
	require.NoError(t, err)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage, "the CSR asked for clientAuth only")
	writeCerts(t, path("client.crt"), leaf)
	writeCerts(t, path("chain.pem"), org.PKI.ClientInterCA)
	writeCerts(t, path("root.pem"), org.PKI.ClientRootCA)
	r = sfmtls(t, vars, nil, "keystore", "create", "--keystore", path("mtls.jks"), "--cert", path("client.crt"),
		"--chain", path("chain.pem"), "--ca-file", path("root.pem"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr, "a CA-signed clientAuth-only certificate gets no warning")
	assert.Contains(t, r.stdout, `Wrote `+path("mtls.jks")+` (JKS, alias "mykey")`)
	assert.Contains(t, r.stdout, "chain of 2")

	// Our loader reads it: the CA's certificate, the chain, the key csr made.
	id, err := keystore.LoadFile(path("mtls.jks"), keystore.Options{Password: setupPW})
	require.NoError(t, err)
	assert.True(t, id.Leaf().Equal(leaf))
	require.Len(t, id.Chain(), 2)
	assert.True(t, id.Chain()[1].Equal(org.PKI.ClientInterCA))
	assert.True(t, csr.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(id.Signer().Public()), "the key is the one the CSR was made for")

	// 3. The JWT signing identity in one step.
	r = sfmtls(t, vars, nil, "jwt-cert", "--cn", "orders-jwt", "--keystore", path("mulesoft.p12"), "--cert", path("jwt.crt"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Upload "+path("jwt.crt"))
	assertMode0600(t, path("mulesoft.p12"))
	jwtCert := readCert(t, path("jwt.crt"))

	// 4. Connect: before the certificates are registered the org refuses the
	// login, so the check below proves these files are what it accepts.
	files, err := org.PKI.WriteFiles(t.TempDir(), orgPassword)
	require.NoError(t, err)
	conn := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": path("mtls.jks"), "SF_MTLS_KEYSTORE_PASSWORD": setupPW,
		"SF_JWT_KEYSTORE": path("mulesoft.p12"), "SF_JWT_KEYSTORE_PASSWORD": setupPW,
		"SF_CA_FILE": files.ServerCA, "SF_MTLS_PORT": fmt.Sprint(org.Port),
	}
	r = sfmtls(t, conn, nil, "check")
	require.Equal(t, 1, r.code, r.stdout)
	assert.Contains(t, r.stdout, "[4/5] JWT bearer token")

	org.Setup().RegisterMutualAuthCertificate(leaf)
	org.Setup().SetAppCertificate(jwtCert)
	r = sfmtls(t, conn, nil, "check")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "CN=orders.example.com")
	assert.True(t, strings.HasSuffix(r.stdout, "Connection OK.\n"), r.stdout)
	r = sfmtls(t, conn, nil, "query", "SELECT Name FROM Account")
	require.Equal(t, 0, r.code, r.stderr)
	assert.JSONEq(t, `{"attributes":{"type":"Account"},"Name":"Acme"}`, stripURL(t, r.stdout))
}

// stripURL drops the record's attributes.url, which holds a generated id.
func stripURL(t *testing.T, line string) string {
	t.Helper()
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
	delete(rec["attributes"].(map[string]any), "url")
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	return string(b)
}

// The other path of the guide: the key in an encrypted PEM file, then a
// PKCS#12 keystore built from it, accepted by the org.
func TestSetupWithAPEMKeyAndPKCS12(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	pwFile := path("pw")
	require.NoError(t, os.WriteFile(pwFile, []byte(setupPW+"\n"), 0o600))

	r := sfmtls(t, nil, nil, "csr", "--cn", "pem.example.com", "--key-file", path("client.key"), "--password-file", pwFile)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "sfmtls keystore create --key-file "+path("client.key"))
	assertMode0600(t, path("client.key"), path("client.csr"))
	keyPEM, err := os.ReadFile(path("client.key"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(keyPEM), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), "PKCS#8 encrypted")

	csrPEM, err := os.ReadFile(path("client.csr"))
	require.NoError(t, err)
	leaf, err := org.PKI.SignCSR(csrPEM)
	require.NoError(t, err)
	// The CA's bundle: leaf and intermediate in one file.
	writeCerts(t, path("client.crt"), leaf, org.PKI.ClientInterCA)
	writeCerts(t, path("root.pem"), org.PKI.ClientRootCA)

	// The PEM key's password comes from the same file as the new store's.
	r = sfmtls(t, nil, nil, "keystore", "create", "--key-file", path("client.key"), "--cert", path("client.crt"),
		"--ca-file", path("root.pem"), "--keystore", path("mtls.p12"), "--alias", "Orders mTLS", "--password-file", pwFile)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `(PKCS12, alias "Orders mTLS")`)

	id, err := keystore.LoadFile(path("mtls.p12"), keystore.Options{Password: setupPW})
	require.NoError(t, err)
	assert.Equal(t, "Orders mTLS", id.Alias())
	org.Setup().RegisterMutualAuthCertificate(leaf)
	files, err := org.PKI.WriteFiles(t.TempDir(), orgPassword)
	require.NoError(t, err)
	r = sfmtls(t, map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": path("mtls.p12"), "SF_MTLS_KEYSTORE_PASSWORD": setupPW,
		"SF_JWT_KEYSTORE": files.JWTJKS, "SF_JWT_KEYSTORE_PASSWORD": orgPassword,
		"SF_CA_FILE": files.ServerCA, "SF_MTLS_PORT": fmt.Sprint(org.Port),
	}, nil, "check")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
}
