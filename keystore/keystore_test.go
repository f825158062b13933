package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	storePW = Secret("changeit")
	keyPW   = Secret("keypass")

	clientCN = "integration.user@example.com"
	ecCN     = "ec.integration.user@example.com"
	interCN  = "sfmtls Test Intermediate CA"
)

func fixture(name string) string { return filepath.Join("testdata", name) }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture(name))
	require.NoError(t, err)
	return data
}

func readCert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(readFixture(t, name))
	require.NotNil(t, b)
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	return c
}

func TestDetectFormatFromBytesNotName(t *testing.T) {
	cases := map[string]Format{
		"client.jks":           FormatJKS,
		"client-keypass.jks":   FormatJKS,
		"client.jceks":         FormatJCEKS,
		"client-pkcs12.jks":    FormatPKCS12, // Java 9+ keytool writes PKCS#12 into .jks
		"client-openssl.p12":   FormatPKCS12,
		"client-legacy.pfx":    FormatPKCS12,
		"client-keytool.p12":   FormatPKCS12,
		"truncated.p12":        FormatPKCS12, // recognised from the header, then reported corrupt
		"truncated.jks":        FormatJKS,
		"client-combined.pem":  FormatPEM,
		"client-key-pbes2.pem": FormatPEM,
		"random.bin":           FormatUnknown,
		"notakeystore.bin":     FormatUnknown,
	}
	for name, want := range cases {
		assert.Equal(t, want, detectFormat(readFixture(t, name)), name)
	}
	assert.Equal(t, FormatUnknown, detectFormat(nil))
	assert.Equal(t, "PKCS12", FormatPKCS12.String())
}

// loadOK loads a fixture and checks the identity every client certificate fixture shares.
func loadOK(t *testing.T, name string, opts Options, wantCN string, wantFormat Format) *Identity {
	t.Helper()
	id, err := LoadFile(fixture(name), opts)
	require.NoError(t, err, name)
	assert.Equal(t, wantCN, id.Leaf().Subject.CommonName, name)
	assert.Equal(t, wantFormat, id.SourceFormat(), name)
	require.Len(t, id.Chain(), 2, "%s: leaf then intermediate, root left out", name)
	assert.Equal(t, interCN, id.Chain()[1].Subject.CommonName, name)
	assert.True(t, publicKeysEqual(id.Leaf().PublicKey, id.Signer().Public()), name)
	tc := id.TLSCertificate()
	assert.Len(t, tc.Certificate, 2, name)
	assert.Same(t, id.Leaf(), tc.Leaf)
	assert.Equal(t, id.Leaf().Raw, tc.Certificate[0], name)
	assert.Equal(t, id.Chain()[1].Raw, tc.Certificate[1], name)
	assert.Same(t, id.Signer(), tc.PrivateKey, name)
	tc.Certificate[0] = nil // each call gets a list of its own
	assert.Equal(t, id.Leaf().Raw, id.TLSCertificate().Certificate[0], name)
	return id
}

// TestZeroIdentityTLSCertificate: an Identity this package did not make
// gives an empty certificate, not a panic.
func TestZeroIdentityTLSCertificate(t *testing.T) {
	assert.Empty(t, (&Identity{}).TLSCertificate().Certificate)
}

func TestLoadJKS(t *testing.T) {
	id := loadOK(t, "mtls.jks", Options{Password: storePW}, clientCN, FormatJKS)
	assert.Equal(t, "mtls", id.Alias())
	assert.IsType(t, &rsa.PrivateKey{}, id.Signer())

	// Key password differs from the store password.
	loadOK(t, "client-keypass.jks", Options{Password: storePW, KeyPassword: keyPW}, clientCN, FormatJKS)
	_, err := LoadFile(fixture("client-keypass.jks"), Options{Password: storePW})
	require.ErrorIs(t, err, ErrWrongPassword)
	var kerr *Error
	require.ErrorAs(t, err, &kerr)
	assert.Contains(t, kerr.Fix(), "key password")
	assert.Contains(t, err.Error(), `alias "client"`)

	// keytool lower-cases aliases; matching ignores case. EC keys load too.
	loadOK(t, "client.jks", Options{Password: storePW, Alias: "Client-Cert"}, clientCN, FormatJKS)
	id = loadOK(t, "client.jks", Options{Password: storePW, Alias: "ecclient"}, ecCN, FormatJKS)
	assert.IsType(t, &ecdsa.PrivateKey{}, id.Signer())
}

