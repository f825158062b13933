package keystore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The vectors of RFC 9579 ("Use of Password-Based Message Authentication Code 1
// (PBMAC1) in PKCS #12 Syntax", https://www.rfc-editor.org/rfc/rfc9579#appendix-A),
// in testdata/pbmac1 with their source. Password "1234".
func pbmac1Vector(name string) string { return filepath.Join("testdata", "pbmac1", name+".p12") }

func TestPBMAC1ValidVectorsLoad(t *testing.T) {
	for _, c := range []struct{ name, integrity string }{
		{"A.1", "PBMAC1 HMAC-SHA-256, key from PBKDF2 with HMAC-SHA-256, 2048 iterations"},
		{"A.2", "PBMAC1 HMAC-SHA-256, key from PBKDF2 with HMAC-SHA-512, 2048 iterations"},
		{"A.3", "PBMAC1 HMAC-SHA-512, key from PBKDF2 with HMAC-SHA-512, 2048 iterations"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := LoadFile(pbmac1Vector(c.name), Options{Password: "1234"})
			require.NoError(t, err)
			assert.NotNil(t, id.Leaf())
			r, err := InspectFile(pbmac1Vector(c.name), Options{Password: "1234"})
			require.NoError(t, err)
			assert.Equal(t, c.integrity, r.Integrity)
			require.Len(t, r.Entries, 1)
			assert.Equal(t, PrivateKeyEntry, r.Entries[0].Kind)
		})
	}
}

// TestPBMAC1InvalidVectorsFail: A.4-A.6 must fail (RFC 9579 appendix A). With
// the right password they are altered files, not wrong passwords: A.4 and A.5
// fail the MAC although the password decrypts the contents, A.6 lacks the key
// length. With a wrong password, A.1 fails as a wrong password.
func TestPBMAC1InvalidVectorsFail(t *testing.T) {
	for _, c := range []struct{ name, detail string }{
		{"A.4", "the integrity check (MAC) failed although the password decrypts the contents: the file was altered"},
		{"A.5", "the integrity check (MAC) failed although the password decrypts the contents: the file was altered"},
		{"A.6", "the PBMAC1 parameters lack the key length RFC 9579 requires"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadFile(pbmac1Vector(c.name), Options{Password: "1234"})
			require.ErrorIs(t, err, ErrCorrupt)
			assert.NotErrorIs(t, err, ErrWrongPassword)
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Equal(t, c.detail, kerr.Detail)
			_, err = InspectFile(pbmac1Vector(c.name), Options{Password: "1234"})
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
	for _, name := range []string{"A.1", "A.3", "A.4"} {
		_, err := LoadFile(pbmac1Vector(name), Options{Password: "12345"})
		require.ErrorIs(t, err, ErrWrongPassword, name)
		var kerr *Error
		require.ErrorAs(t, err, &kerr)
		assert.Equal(t, "the integrity check (MAC) failed", kerr.Detail)
		assert.NotContains(t, err.Error(), "12345")
	}
}

// TestPBMAC1ParametersAreBounded rewrites A.1's PBMAC1 parameters: iteration
// counts and key lengths beyond the caps of every other KDF here, and MACs and
// PRFs RFC 9579 does not allow, are refused before any work is done.
func TestPBMAC1ParametersAreBounded(t *testing.T) {
	data, err := os.ReadFile(pbmac1Vector("A.1"))
	require.NoError(t, err)
	var pfx pfxPDU
	_, err = asn1.Unmarshal(data, &pfx)
	require.NoError(t, err)
	var params pbmac1Params
	_, err = asn1.Unmarshal(pfx.MacData.Mac.Algorithm.Parameters.FullBytes, &params)
	require.NoError(t, err)
	var kdf pbkdf2Params
	_, err = asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf)
	require.NoError(t, err)

	check := func(p pbmac1Params, k pbkdf2Params) error {
		kdfDER, err := asn1.Marshal(k)
		require.NoError(t, err)
		p.KeyDerivationFunc.Parameters = asn1.RawValue{FullBytes: kdfDER}
		pDER, err := asn1.Marshal(p)
		require.NoError(t, err)
		m := pfx.MacData
		m.Mac.Algorithm.Parameters = asn1.RawValue{FullBytes: pDER}
		_, err = checkPKCS12MAC(m, nil, "1234", maxIterations)
		return err
	}
	withIter, withLen := kdf, kdf
	withIter.Iterations = maxIterations + 1
	withLen.KeyLength = maxMACKeyLen + 1
	assert.ErrorIs(t, check(params, withIter), ErrCorrupt)
	assert.ErrorIs(t, check(params, withLen), ErrCorrupt)
	badMAC := params
	badMAC.MessageAuthScheme.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5} // HMAC-MD5
	err = check(badMAC, kdf)
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "PBMAC1 with MAC 1.2.840.113549.2.5")
	badPRF := kdf
	badPRF.PRF.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	assert.ErrorIs(t, check(params, badPRF), ErrUnsupported)
	badKDF := params
	badKDF.KeyDerivationFunc.Algorithm = oidScrypt
	assert.ErrorIs(t, check(badKDF, kdf), ErrUnsupported)
}

