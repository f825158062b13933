package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/testtool"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// writeKey writes a key in the clear (PKCS#8 PEM), as another tool may have left it.
func writeKey(t *testing.T, path string, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return path
}

// caFiles writes the PKI's client certificate, key, intermediate and root.
type caFiles struct{ dir, key, leaf, inter, root string }

func newCAFiles(t *testing.T) (*salesforcetest.PKI, caFiles) {
	t.Helper()
	pki, err := salesforcetest.NewPKI()
	require.NoError(t, err)
	dir := t.TempDir()
	f := caFiles{dir: dir}
	f.key = writeKey(t, filepath.Join(dir, "client.key"), pki.ClientIdentity.Signer())
	f.leaf = writeCerts(t, filepath.Join(dir, "client.crt"), pki.ClientIdentity.Leaf())
	f.inter = writeCerts(t, filepath.Join(dir, "inter.pem"), pki.ClientInterCA)
	f.root = writeCerts(t, filepath.Join(dir, "root.pem"), pki.ClientRootCA)
	return pki, f
}

var storeVars = map[string]string{"SF_KEYSTORE_PASSWORD": setupPW}

// Issue 14.3: the checks before writing. An error writes nothing; a warning
// is printed on standard error and the keystore is written.
func TestKeystoreCreateChecksBeforeWriting(t *testing.T) {
	pki, f := newCAFiles(t)
	other, err := pki.NewClientIdentity("someone else", time.Time{}, time.Time{})
	require.NoError(t, err)
	otherKey := writeKey(t, filepath.Join(f.dir, "other.key"), other.Signer())

	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"key does not match", []string{"--key-file", otherKey, "--cert", f.leaf, "--chain", f.inter, "--ca-file", f.root},
			[]string{"does not match the certificate", "other.key"}},
		{"chain out of order", []string{"--key-file", f.key, "--cert", f.leaf, "--chain", f.root, "--chain", f.inter, "--ca-file", f.root},
			[]string{"out of order"}},
		{"intermediate missing", []string{"--key-file", f.key, "--cert", f.leaf, "--ca-file", f.root},
			[]string{"incomplete", "sfmtls fake org client intermediate CA"}},
		{"root not trusted", []string{"--key-file", f.key, "--cert", f.leaf, "--chain", f.inter},
			[]string{"incomplete", "--ca"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "mtls.jks")
			r := sfmtls(t, storeVars, nil, append([]string{"keystore", "create", "--keystore", out}, c.args...)...)
			assert.Equal(t, exitFailure, r.code, r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "sfmtls: nothing written: "), r.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			for _, w := range c.want {
				assert.Contains(t, r.stderr, w)
			}
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "nothing written")
		})
	}

	t.Run("complete chain, bundle in one file", func(t *testing.T) {
		bundle := writeCerts(t, filepath.Join(t.TempDir(), "bundle.pem"), pki.ClientIdentity.Leaf(), pki.ClientInterCA)
		out := filepath.Join(t.TempDir(), "mtls.p12")
		// The intermediate given twice (bundle and --chain) is kept once.
		r := sfmtls(t, storeVars, nil, "keystore", "create", "--keystore", out, "--key-file", f.key, "--cert", bundle, "--chain", f.inter, "--ca-file", f.root)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr)
		id, err := keystore.LoadFile(out, keystore.Options{Password: setupPW})
		require.NoError(t, err)
		assert.Len(t, id.Chain(), 2)
	})

	t.Run("self-signed for mutual TLS is a warning", func(t *testing.T) {
		dir := t.TempDir()
		key := writeKey(t, filepath.Join(dir, "jwt.key"), pki.JWTIdentity.Signer())
		cert := writeCerts(t, filepath.Join(dir, "jwt.crt"), pki.JWTIdentity.Leaf())
		r := sfmtls(t, storeVars, nil, "keystore", "create", "--keystore", filepath.Join(dir, "a.jks"), "--key-file", key, "--cert", cert)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "warning: "+keystore.WarnSelfSigned+"\n")
		// Meant for the JWT: no such warning.
		r = sfmtls(t, storeVars, nil, "keystore", "create", "--jwt", "--keystore", filepath.Join(dir, "b.jks"), "--key-file", key, "--cert", cert)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr)
	})

	t.Run("dual-use is a warning", func(t *testing.T) {
		dir := t.TempDir()
		caKey, ca := testCA(t)
		leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		leaf := issueTestCert(t, &x509.Certificate{
			Subject: pkix.Name{CommonName: "dual.example.com"}, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}, ca, leafKey, caKey)
		r := sfmtls(t, storeVars, nil, "keystore", "create", "--keystore", filepath.Join(dir, "dual.jks"),
			"--key-file", writeKey(t, filepath.Join(dir, "dual.key"), leafKey), "--cert", writeCerts(t, filepath.Join(dir, "dual.crt"), leaf),
			"--ca-file", writeCerts(t, filepath.Join(dir, "ca.pem"), ca))
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "warning: "+keystore.WarnDualUse+"\n")
	})

	t.Run("an existing keystore is replaced only with --force", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "mtls.jks")
		args := []string{"keystore", "create", "--keystore", out, "--key-file", f.key, "--cert", f.leaf, "--chain", f.inter, "--ca-file", f.root}
		require.Equal(t, 0, sfmtls(t, storeVars, nil, args...).code)
		r := sfmtls(t, storeVars, nil, args...)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "already exists")
		assert.Contains(t, r.stderr, "--force")
		r = sfmtls(t, storeVars, nil, append(args, "--force")...)
		assert.Equal(t, 0, r.code, r.stderr)
	})
}

