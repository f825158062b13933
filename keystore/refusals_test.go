package keystore

import (
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPEMKeysOfUnusableAlgorithmsAreRefusedByName: DSA and RSA-PSS keys (and EC
// keys on curves Go lacks) in PEM files, as OpenSSL writes them
// (testdata/producers/legacy.sh), are ErrUnsupported naming the algorithm,
// encrypted or not, never ErrCorrupt; a wrong password on an encrypted one is
// still a wrong password, since its decryption is the check that failed.
func TestPEMKeysOfUnusableAlgorithmsAreRefusedByName(t *testing.T) {
	for _, c := range []struct {
		key    string
		pw     Secret
		kind   error
		detail string
	}{
		{"legacy-dsa-pkcs8.pem", "", ErrUnsupported, "DSA keys are not supported"},
		{"legacy-dsa-traditional.pem", "", ErrUnsupported, "DSA keys are not supported"},
		{"legacy-dsa-encrypted.pem", keyPW, ErrUnsupported, "DSA keys are not supported"},
		{"legacy-dsa-encrypted.pem", "not-the-key-password", ErrWrongPassword, "the private key cannot be decrypted"},
		{"legacy-rsapss-pkcs8.pem", "", ErrUnsupported, "RSA-PSS keys are not supported"},
		{"legacy-rsapss-encrypted.pem", keyPW, ErrUnsupported, "RSA-PSS keys are not supported"},
		{"legacy-rsapss-encrypted.pem", "not-the-key-password", ErrWrongPassword, "the private key cannot be decrypted"},
		{"legacy-secp256k1-sec1.pem", "", ErrUnsupported, "EC keys on curve secp256k1 are not supported"},
	} {
		t.Run(c.key+"/"+c.detail, func(t *testing.T) {
			for _, load := range []func() error{
				func() error { _, err := LoadFile(producer(c.key), Options{Password: c.pw}); return err },
				func() error {
					_, err := LoadFile(producer("legacy-dsa-cert.pem"), Options{KeyFile: producer(c.key), Password: c.pw})
					return err
				},
				func() error { _, err := InspectFile(producer(c.key), Options{Password: c.pw}); return err },
			} {
				err := load()
				require.ErrorIs(t, err, c.kind)
				assert.NotErrorIs(t, err, ErrCorrupt)
				var kerr *Error
				require.ErrorAs(t, err, &kerr)
				assert.Equal(t, c.detail, kerr.Detail)
				if c.kind == ErrUnsupported {
					assert.Contains(t, kerr.Fix(), "RSA (2048 bits or more) or EC P-256/P-384")
					assert.NotErrorIs(t, err, ErrWrongPassword)
				}
			}
		})
	}
}

// TestUnknownKeyAlgorithmIsUnsupportedAndDamageIsCorrupt: a well-formed PKCS#8
// key of an algorithm x509 does not know is refused as unsupported, naming its
// OID; bytes that are no key at all are corrupt.
func TestUnknownKeyAlgorithmIsUnsupportedAndDamageIsCorrupt(t *testing.T) {
	der, err := asn1.Marshal(struct {
		Version    int
		Algorithm  algorithmIdentifier
		PrivateKey []byte
	}{0, algorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}}, []byte{1, 2, 3}})
	require.NoError(t, err)
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.pem")
	require.NoError(t, os.WriteFile(unknown, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	_, err = LoadFile(unknown, Options{})
	require.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "keys of algorithm 1.3.6.1.4.1.99999.1 are not supported")

	damaged := filepath.Join(dir, "damaged.pem")
	require.NoError(t, os.WriteFile(damaged, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), 0o600))
	_, err = LoadFile(damaged, Options{})
	require.ErrorIs(t, err, ErrCorrupt)
	assert.NotErrorIs(t, err, ErrUnsupported)
}