func TestInspectNamesTheIntegrityCheck(t *testing.T) {
	for _, c := range []struct {
		file      string
		opts      Options
		integrity string
	}{
		{producer("openssl-default.p12"), Options{Password: storePW}, "HMAC-SHA-256, key from the PKCS#12 KDF, 2048 iterations"},
		{producer("legacy-java8-keytool.p12"), Options{Password: storePW}, "HMAC-SHA-1, key from the PKCS#12 KDF, 100000 iterations"},
		{producer("openssl-nomac.p12"), Options{Password: storePW}, "none (no MAC)"},
		{producer("keytool-rsa4096.jks"), Options{Password: storePW}, "keyed SHA-1 digest"},
		{filepath.Join("testdata", "client-combined.pem"), Options{}, ""},
	} {
		r, err := InspectFile(c.file, c.opts)
		require.NoError(t, err, c.file)
		assert.Equal(t, c.integrity, r.Integrity, c.file)
	}
}

// TestSafeThatTheMACPasswordCannotOpenIsCorrupt re-MACs a store under another
// password: the MAC then accepts that password, and the safe it cannot decrypt is
// reported as damaged, not as a wrong password; wrong is said only when every
// check the password could pass failed.
func TestSafeThatTheMACPasswordCannotOpenIsCorrupt(t *testing.T) {
	data, err := os.ReadFile(producer("openssl-default.p12"))
	require.NoError(t, err)
	var pfx p12PFX
	_, err = asn1.Unmarshal(data, &pfx)
	require.NoError(t, err)
	authSafe, err := unwrapOctets(pfx.AuthSafe.Content)
	require.NoError(t, err)
	other, err := bmpString("another-password")
	require.NoError(t, err)
	mac := hmac.New(sha256.New, pkcs12MACKey(other, pfx.MacData.MacSalt, pfx.MacData.Iterations))
	mac.Write(authSafe)
	pfx.MacData.Mac.Digest = mac.Sum(nil)
	remac, err := asn1.Marshal(pfx)
	require.NoError(t, err)

	_, err = Load(remac, Options{Password: "another-password"})
	require.ErrorIs(t, err, ErrCorrupt)
	assert.NotErrorIs(t, err, ErrWrongPassword)
	// The original password opens the safe but fails the new MAC: altered, too.
	_, err = Load(remac, Options{Password: storePW})
	require.ErrorIs(t, err, ErrCorrupt)
	assert.NotErrorIs(t, err, ErrWrongPassword)
	// Any other password fails the MAC and opens nothing: a wrong password.
	_, err = Load(remac, Options{Password: "neither-password"})
	require.ErrorIs(t, err, ErrWrongPassword)
}