func testCA(t *testing.T) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return key, issueTestCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, nil, key, key)
}

func issueTestCert(t *testing.T, tmpl, parent *x509.Certificate, key, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

// Issue 14.3: convert between every format we read and the three we write.
func TestKeystoreConvert(t *testing.T) {
	pki, f := newCAFiles(t)
	dir := t.TempDir()
	jks := filepath.Join(dir, "mtls.jks")
	require.Equal(t, 0, sfmtls(t, storeVars, nil, "keystore", "create", "--keystore", jks, "--alias", "MTLS",
		"--key-file", f.key, "--cert", f.leaf, "--chain", f.inter, "--ca-file", f.root).code)

	// JKS → PKCS#12 with another password: the input's comes from SF_IN_KEYSTORE_PASSWORD.
	p12 := filepath.Join(dir, "mtls.p12")
	r := sfmtls(t, map[string]string{"SF_IN_KEYSTORE_PASSWORD": setupPW, "SF_KEYSTORE_PASSWORD": "another-pw"}, nil,
		"keystore", "convert", "--in-keystore", jks, "--keystore", p12, "--ca-file", f.root)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `Wrote `+p12+` (PKCS12, alias "mtls") from `+jks+` (JKS)`)
	id, err := keystore.LoadFile(p12, keystore.Options{Password: "another-pw"})
	require.NoError(t, err)
	assert.True(t, id.Leaf().Equal(pki.ClientIdentity.Leaf()))
	assert.Len(t, id.Chain(), 2)

	// Without an input password the new one is tried, and the error says so.
	r = sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": "another-pw"}, nil, "keystore", "convert", "--in-keystore", jks, "--keystore", filepath.Join(dir, "x.p12"), "--ca-file", f.root)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "wrong password")
	assert.Contains(t, r.stderr, "SF_IN_KEYSTORE_PASSWORD")
	assert.Contains(t, r.stderr, "--in-password-file")

	// PKCS#12 → PEM, encrypted and in the clear.
	pemOut := filepath.Join(dir, "mtls.pem")
	r = sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": "another-pw"}, nil, "keystore", "convert", "--in-keystore", p12, "--keystore", pemOut,
		"--ca-file", f.root, "--pbkdf2-iterations", "1000")
	require.Equal(t, 0, r.code, r.stderr)
	data, err := os.ReadFile(pemOut)
	require.NoError(t, err)
	assert.Contains(t, string(data), "ENCRYPTED PRIVATE KEY")
	_, err = keystore.LoadFile(pemOut, keystore.Options{Password: "another-pw"})
	require.NoError(t, err)
	clear := filepath.Join(dir, "clear.pem")
	r = sfmtls(t, map[string]string{"SF_IN_KEYSTORE_PASSWORD": "another-pw"}, nil, "keystore", "convert", "--in-keystore", p12, "--keystore", clear, "--ca-file", f.root, "--unencrypted-key")
	require.Equal(t, 0, r.code, r.stderr)
	assertMode0600(t, clear, pemOut, p12, jks)
	id, err = keystore.LoadFile(clear, keystore.Options{})
	require.NoError(t, err)
	assert.True(t, id.Leaf().Equal(pki.ClientIdentity.Leaf()))

	// JCEKS (read only) → JKS, choosing an entry.
	r = sfmtls(t, map[string]string{"SF_IN_KEYSTORE_PASSWORD": storePW, "SF_KEYSTORE_PASSWORD": setupPW}, nil, "keystore", "convert",
		"--in-keystore", fixture("client.jceks"), "--in-alias", "ECCLIENT", "--keystore", filepath.Join(dir, "ec.jks"),
		"--ca-file", fixture("root-ca.pem"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ECDSA P-256 key")
}

// Issue 14.5: a keystore that needs a password, and none was given, says which
// variable or flag supplies it.
func TestMissingPasswordNamesItsSource(t *testing.T) {
	r := sfmtls(t, nil, nil, "inspect", "--keystore", fixture("mtls.jks"))
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "SF_KEYSTORE_PASSWORD")
	assert.Contains(t, r.stderr, "--password-file")

	// inspect $SF_MTLS_KEYSTORE reads SF_MTLS_KEYSTORE_PASSWORD, as check does.
	r = sfmtls(t, map[string]string{"SF_MTLS_KEYSTORE": fixture("mtls.jks"), "SF_MTLS_KEYSTORE_PASSWORD": storePW}, nil, "inspect", "--keystore", fixture("mtls.jks"))
	assert.Equal(t, 0, r.code, r.stderr)

	for _, args := range [][]string{
		{"csr", "--cn", "x", "--keystore", filepath.Join(t.TempDir(), "a.jks")},
		{"csr", "--cn", "x", "--key-file", filepath.Join(t.TempDir(), "a.key")},
		{"jwt-cert", "--cn", "x", "--keystore", filepath.Join(t.TempDir(), "a.p12")},
	} {
		r := sfmtls(t, nil, nil, args...)
		assert.Equal(t, exitFailure, r.code, "%v", args)
		assert.Contains(t, r.stderr, "SF_KEYSTORE_PASSWORD or give --password-file FILE", "%v", args)
	}

	// check: the fix line names the connection's own variable and flag.
	_, vars := orgEnv(t)
	delete(vars, "SF_MTLS_KEYSTORE_PASSWORD")
	r = sfmtls(t, vars, nil, "check")
	assert.Equal(t, exitFailure, r.code)
	assert.Regexp(t, `(?m)^      fix: the keystore needs a password: set SF_MTLS_KEYSTORE_PASSWORD, or --mtls-keystore-password-file/SF_MTLS_KEYSTORE_PASSWORD_FILE to a file holding it$`, r.stdout)
}