func TestLoadPKCS12Variants(t *testing.T) {
	cases := []struct {
		name string
		pw   Secret
		cn   string
	}{
		{"client-openssl.p12", storePW, clientCN}, // OpenSSL 3: PBES2 AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC
		{"client-legacy.pfx", storePW, clientCN},  // OpenSSL -legacy: RC2-40 / 3DES, SHA-1 MAC
		{"client-emptypass.p12", "", clientCN},
		{"ecclient-openssl.p12", storePW, ecCN},
		{"client-keytool.p12", storePW, clientCN}, // Java 17: PBES2 + HmacPBESHA256
		{"client-pkcs12.jks", storePW, clientCN},  // the same, named .jks
		{"client-with-ca.p12", storePW, clientCN}, // Java trusted-cert entry beside the key
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loadOK(t, c.name, Options{Password: c.pw}, c.cn, FormatPKCS12)
		})
	}
}

func TestPKCS12SeveralKeysByAlias(t *testing.T) {
	_, err := LoadFile(fixture("multi-key.p12"), Options{Password: storePW})
	require.ErrorIs(t, err, ErrAmbiguousAlias)
	assert.Contains(t, err.Error(), `"client"`)
	assert.Contains(t, err.Error(), `"ecclient"`)

	id := loadOK(t, "multi-key.p12", Options{Password: storePW, Alias: "ECCLIENT"}, ecCN, FormatPKCS12)
	assert.Equal(t, "ecclient", id.Alias())
	loadOK(t, "multi-key.p12", Options{Password: storePW, Alias: "client"}, clientCN, FormatPKCS12)

	_, err = LoadFile(fixture("multi-key.p12"), Options{Password: storePW, Alias: "nope"})
	require.ErrorIs(t, err, ErrAliasNotFound)
	var kerr *Error
	require.ErrorAs(t, err, &kerr)
	assert.Equal(t, "nope", kerr.Alias)
	assert.Contains(t, kerr.Detail, `"ecclient"`)
}

func TestLoadJCEKS(t *testing.T) {
	t.Parallel() // reads fixtures only; heavy KDFs
	id := loadOK(t, "client-keypass.jceks", Options{Password: storePW, KeyPassword: keyPW}, clientCN, FormatJCEKS)
	assert.Equal(t, "client", id.Alias())
	loadOK(t, "client.jceks", Options{Password: storePW, Alias: "ecclient"}, ecCN, FormatJCEKS)
	loadOK(t, "client.jceks", Options{Password: storePW, Alias: "client-cert"}, clientCN, FormatJCEKS)

	_, err := LoadFile(fixture("client-keypass.jceks"), Options{Password: storePW, KeyPassword: "wrong-key-pw"})
	require.ErrorIs(t, err, ErrWrongPassword)

	// Java, Mule and pyjks read a store with a secret key after the private key;
	// the secret-key entry is skipped with a warning and the key entry loads.
	loadOK(t, "secretkey.jceks", Options{Password: storePW, KeyPassword: keyPW}, clientCN, FormatJCEKS)
	r, err := InspectFile(fixture("secretkey.jceks"), Options{Password: storePW, KeyPassword: keyPW})
	require.NoError(t, err)
	require.Len(t, r.Entries, 2, "the private key and the trusted root, as keytool -list shows")
	assert.Equal(t, []string{`skipped secret-key entry "aeskey": secret keys are not used for TLS`}, r.Warnings)
}

