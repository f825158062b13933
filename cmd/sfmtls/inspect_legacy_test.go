package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// privateCopy copies a fixture from keystore/testdata's subfolders into a 0600 file.
func privateCopy(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "keystore", "testdata", rel))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), filepath.Base(rel))
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// inspect names the integrity check a file uses: RFC 9579's PBMAC1 vector A.1,
// Java 8's HMAC-SHA-1 MAC, JKS's keyed digest.
func TestInspectNamesTheMAC(t *testing.T) {
	for _, c := range []struct {
		file, pw, want string
	}{
		{"pbmac1/A.1.p12", "1234", "Integrity check: PBMAC1 HMAC-SHA-256, key from PBKDF2 with HMAC-SHA-256, 2048 iterations\n"},
		{"producers/legacy-java8-keytool.p12", storePW, "Integrity check: HMAC-SHA-1, key from the PKCS#12 KDF, 100000 iterations\n"},
		{"client.jks", storePW, "Integrity check: keyed SHA-1 digest\n"},
	} {
		r := sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": c.pw}, nil, "inspect", "--keystore", privateCopy(t, c.file))
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, c.want)
	}
	r := sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": "1234"}, nil, "inspect", "--json", "--keystore", privateCopy(t, "pbmac1/A.3.p12"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"integrity": "PBMAC1 HMAC-SHA-512, key from PBKDF2 with HMAC-SHA-512, 2048 iterations"`)
}

// A truststore of certificates on curves Go does not parse lists them as keytool
// -list does, and says why each cannot be used; exit status 0 as for any truststore.
func TestInspectListsCertificatesOnUnsupportedCurves(t *testing.T) {
	r := sfmtls(t, withPW, nil, "inspect", "--keystore", privateCopy(t, "producers/legacy-odd-curves.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	for _, want := range []string{
		`trusted-cert, alias "brainpoolp256r1"`,
		"Subject:      CN=brainpoolP256r1 CA,O=sfmtls legacy",
		"Key:          EC brainpoolP256r1 256 bits",
		`trusted-cert, alias "secp256k1"`,
		"Key:          EC secp256k1 256 bits",
		"WARNING:      this certificate's key (EC secp256k1) cannot be used here (x509: unsupported elliptic curve)",
		`trusted-cert, alias "root"`,
		"No private key: certificates only.",
	} {
		assert.Contains(t, r.stdout, want)
	}
}