// A new password is asked twice on a terminal and must meet keytool's minimum.
func TestNewPasswords(t *testing.T) {
	dir := t.TempDir()
	answer := "typed-pw"
	r := sfmtls(t, nil, &answer, "jwt-cert", "--cn", "x", "--keystore", filepath.Join(dir, "m.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"New password for " + filepath.Join(dir, "m.jks") + ": ", "Again: "}, r.prompted)
	_, err := keystore.LoadFile(filepath.Join(dir, "m.jks"), keystore.Options{Password: "typed-pw"})
	require.NoError(t, err)

	// Two different answers.
	var out, errOut strings.Builder
	n := 0
	e := &env{ctx: t.Context(), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" },
		prompt: func(string) (string, bool, error) { n++; return fmt.Sprint("typed-pw-", n), true, nil }}
	assert.Equal(t, exitFailure, run([]string{"jwt-cert", "--cn", "x", "--keystore", filepath.Join(dir, "n.jks")}, e))
	assert.Contains(t, errOut.String(), "the two passwords differ")

	r = sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": "short"}, nil, "jwt-cert", "--cn", "x", "--keystore", filepath.Join(dir, "s.jks"))
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "shorter than 6 characters")
	assert.NotContains(t, r.stderr, "short ")
}

// A JKS may keep its key under a password of its own; PKCS#12 may not.
func TestSeparateKeyPassword(t *testing.T) {
	dir := t.TempDir()
	kp := filepath.Join(dir, "kp")
	require.NoError(t, os.WriteFile(kp, []byte("key-only-pw\n"), 0o600))
	store := filepath.Join(dir, "mulesoft.jks")
	r := sfmtls(t, storeVars, nil, "jwt-cert", "--cn", "x", "--keystore", store, "--key-password-file", kp, "--alias", "MuleSoft")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `alias "mulesoft"`, "JKS aliases are lower case, as keytool writes them")
	r = sfmtls(t, storeVars, nil, "inspect", "--keystore", store)
	assert.Equal(t, exitFailure, r.code, "the store password does not open the key")
	r = sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": setupPW, "SF_KEY_PASSWORD": "key-only-pw"}, nil, "inspect", "--keystore", store)
	assert.Equal(t, 0, r.code, r.stderr)

	r = sfmtls(t, storeVars, nil, "jwt-cert", "--cn", "x", "--keystore", filepath.Join(dir, "m.p12"), "--key-password-file", kp)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "JKS only")
}

