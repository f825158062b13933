package keystore

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// oidPBEWithMD5AndTripleDES is Sun's proprietary key protection in JCEKS stores.
var oidPBEWithMD5AndTripleDES = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 19, 1}

// maxIterations bounds key-derivation work that a file asks for. Real stores use
// up to a few hundred thousand; more is a denial-of-service attempt.
const maxIterations = 10_000_000

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbeParameter struct {
	Salt       []byte
	Iterations int
}

// parseJCEKS reads a JCEKS store; no library reads this format. maxIter bounds
// the key derivation work a file may ask for.
func parseJCEKS(data []byte, password Secret, maxIter int) (*store, error) {
	entries, skipped, err := parseJavaStore(data, password)
	if err != nil {
		return nil, err
	}
	return javaStore(entries, skipped, func(e javaEntry, keyPassword Secret) (any, error) {
		return decryptJCEKSKey(e.protectedKey, keyPassword, maxIter)
	}), nil
}

func decryptJCEKSKey(protected []byte, password Secret, maxIter int) (any, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(protected, &info); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "the protected key is not an EncryptedPrivateKeyInfo", "", err)
	}
	if !info.Algorithm.Algorithm.Equal(oidPBEWithMD5AndTripleDES) {
		return nil, failure(ErrUnsupported, fmt.Sprintf("key protection algorithm %s", info.Algorithm.Algorithm), "", nil)
	}
	var params pbeParameter
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "bad key protection parameters", "", err)
	}
	if len(params.Salt) != 8 || params.Iterations < 1 || params.Iterations > maxIter {
		return nil, failure(ErrCorrupt, "bad key protection parameters", "", nil)
	}
	key, iv := sunPBEKeyAndIV(params.Salt, password, params.Iterations)
	plain, err := decryptCBC(des.NewTripleDESCipher, key, iv, info.EncryptedData)
	if err != nil {
		return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
	}
	var pki struct {
		Version    int
		Algorithm  algorithmIdentifier
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(plain, &pki); err != nil || len(rest) > 0 {
		// Padding that happens to check out under a wrong password leaves garbage.
		return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
	}
	// The password was right: a key that still fails is refused for what it is.
	return parsePKCS8Key(plain)
}

// sunPBEKeyAndIV derives the 3DES key and IV as com.sun.crypto.provider.PBES1Core
// does for PBEWithMD5AndTripleDES: each half of the salt is hashed with the password
// iterations times; equal halves get the first one reversed.
func sunPBEKeyAndIV(salt []byte, password Secret, iterations int) (key, iv []byte) {
	s := append([]byte(nil), salt...)
	if string(s[:4]) == string(s[4:]) {
		s[0], s[3] = s[3], s[0]
		s[1], s[2] = s[2], s[1]
	}
	pw := make([]byte, 0, len(password))
	for _, r := range string(password) {
		pw = append(pw, byte(r)&0x7f) // PBEKey keeps 7 bits of each char
	}
	out := make([]byte, 0, 32)
	for half := 0; half < 2; half++ {
		digest := s[half*4 : half*4+4]
		for i := 0; i < iterations; i++ {
			h := md5.New()
			h.Write(digest)
			h.Write(pw)
			digest = h.Sum(nil)
		}
		out = append(out, digest...)
	}
	return out[:24], out[24:32]
}

// decryptCBC decrypts and removes PKCS#5 padding, failing on a bad pad.
func decryptCBC(newCipher func([]byte) (cipher.Block, error), key, iv, data []byte) ([]byte, error) {
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(data) == 0 || len(data)%bs != 0 || len(iv) != bs {
		return nil, fmt.Errorf("ciphertext is not a whole number of blocks")
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > bs {
		return nil, fmt.Errorf("bad padding")
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("bad padding")
		}
	}
	return plain[:len(plain)-pad], nil
}
