package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"fmt"
	"hash"
)

// Encrypted PKCS#8 with PBES2 (RFC 8018), as openssl pkcs8 -topk8 writes it by
// default; the standard library does not decrypt it.
var (
	oidPBES2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidDESEDE3   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}

	prfs = map[string]func() hash.Hash{
		"1.2.840.113549.2.7":  sha1.New,
		"1.2.840.113549.2.8":  sha256.New224,
		"1.2.840.113549.2.9":  sha256.New,
		"1.2.840.113549.2.10": sha512.New384,
		"1.2.840.113549.2.11": sha512.New,
	}
)

type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                 `asn1:"optional"`
	PRF        algorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 returns the plaintext PKCS#8 DER of an EncryptedPrivateKeyInfo.
func decryptPKCS8(der []byte, password Secret) ([]byte, error) {
	var info struct {
		Algorithm     algorithmIdentifier
		EncryptedData []byte
	}
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "the encrypted private key cannot be parsed", "", err)
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, failure(ErrUnsupported, fmt.Sprintf("key encryption %s", info.Algorithm.Algorithm),
			"re-encrypt the key with openssl pkcs8 -topk8 -v2 aes-256-cbc", nil)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "bad PBES2 parameters", "", err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, failure(ErrUnsupported, fmt.Sprintf("key derivation %s", params.KeyDerivationFunc.Algorithm),
			"re-encrypt the key with openssl pkcs8 -topk8 -v2 aes-256-cbc", nil)
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "bad PBKDF2 parameters", "", err)
	}
	if kdf.Iterations < 1 || kdf.Iterations > maxIterations {
		return nil, failure(ErrCorrupt, fmt.Sprintf("PBKDF2 iteration count %d out of range", kdf.Iterations), "", nil)
	}
	prf := sha1.New
	if len(kdf.PRF.Algorithm) > 0 {
		var ok bool
		if prf, ok = prfs[kdf.PRF.Algorithm.String()]; !ok {
			return nil, failure(ErrUnsupported, fmt.Sprintf("PBKDF2 PRF %s", kdf.PRF.Algorithm), "", nil)
		}
	}
	var newCipher func([]byte) (cipher.Block, error)
	var keyLen int
	switch enc := params.EncryptionScheme.Algorithm; {
	case enc.Equal(oidAES128CBC):
		newCipher, keyLen = aes.NewCipher, 16
	case enc.Equal(oidAES192CBC):
		newCipher, keyLen = aes.NewCipher, 24
	case enc.Equal(oidAES256CBC):
		newCipher, keyLen = aes.NewCipher, 32
	case enc.Equal(oidDESEDE3):
		newCipher, keyLen = des.NewTripleDESCipher, 24
	default:
		return nil, failure(ErrUnsupported, fmt.Sprintf("cipher %s", enc), "re-encrypt the key with openssl pkcs8 -topk8 -v2 aes-256-cbc", nil)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, failure(ErrCorrupt, "PBKDF2 key length does not fit the cipher", "", nil)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "bad cipher IV", "", err)
	}
	key, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, failure(ErrUnsupported, "PBKDF2 parameters", "", err)
	}
	plain, err := decryptCBC(newCipher, key, iv, info.EncryptedData)
	if err != nil {
		return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
	}
	return plain, nil
}