// Issue 14.4 at the command line: what the commands write opens in keytool
// and OpenSSL. CI installs both (openjdk-17-jre-headless, openssl); a missing
// tool fails the test.
func TestWrittenStoresOpenInKeytoolAndOpenSSL(t *testing.T) {
	testtool.Need(t, "keytool")
	testtool.Need(t, "openssl")
	pki, f := newCAFiles(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte(setupPW), 0o600))
	tool := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		require.NoError(t, err, "%s %v:\n%s", name, args, out)
		return string(out)
	}

	jks := filepath.Join(dir, "mtls.jks")
	require.Equal(t, 0, sfmtls(t, storeVars, nil, "keystore", "create", "--keystore", jks, "--alias", "mtls",
		"--key-file", f.key, "--cert", f.leaf, "--chain", f.inter, "--ca-file", f.root).code)
	out := tool("keytool", "-list", "-v", "-keystore", jks, "-storetype", "JKS", "-storepass:file", pwFile)
	assert.Contains(t, out, "Alias name: mtls")
	assert.Contains(t, out, "Entry type: PrivateKeyEntry")
	assert.Contains(t, out, "Certificate chain length: 2")
	assert.Contains(t, out, "CN=integration.user@example.com")

	jwt := filepath.Join(dir, "mulesoft.p12")
	r := sfmtls(t, storeVars, nil, "jwt-cert", "--cn", "orders-jwt", "--keystore", jwt, "--alias", "mulesoft")
	require.Equal(t, 0, r.code, r.stderr)
	out = tool("keytool", "-list", "-v", "-keystore", jwt, "-storetype", "PKCS12", "-storepass:file", pwFile)
	assert.Contains(t, out, "Alias name: mulesoft")
	assert.Contains(t, out, "Owner: CN=orders-jwt")
	out = tool("openssl", "pkcs12", "-in", jwt, "-passin", "file:"+pwFile, "-info", "-nodes")
	assert.Contains(t, out, "friendlyName: mulesoft")
	assert.Contains(t, out, "MAC: sha256")
	assert.Regexp(t, `subject=\s*CN\s*=\s*orders-jwt`, out)

	p12 := filepath.Join(dir, "mtls.p12")
	require.Equal(t, 0, sfmtls(t, storeVars, nil, "keystore", "convert", "--in-keystore", jks, "--keystore", p12, "--ca-file", f.root).code)
	out = tool("openssl", "pkcs12", "-in", p12, "-passin", "file:"+pwFile, "-info", "-nodes")
	assert.Contains(t, out, "friendlyName: mtls")
	assert.Contains(t, out, "BEGIN PRIVATE KEY")
	assert.Regexp(t, `subject=\s*O\s*=\s*sfmtls fake org,\s*CN\s*=\s*sfmtls fake org client intermediate CA`, out)

	// csr --key: OpenSSL decrypts the key and verifies the request made with it.
	key := filepath.Join(dir, "client.key")
	r = sfmtls(t, storeVars, nil, "csr", "--cn", "ossl.example.com", "--key-type", "rsa3072", "--key-file", key)
	require.Equal(t, 0, r.code, r.stderr)
	out = tool("openssl", "pkey", "-in", key, "-passin", "file:"+pwFile, "-noout", "-text")
	assert.Contains(t, out, "3072 bit")
	out = tool("openssl", "req", "-in", filepath.Join(dir, "client.csr"), "-verify", "-noout", "-text")
	assert.Contains(t, out, "TLS Web Client Authentication")
	assert.NotContains(t, out, "TLS Web Server Authentication")
	_ = pki
}

