package keystore

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/asn1"
	"fmt"
)

// oidJKSKeyProtector is Sun's proprietary key protection in JKS stores.
var oidJKSKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}

// parseJKS reads a JKS store. parseJavaStore bounds every length and checks the
// integrity digest; keys are recovered here with Sun's JKS key protector, over the
// password's UTF-16 as Java does, so passwords beyond Latin-1 work.
func parseJKS(data []byte, password Secret) (*store, error) {
	entries, skipped, err := parseJavaStore(data, password)
	if err != nil {
		return nil, err
	}
	return javaStore(entries, skipped, func(e javaEntry, keyPassword Secret) (any, error) {
		plain, err := recoverJKSKey(e.protectedKey, keyPassword)
		if err != nil {
			return nil, err
		}
		return parsePKCS8Key(plain)
	}), nil
}

// recoverJKSKey undoes sun.security.provider.KeyProtector: the data is salt (20
// bytes) || key XOR keystream || SHA-1(password || key), the keystream being
// SHA-1 chained over the password from the salt.
func recoverJKSKey(protected []byte, password Secret) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(protected, &info); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "the protected key is not an EncryptedPrivateKeyInfo", "", err)
	}
	if !info.Algorithm.Algorithm.Equal(oidJKSKeyProtector) {
		return nil, failure(ErrUnsupported, fmt.Sprintf("key protection algorithm %s", info.Algorithm.Algorithm), "", nil)
	}
	const n = sha1.Size
	data := info.EncryptedData
	if len(data) < 2*n+1 {
		return nil, failure(ErrCorrupt, "the protected key is too short", "", nil)
	}
	salt, enc, check := data[:n], data[n:len(data)-n], data[len(data)-n:]
	pw := javaPasswordBytes(password)
	plain := make([]byte, len(enc))
	digest := salt
	for off := 0; off < len(enc); off += n {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for i := 0; i < n && off+i < len(enc); i++ {
			plain[off+i] = enc[off+i] ^ digest[i]
		}
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(plain)
	if subtle.ConstantTimeCompare(h.Sum(nil), check) != 1 {
		return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
	}
	return plain, nil
}
