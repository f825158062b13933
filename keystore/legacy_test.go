package keystore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fixtures from testdata/producers/legacy.sh: keytool 17 writing Java 8's layout
// (-J-Dkeystore.pkcs12.legacy), OpenSSL 3 with its legacy provider, NSS's pk12util.

const legacyCN = "legacy.producer@example.com"

// TestRC2KeystoresAreReadByTheSDKsOwnReader loads every RC2 layout: Java 8's
// (RC2-40 certificates, 3DES key, SHA-1 MAC), a key password unlike the store's,
// RC2-128 for keys and certificates, RC2-40 keys from OpenSSL, and NSS's BER
// with one safe per bag.
func TestRC2KeystoresAreReadByTheSDKsOwnReader(t *testing.T) {
	t.Parallel() // reads fixtures only; heavy KDFs
	for _, c := range []struct {
		file    string
		opts    Options
		cn      string
		entries int
	}{
		{"legacy-java8-keytool.p12", Options{Password: storePW}, legacyCN, 2},
		{"legacy-java8-keypass.p12", Options{Password: storePW, KeyPassword: keyPW}, legacyCN, 1},
		{"legacy-java-rc2-128.p12", Options{Password: storePW}, legacyCN, 1},
		{"legacy-openssl-rc2-128.p12", Options{Password: storePW}, "ec.legacy.producer@example.com", 1},
		{"legacy-nss-rc2.p12", Options{Password: storePW}, legacyCN, 1},
		{"legacy-openssl-rc2-iter1.p12", Options{Password: storePW}, "ec.legacy.producer@example.com", 1},
	} {
		t.Run(c.file, func(t *testing.T) {
			id, err := LoadFile(producer(c.file), c.opts)
			require.NoError(t, err)
			assert.Equal(t, c.cn, id.Leaf().Subject.CommonName)
			assert.Len(t, id.Chain(), 2, "leaf and intermediate")
			r, err := InspectFile(producer(c.file), c.opts)
			require.NoError(t, err)
			assert.Len(t, r.Entries, c.entries)
			assert.Empty(t, r.Warnings)
		})
	}
}

func TestRC2TrustStoresListEveryCertificate(t *testing.T) {
	for _, file := range []string{"legacy-java8-truststore.p12", "legacy-openssl-nokeys.p12"} {
		r, err := InspectFile(producer(file), Options{Password: storePW})
		require.NoError(t, err, file)
		require.Len(t, r.Entries, 2, file)
		for _, e := range r.Entries {
			assert.Equal(t, TrustedCertEntry, e.Kind)
		}
		_, err = LoadFile(producer(file), Options{Password: storePW})
		require.ErrorIs(t, err, ErrNoPrivateKey, file)
	}
}

// TestRC2WrongPasswordsAreSaidWhereAPasswordCheckFailed: the store password
// fails the MAC; a right store password with a wrong key password fails the
// key's decryption, and says so.
func TestRC2WrongPasswordsAreSaidWhereAPasswordCheckFailed(t *testing.T) {
	for _, c := range []struct {
		file   string
		opts   Options
		detail string
	}{
		{"legacy-java8-keytool.p12", Options{Password: "not-the-password-42"}, "the integrity check (MAC) failed"},
		{"legacy-java8-keypass.p12", Options{Password: storePW}, "the private key cannot be decrypted"},
		{"legacy-java8-truststore.p12", Options{Password: "not-the-password-42"}, "the integrity check (MAC) failed"},
	} {
		_, err := LoadFile(producer(c.file), c.opts)
		require.ErrorIs(t, err, ErrWrongPassword, c.file)
		var kerr *Error
		require.ErrorAs(t, err, &kerr)
		assert.Equal(t, c.detail, kerr.Detail, c.file)
	}
}
