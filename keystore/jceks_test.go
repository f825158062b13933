package keystore

import (
	"crypto"
	"crypto/cipher"
	"crypto/des"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sealJCEKSKey protects a key as SunJCE's KeyProtector does; the tests use it for
// inputs keytool cannot be asked for (few iterations, equal salt halves).
func sealJCEKSKey(t testing.TB, key crypto.PrivateKey, pw Secret, salt []byte, iterations int) []byte {
	t.Helper()
	plain, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	k, iv := sunPBEKeyAndIV(salt, pw, iterations)
	block, err := des.NewTripleDESCipher(k)
	require.NoError(t, err)
	pad := 8 - len(plain)%8
	for i := 0; i < pad; i++ {
		plain = append(plain, byte(pad))
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(plain, plain)
	params, err := asn1.Marshal(pbeParameter{Salt: salt, Iterations: iterations})
	require.NoError(t, err)
	out, err := asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBEWithMD5AndTripleDES, Parameters: asn1.RawValue{FullBytes: params}},
		EncryptedData: plain,
	})
	require.NoError(t, err)
	return out
}

func TestJCEKSKeyProtection(t *testing.T) {
	id, err := LoadFile(fixture("client-openssl.p12"), Options{Password: storePW})
	require.NoError(t, err)
	for _, salt := range []string{"saltsalt", "abcdabcd"} {
		sealed := sealJCEKSKey(t, id.Signer(), keyPW, []byte(salt), 5)
		key, err := decryptJCEKSKey(sealed, keyPW, maxIterations)
		require.NoError(t, err, salt)
		assert.True(t, id.Signer().(interface{ Equal(crypto.PrivateKey) bool }).Equal(key), salt)

		_, err = decryptJCEKSKey(sealed, "wrong", maxIterations)
		assert.ErrorIs(t, err, ErrWrongPassword, salt)
	}
	sealed := sealJCEKSKey(t, id.Signer(), keyPW, []byte("saltsalt"), 100)
	_, err = decryptJCEKSKey(sealed, keyPW, 99)
	assert.ErrorIs(t, err, ErrCorrupt, "an iteration count above the limit is refused before any work")
}