// Issue 20.4, one spelling per concept: a CA roots file is --ca-file, a key
// file --key-file, the keystore a command is about --keystore (convert reads
// --in-keystore). The spellings of earlier releases still work for now: each
// draws one warning naming the new spelling and does what it did.
func TestDeprecatedSpellingsStillWork(t *testing.T) {
	_, f := newCAFiles(t)
	dir := t.TempDir()
	deprecated := func(t *testing.T, stderr, old, now string) {
		t.Helper()
		assert.Contains(t, stderr, "warning: "+old+" is deprecated and goes in a coming release: use "+now+"\n")
	}

	jks := filepath.Join(dir, "old.jks")
	r := sfmtls(t, storeVars, nil, "keystore", "create", "--keystore", jks, "--key", f.key, "--cert", f.leaf, "--chain", f.inter, "--ca", f.root)
	require.Equal(t, 0, r.code, r.stderr)
	deprecated(t, r.stderr, "--key", "--key-file")
	deprecated(t, r.stderr, "--ca", "--ca-file")
	assert.Equal(t, 2, strings.Count(r.stderr, "\n"), r.stderr)

	p12 := filepath.Join(dir, "old.p12")
	r = sfmtls(t, storeVars, nil, "keystore", "convert", "--in", jks, "--out", p12, "--ca", f.root)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Wrote "+p12+" (PKCS12")
	deprecated(t, r.stderr, "--in", "--in-keystore")
	deprecated(t, r.stderr, "--out", "--keystore")
	deprecated(t, r.stderr, "--ca", "--ca-file")

	key := filepath.Join(dir, "old.key")
	r = sfmtls(t, storeVars, nil, "csr", "--cn", "old.example.com", "--key-type", "p256", "--key", key)
	require.Equal(t, 0, r.code, r.stderr)
	assert.FileExists(t, key)
	deprecated(t, r.stderr, "--key", "--key-file")

	for _, cmd := range []string{"inspect", "export-cert"} {
		r = sfmtls(t, storeVars, nil, cmd, p12)
		require.Equal(t, 0, r.code, r.stderr)
		assert.NotEmpty(t, r.stdout)
		assert.Equal(t, "warning: the keystore as an argument is deprecated and goes in a coming release: use --keystore "+p12+"\n", r.stderr, cmd)
		r = sfmtls(t, storeVars, nil, cmd, "--keystore", p12)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr, cmd)
	}

	// The new spellings draw no warning.
	r = sfmtls(t, storeVars, nil, "keystore", "convert", "--in-keystore", jks, "--keystore", filepath.Join(dir, "new.p12"), "--ca-file", f.root)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
}
