package keystore

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fixtures in testdata/producers come from the producers users' files come from
// (testdata/producers/gen.sh): OpenSSL 3, keytool and the Java KeyStore API, NSS's
// pk12util (Firefox), Python cryptography, node-forge and go-pkcs12.

const (
	unicodePW  = Secret("pässwörd€") // beyond Latin-1: Java's JKS digests the UTF-16
	producerCN = "rsa.producer@example.com"
	longAlias  = "clé-d'intégration-für-salesforce-mit-einem-sehr-langen-alias-namen-0123456789"
)

func producer(name string) string { return filepath.Join("testdata", "producers", name) }

func TestEveryProducersKeystoreLoadsWithItsEntries(t *testing.T) {
	t.Parallel() // reads fixtures only; heavy KDFs
	cases := []struct {
		file     string
		opts     Options
		cn       string
		alias    string
		chain    int      // certificates sent in a handshake
		entries  int      // as keytool -list or openssl pkcs12 -info shows them
		warnings []string // store-level warnings (skipped entries)
		entryW   string   // a warning the key entry must carry
	}{
		// OpenSSL 3 options.
		{file: "openssl-default.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-keypbe-none.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-nopbe.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-nomac.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-macsha512.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-iter1.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-legacy.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-descert.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "openssl-md5-intermediate.p12", opts: Options{Password: storePW}, cn: "md5chain.producer@example.com", alias: "client", chain: 3, entries: 1,
			entryW: `chain certificate "CN=Producers MD5-Signed CA,O=sfmtls producers" is signed with MD5-RSA`},
		{file: "openssl-odd-curve-ca.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1,
			warnings: []string{`skipped certificate (unnamed), subject "CN=Odd Curve CA,O=sfmtls producers", serial 6ec49b5dcb61e9c9793d180c29256bfc6e2ba8b0, key EC secp256k1: it cannot be used here (x509: unsupported elliptic curve)`}},
		{file: "openssl-dual-use.p12", opts: Options{Password: storePW}, cn: "dual.use@example.com", alias: "client", chain: 2, entries: 1, entryW: WarnDualUse},
		// Python cryptography's encryption builders.
		{file: "python-aes256-sha256.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "python", chain: 2, entries: 1},
		{file: "python-3des-sha1.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "python", chain: 2, entries: 1},
		{file: "python-best.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "python", chain: 2, entries: 1},
		{file: "python-none.p12", opts: Options{}, cn: producerCN, alias: "python", chain: 2, entries: 1},
		// node-forge.
		{file: "forge-3des.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "forge", chain: 2, entries: 1},
		{file: "forge-aes256.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "forge", chain: 2, entries: 1},
		{file: "forge-nopassword.p12", opts: Options{}, cn: producerCN, alias: "forge", chain: 2, entries: 1},
		// go-pkcs12's encoders (they write no friendlyName).
		{file: "gopkcs12-modern2023.p12", opts: Options{Password: storePW}, cn: producerCN, chain: 2, entries: 1},
		{file: "gopkcs12-legacydes.p12", opts: Options{Password: storePW}, cn: producerCN, chain: 2, entries: 1},
		{file: "gopkcs12-legacyrc2.p12", opts: Options{Password: storePW}, cn: producerCN, chain: 2, entries: 1},
		{file: "gopkcs12-passwordless.p12", opts: Options{}, cn: producerCN, chain: 2, entries: 1},
		// NSS pk12util, as Firefox exports: BER with indefinite lengths, one safe per bag.
		{file: "nss-export.p12", opts: Options{Password: storePW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
		{file: "nss-export-aes.p12", opts: Options{Password: storePW}, cn: "second.producer@example.com", alias: "second", chain: 2, entries: 1},
		// keytool: three-deep chain, long non-ASCII alias, trusted root, secret keys beside the key.
		{file: "keytool-chain3-secret.jks", opts: Options{Password: storePW}, cn: producerCN, alias: longAlias, chain: 2, entries: 2},
		{file: "keytool-chain3-secret.jceks", opts: Options{Password: storePW}, cn: producerCN, alias: longAlias, chain: 2, entries: 2,
			warnings: []string{`skipped secret-key entry "aes-secret": secret keys are not used for TLS`, `skipped secret-key entry "hmac-secret": secret keys are not used for TLS`}},
		{file: "keytool-chain3-secret.p12", opts: Options{Password: storePW}, cn: producerCN, alias: longAlias, chain: 2, entries: 2,
			warnings: []string{`skipped secret-key entry "aes-secret": secret keys are not used for TLS`, `skipped secret-key entry "hmac-secret": secret keys are not used for TLS`}},
		{file: "keytool-ec-p384.jks", opts: Options{Password: storePW}, cn: "p384.keytool@example.com", alias: "p384", chain: 1, entries: 1},
		{file: "keytool-ec-p384.jceks", opts: Options{Password: storePW}, cn: "p384.keytool@example.com", alias: "p384", chain: 1, entries: 1},
		{file: "keytool-ec-p384.p12", opts: Options{Password: storePW}, cn: "p384.keytool@example.com", alias: "p384", chain: 1, entries: 1},
		{file: "keytool-rsa4096.jks", opts: Options{Password: storePW}, cn: "rsa4096.keytool@example.com", alias: "rsa4096", chain: 1, entries: 1},
		{file: "keytool-rsa4096.jceks", opts: Options{Password: storePW}, cn: "rsa4096.keytool@example.com", alias: "rsa4096", chain: 1, entries: 1},
		{file: "keytool-rsa4096.p12", opts: Options{Password: storePW}, cn: "rsa4096.keytool@example.com", alias: "rsa4096", chain: 1, entries: 1},
		{file: "keytool-keypass.jks", opts: Options{Password: storePW, KeyPassword: keyPW}, cn: "keypass.keytool@example.com", alias: "keypass", chain: 1, entries: 1},
		{file: "keytool-keypass.jceks", opts: Options{Password: storePW, KeyPassword: keyPW}, cn: "keypass.keytool@example.com", alias: "keypass", chain: 1, entries: 1},
		// The trusted certificate on secp256k1 is listed (odd_curves_test.go), not skipped.
		{file: "keytool-odd-curve-ca.jks", opts: Options{Password: storePW}, cn: "p384.keytool@example.com", alias: "p384", chain: 1, entries: 2},
		{file: "keytool-unicode.jks", opts: Options{Password: unicodePW}, cn: "unicode.keytool@example.com", alias: "unicode", chain: 1, entries: 1},
		// The Java KeyStore API: a PKCS#12 key password unlike the store's.
		{file: "java-api-keypass.p12", opts: Options{Password: storePW, KeyPassword: keyPW}, cn: producerCN, alias: "client", chain: 2, entries: 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			id, err := LoadFile(producer(c.file), c.opts)
			require.NoError(t, err)
			assert.Equal(t, c.cn, id.Leaf().Subject.CommonName)
			assert.Equal(t, c.alias, id.Alias())
			assert.Len(t, id.Chain(), c.chain)
			r, err := InspectFile(producer(c.file), c.opts)
			require.NoError(t, err)
			assert.Len(t, r.Entries, c.entries)
			assert.Equal(t, c.warnings, r.Warnings)
			if c.entryW != "" {
				var key *EntryReport
				for i := range r.Entries {
					if r.Entries[i].Kind == PrivateKeyEntry {
						key = &r.Entries[i]
					}
				}
				require.NotNil(t, key)
				found := false
				for _, w := range key.Warnings {
					found = found || len(w) >= len(c.entryW) && w[:len(c.entryW)] == c.entryW
				}
				assert.True(t, found, "warnings %q lack %q", key.Warnings, c.entryW)
			}
		})
	}
}

func TestCertificateOnlyAndTrustStorePKCS12ListTheirCertificates(t *testing.T) {
	for _, c := range []struct {
		file    string
		entries int
	}{{"openssl-nokeys.p12", 2}, {"gopkcs12-truststore.p12", 2}} {
		r, err := InspectFile(producer(c.file), Options{Password: storePW})
		require.NoError(t, err, c.file)
		require.Len(t, r.Entries, c.entries, c.file)
		for _, e := range r.Entries {
			assert.Equal(t, TrustedCertEntry, e.Kind)
		}
		_, err = LoadFile(producer(c.file), Options{Password: storePW})
		require.ErrorIs(t, err, ErrNoPrivateKey, c.file)
	}
}

func TestProducersRefusalsNameTheCauseAndTheFix(t *testing.T) {
	cases := []struct {
		file   string
		opts   Options
		kind   error
		detail string
		hint   string
	}{
		{"openssl-dsa.p12", Options{Password: storePW}, ErrUnsupported, "DSA keys are not supported", "RSA"},
		{"keytool-dsa.jks", Options{Password: storePW}, ErrUnsupported, "DSA keys are not supported", "RSA"},
		{"keytool-dsa.jceks", Options{Password: storePW}, ErrUnsupported, "DSA keys are not supported", "RSA"},
		{"keytool-dsa.p12", Options{Password: storePW}, ErrUnsupported, "DSA keys are not supported", "RSA"},
		{"openssl-rsapss.p12", Options{Password: storePW}, ErrUnsupported, "RSA-PSS keys are not supported", "RSA"},
		{"openssl-secp256k1.p12", Options{Password: storePW}, ErrUnsupported, "EC keys on curve secp256k1 are not supported", "P-256"},
		{"key-scrypt.pem", Options{KeyFile: producer("key-scrypt.pem"), Password: keyPW}, ErrUnsupported, "PBES2 with scrypt key derivation is not supported", "aes-256-cbc"},
		{"key-pbes1-md5-des.pem", Options{KeyFile: producer("key-pbes1-md5-des.pem"), Password: keyPW}, ErrUnsupported, "PBES1 encryption (1.2.840.113549.1.5.3", "aes-256-cbc"},
		{"bks-header.bks", Options{Password: storePW}, ErrUnsupported, "Bouncy Castle BKS (or UBER) keystore", "-srcstoretype BKS"},
		// Wrong passwords are said only where a password check failed.
		{"openssl-default.p12", Options{Password: "not-the-password-42"}, ErrWrongPassword, "the integrity check (MAC) failed", "keystore password"},
		{"openssl-nomac.p12", Options{Password: "not-the-password-42"}, ErrWrongPassword, "the private key cannot be decrypted", "no integrity check (MAC)"},
		{"openssl-keypbe-none.p12", Options{Password: "not-the-password-42"}, ErrWrongPassword, "the integrity check (MAC) failed", "keystore password"},
		{"java-api-keypass.p12", Options{Password: storePW}, ErrWrongPassword, "the private key cannot be decrypted", "key password"},
		{"java-api-keypass.p12", Options{Password: storePW, KeyPassword: "not-the-key-password-42"}, ErrWrongPassword, "the private key cannot be decrypted", "key password"},
		{"keytool-unicode.jks", Options{Password: "passw?rd"}, ErrWrongPassword, "integrity check failed", "keystore password"},
		{"keytool-keypass.jks", Options{Password: storePW}, ErrWrongPassword, "the private key cannot be decrypted", "key password"},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.detail, func(t *testing.T) {
			file := producer(c.file)
			if filepath.Ext(c.file) == ".pem" {
				file = producer("rsa-chain.pem")
			}
			_, err := LoadFile(file, c.opts)
			require.ErrorIs(t, err, c.kind)
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Contains(t, kerr.Detail, c.detail)
			assert.Contains(t, kerr.Fix(), c.hint)
			for _, pw := range []Secret{c.opts.Password, c.opts.KeyPassword} {
				if pw != "" {
					assert.NotContains(t, err.Error(), string(pw))
				}
			}
		})
	}
}

// TestProducersIdentitiesHandshake completes real mutual-TLS handshakes with
// keys read from the producers whose layouts this package once refused.
func TestProducersIdentitiesHandshake(t *testing.T) {
	t.Parallel() // reads fixtures only; heavy KDFs
	data, err := os.ReadFile(producer("root-ca.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	root, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chain := r.TLS.VerifiedChains[0]
		_, _ = io.WriteString(w, chain[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		file string
		opts Options
	}{
		{"nss-export.p12", Options{Password: storePW}},
		{"forge-nopassword.p12", Options{}},
		{"openssl-keypbe-none.p12", Options{Password: storePW}},
		{"openssl-nomac.p12", Options{Password: storePW}},
		{"java-api-keypass.p12", Options{Password: storePW, KeyPassword: keyPW}},
		{"keytool-chain3-secret.jceks", Options{Password: storePW}},
		{"python-none.p12", Options{}},
	} {
		t.Run(c.file, func(t *testing.T) {
			id, err := LoadFile(producer(c.file), c.opts)
			require.NoError(t, err)
			resp, err := clientFor(srv, id.TLSCertificate()).Get(srv.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, producerCN, string(body))
		})
	}
}

// TestBERIsRewrittenAsDER checks the normaliser on the constructs NSS writes.
func TestBERIsRewrittenAsDER(t *testing.T) {
	// SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { "ab", "c" } }
	ber := []byte{0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 'a', 'b', 0x04, 0x01, 'c', 0, 0, 0, 0}
	der, err := berToDER(ber)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x30, 0x05, 0x04, 0x03, 'a', 'b', 'c'}, der)
	// Non-minimal length octets become minimal.
	der, err = berToDER([]byte{0x04, 0x82, 0x00, 0x01, 'x'})
	require.NoError(t, err)
	assert.Equal(t, []byte{0x04, 0x01, 'x'}, der)
	for _, bad := range [][]byte{{0x30, 0x80, 0x04, 0x01}, {0x04, 0x80}, {0x30, 0x05, 0x04}, {0x1f, 0x01, 0x00}} {
		_, err := berToDER(bad)
		assert.True(t, errors.Is(err, errBER) || err != nil, "%x", bad)
	}
}