func TestLoadPEM(t *testing.T) {
	loadOK(t, "client-combined.pem", Options{}, clientCN, FormatPEM)
	loadOK(t, "client-combined-key-first.pem", Options{}, clientCN, FormatPEM)
	// Certificates in one file, the key in another, in every key encoding.
	keys := []struct {
		file, chain, cn string
		pw              Secret
	}{
		{"client-key-pkcs8.pem", "client-chain.pem", clientCN, ""},
		{"client-key-pkcs1.pem", "client-chain.pem", clientCN, ""},
		{"ecclient-key-sec1.pem", "ecclient-chain.pem", ecCN, ""},
		{"client-key-pbes2.pem", "client-chain.pem", clientCN, keyPW},      // PBES2 AES-256-CBC, HMAC-SHA256
		{"ecclient-key-pbes2-des3.pem", "ecclient-chain.pem", ecCN, keyPW}, // PBES2 3DES, HMAC-SHA1
		{"client-key-legacy-enc.pem", "client-chain.pem", clientCN, keyPW}, // Proc-Type: 4,ENCRYPTED
	}
	for _, k := range keys {
		t.Run(k.file, func(t *testing.T) {
			loadOK(t, k.chain, Options{KeyFile: fixture(k.file), Password: k.pw}, k.cn, FormatPEM)
			if k.pw != "" {
				_, err := LoadFile(fixture(k.chain), Options{KeyFile: fixture(k.file), Password: "wrong"})
				require.ErrorIs(t, err, ErrWrongPassword)
				_, err = LoadFile(fixture(k.chain), Options{KeyFile: fixture(k.file)})
				require.ErrorIs(t, err, ErrWrongPassword)
				assert.Contains(t, err.Error(), "no password was given")
			}
		})
	}
	// Bytes in, with the key file read all the same.
	id, err := Load(readFixture(t, "client-chain.pem"), Options{KeyFile: fixture("client-key-pkcs8.pem")})
	require.NoError(t, err)
	assert.Equal(t, "", id.Alias())

	_, err = LoadFile(fixture("client-key-pkcs8.pem"), Options{})
	require.ErrorIs(t, err, ErrKeyMismatch)
	assert.Contains(t, err.Error(), "no certificate for the key")

	_, err = LoadFile(fixture("client-chain.pem"), Options{})
	require.ErrorIs(t, err, ErrNoPrivateKey)

	_, err = LoadFile(fixture("client-combined.pem"), Options{Alias: "client"})
	require.ErrorIs(t, err, ErrAliasNotFound)
	assert.Contains(t, err.Error(), "PEM files have no aliases")

	_, err = LoadFile(fixture("client-openssl.p12"), Options{Password: storePW, KeyFile: fixture("client-key-pkcs8.pem")})
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestKeyMismatch(t *testing.T) {
	_, err := LoadFile(fixture("mismatch.pem"), Options{})
	require.ErrorIs(t, err, ErrKeyMismatch)
	assert.Contains(t, err.Error(), clientCN)
	assert.Contains(t, err.Error(), "mismatch.pem")

	key, err := LoadFile(fixture("jwt-key.pem"), Options{KeyFile: ""})
	assert.Nil(t, key)
	require.Error(t, err)

	other, err := LoadFile(fixture("mulesoft.jks"), Options{Password: storePW})
	require.NoError(t, err)
	_, err = NewIdentity(other.Signer(), []*x509.Certificate{readCert(t, "client-chain.pem")})
	require.ErrorIs(t, err, ErrKeyMismatch)
	id, err := NewIdentity(other.Signer(), other.Chain())
	require.NoError(t, err)
	assert.Equal(t, other.Leaf(), id.Leaf())
}

func TestAliasRules(t *testing.T) {
	// With one private key and a trusted-cert entry, no alias is needed.
	id, err := LoadFile(fixture("client-keypass.jks"), Options{Password: storePW, KeyPassword: keyPW})
	require.NoError(t, err)
	assert.Equal(t, "client", id.Alias())

	// Several keys: the error lists them.
	_, err = LoadFile(fixture("client.jks"), Options{Password: storePW})
	require.ErrorIs(t, err, ErrAmbiguousAlias)
	assert.Contains(t, err.Error(), `"client-cert"`)
	assert.Contains(t, err.Error(), `"ecclient"`)

	// A trusted-cert alias is not a private key.
	_, err = LoadFile(fixture("client-keypass.jks"), Options{Password: storePW, KeyPassword: keyPW, Alias: "RootCA"})
	require.ErrorIs(t, err, ErrAliasNotFound)
	assert.Contains(t, err.Error(), "trusted-certificate entry")

	_, err = LoadFile(fixture("truststore.jks"), Options{Password: storePW})
	require.ErrorIs(t, err, ErrNoPrivateKey)
}

func TestErrorsAreTypedAndNameTheFile(t *testing.T) {
	cases := []struct {
		file string
		opts Options
		kind error
		want string
	}{
		{"client.jks", Options{Password: "wrong-password", Alias: "ecclient"}, ErrWrongPassword, "integrity check failed"},
		{"client.jceks", Options{Password: "wrong-password"}, ErrWrongPassword, "integrity check failed"},
		{"client-openssl.p12", Options{Password: "wrong-password"}, ErrWrongPassword, "MAC"},
		{"client-legacy.pfx", Options{Password: "wrong-password"}, ErrWrongPassword, "MAC"},
		{"corrupt.jks", Options{Password: storePW, Alias: "ecclient"}, ErrCorrupt, "altered"},
		{"truncated.jks", Options{Password: storePW}, ErrCorrupt, "truncated"},
		{"truncated.jceks", Options{Password: storePW}, ErrCorrupt, "truncated"},
		{"truncated.p12", Options{Password: storePW}, ErrCorrupt, "truncated"},
		{"truncated-key.pem", Options{}, ErrCorrupt, "no complete PEM block"},
		{"random.bin", Options{Password: storePW}, ErrUnknownFormat, "unknown keystore format"},
		{"notakeystore.bin", Options{}, ErrUnknownFormat, "unknown keystore format"},
		{"does-not-exist.p12", Options{}, ErrUnreadable, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, err := LoadFile(fixture(c.file), c.opts)
			require.ErrorIs(t, err, c.kind)
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Contains(t, err.Error(), fixture(c.file))
			assert.Contains(t, err.Error(), c.want)
			if c.opts.Password != "" {
				assert.NotContains(t, err.Error(), string(c.opts.Password))
			}
			for _, other := range []error{ErrWrongPassword, ErrCorrupt, ErrUnknownFormat, ErrUnsupported, ErrUnreadable} {
				if other != c.kind {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
	_, err := LoadFile(fixture("does-not-exist.p12"), Options{})
	assert.ErrorIs(t, err, os.ErrNotExist)

	// A DER certificate is told apart from garbage.
	_, err = Load(readCert(t, "root-ca.pem").Raw, Options{Name: "cert.der"})
	require.ErrorIs(t, err, ErrUnsupported)
	assert.Contains(t, err.Error(), "cert.der")
	assert.Contains(t, err.Error(), "single DER certificate")

	_, err = Load(nil, Options{})
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestCheckValidity(t *testing.T) {
	id, err := LoadFile(fixture("mtls.jks"), Options{Password: storePW})
	require.NoError(t, err)
	require.NoError(t, id.CheckValidity(time.Now()))
	err = id.CheckValidity(id.Leaf().NotAfter.Add(time.Hour))
	require.ErrorIs(t, err, ErrExpired)
	assert.Contains(t, err.Error(), "expired at")
	require.ErrorIs(t, id.CheckValidity(id.Leaf().NotBefore.Add(-time.Hour)), ErrExpired)
}

func TestErrorMessageShape(t *testing.T) {
	e := &Error{Source: "a.jks", Format: FormatJKS, Alias: "x", Kind: ErrWrongPassword, Detail: "d", fix: "h", Err: errors.New("cause")}
	assert.Equal(t, `keystore: a.jks (JKS): wrong password for alias "x": d: cause`, e.Error(), "the fix is not repeated")
	assert.Equal(t, "h", e.Fix())
	assert.Equal(t, "keystore: JKS: corrupt or truncated keystore", (&Error{Format: FormatJKS, Kind: ErrCorrupt}).Error())
	assert.Equal(t, "keystore: corrupt or truncated keystore", (&Error{Kind: ErrCorrupt}).Error())
}

// keystore-go writes the certificate type as "X509" where Java writes "X.509".
func TestJKSWrittenByKeystoreGo(t *testing.T) {
	src, err := LoadFile(fixture("client-openssl.p12"), Options{Password: storePW})
	require.NoError(t, err)
	key, err := x509.MarshalPKCS8PrivateKey(src.Signer())
	require.NoError(t, err)
	var chain []jks.Certificate
	for _, c := range src.Chain() {
		chain = append(chain, jks.Certificate{Type: "X509", Content: c.Raw})
	}
	ks := jks.New()
	require.NoError(t, ks.SetPrivateKeyEntry("go", jks.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: key, CertificateChain: chain}, []byte(storePW)))
	var buf bytes.Buffer
	require.NoError(t, ks.Store(&buf, []byte(storePW)))
	id, err := Load(buf.Bytes(), Options{Password: storePW})
	require.NoError(t, err)
	assert.Equal(t, "go", id.Alias())
	assert.Len(t, id.Chain(), 2)
}
