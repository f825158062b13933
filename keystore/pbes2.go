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

	// prfs are the HMACs PBKDF2 takes as its PRF (RFC 8018 appendix B.1.2);
	// pbmac1 marks those RFC 9579 lets PBMAC1 use as its MAC in PKCS#12.
	prfs = map[string]hmacAlg{
		"1.2.840.113549.2.7":  {"HMAC-SHA-1", sha1.New, true},
		"1.2.840.113549.2.8":  {"HMAC-SHA-224", sha256.New224, false},
		"1.2.840.113549.2.9":  {"HMAC-SHA-256", sha256.New, true},
		"1.2.840.113549.2.10": {"HMAC-SHA-384", sha512.New384, true},
		"1.2.840.113549.2.11": {"HMAC-SHA-512", sha512.New, true},
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
	plain, err := decryptPBE(info.Algorithm, info.EncryptedData, password, maxIterations)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Kind == ErrWrongPassword {
			e.Detail, e.fix = "the private key cannot be decrypted", hintKeyPassword
		}
		return nil, err
	}
	return plain, nil
}

var (
	oidScrypt       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidPKCS5PBES1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5} // .1, .3, .4, .6, .10, .11: PBES1 with DES or RC2
	oidPKCS12PBE    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
	hintReencrypt   = "re-encrypt with AES: openssl pkcs12 -export (OpenSSL 3 default) or openssl pkcs8 -topk8 -v2 aes-256-cbc"
	pkcs12PBECipher = map[int]struct {
		keyLen int
		name   string
	}{1: {16, "RC4-128"}, 2: {5, "RC4-40"}, 3: {24, "3DES"}, 4: {16, "2-key 3DES"}, 5: {16, "RC2-128"}, 6: {5, "RC2-40"}}
)

// decryptPBE decrypts data encrypted with a password-based scheme: PBES2 with
// PBKDF2 (any PRF) and AES or 3DES, or PKCS#12's own PBE with 3DES, RC2-128 or RC2-40.
// A failed decryption is ErrWrongPassword: that is the password check of these
// schemes. maxIter bounds the key-derivation work a file may ask for.
func decryptPBE(alg algorithmIdentifier, data []byte, password Secret, maxIter int) ([]byte, error) {
	switch a := alg.Algorithm; {
	case a.Equal(oidPBES2):
		return decryptPBES2(alg.Parameters.FullBytes, data, password, maxIter)
	case len(a) == 8 && a[:7].Equal(oidPKCS12PBE):
		return decryptPKCS12PBE(int(a[7]), alg.Parameters.FullBytes, data, password, maxIter)
	case len(a) == 7 && a[:6].Equal(oidPKCS5PBES1):
		return nil, failure(ErrUnsupported, fmt.Sprintf("PBES1 encryption (%s, single DES or RC2 with MD5 or SHA-1) is not supported", a), hintReencrypt, nil)
	}
	return nil, failure(ErrUnsupported, fmt.Sprintf("encryption algorithm %s", alg.Algorithm), hintReencrypt, nil)
}

// hmacAlg is an HMAC of prfs.
type hmacAlg struct {
	name   string
	new    func() hash.Hash
	pbmac1 bool
}

// parsePBKDF2 reads PBKDF2-params (RFC 8018 appendix A.2), refusing an
// iteration count beyond maxIter before any work and a PRF not in prfs (hint
// says how to mend that); an absent PRF is HMAC-SHA-1.
func parsePBKDF2(der []byte, maxIter int, hint string) (pbkdf2Params, hmacAlg, error) {
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(der, &kdf); err != nil || len(rest) > 0 {
		return kdf, hmacAlg{}, failure(ErrCorrupt, "bad PBKDF2 parameters", "", err)
	}
	if kdf.Iterations < 1 || kdf.Iterations > maxIter {
		return kdf, hmacAlg{}, failure(ErrCorrupt, fmt.Sprintf("PBKDF2 iteration count %d out of range", kdf.Iterations), "", nil)
	}
	oid := "1.2.840.113549.2.7" // HMAC-SHA-1, PBKDF2's default
	if len(kdf.PRF.Algorithm) > 0 {
		oid = kdf.PRF.Algorithm.String()
	}
	p, ok := prfs[oid]
	if !ok {
		return kdf, hmacAlg{}, failure(ErrUnsupported, fmt.Sprintf("PBKDF2 PRF %s", kdf.PRF.Algorithm), hint, nil)
	}
	return kdf, p, nil
}

func decryptPBES2(paramsDER, data []byte, password Secret, maxIter int) ([]byte, error) {
	var params pbes2Params
	if rest, err := asn1.Unmarshal(paramsDER, &params); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "bad PBES2 parameters", "", err)
	}
	if params.KeyDerivationFunc.Algorithm.Equal(oidScrypt) {
		return nil, failure(ErrUnsupported, "PBES2 with scrypt key derivation is not supported", hintReencrypt, nil)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, failure(ErrUnsupported, fmt.Sprintf("key derivation %s", params.KeyDerivationFunc.Algorithm), hintReencrypt, nil)
	}
	kdf, prf, err := parsePBKDF2(params.KeyDerivationFunc.Parameters.FullBytes, maxIter, hintReencrypt)
	if err != nil {
		return nil, err
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
		return nil, failure(ErrUnsupported, fmt.Sprintf("cipher %s", enc), hintReencrypt, nil)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, failure(ErrCorrupt, "PBKDF2 key length does not fit the cipher", "", nil)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "bad cipher IV", "", err)
	}
	key, err := pbkdf2.Key(prf.new, string(password), kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, failure(ErrUnsupported, "PBKDF2 parameters", "", err)
	}
	plain, err := decryptCBC(newCipher, key, iv, data)
	if err != nil {
		return nil, failure(ErrWrongPassword, "the contents cannot be decrypted", hintStorePassword, nil)
	}
	return plain, nil
}

// decryptPKCS12PBE decrypts with PKCS#12's PBE (RFC 7292 appendix C: 3DES, RC2-128
// and RC2-40, the last being Java 8's and openssl -legacy's for certificates), key and IV
// from the PKCS#12 key derivation with SHA-1 over the BMPString password.
func decryptPKCS12PBE(scheme int, paramsDER, data []byte, password Secret, maxIter int) ([]byte, error) {
	c, known := pkcs12PBECipher[scheme]
	if !known {
		return nil, failure(ErrUnsupported, fmt.Sprintf("PKCS#12 encryption scheme %d", scheme), hintReencrypt, nil)
	}
	var newCipher func([]byte) (cipher.Block, error)
	switch scheme {
	case 3:
		newCipher = des.NewTripleDESCipher
	case 5, 6: // RC2 with as many effective bits as the key has
		newCipher = rc2WithBits(8 * c.keyLen)
	default:
		return nil, failure(ErrUnsupported, "PKCS#12 encryption with "+c.name+" is not supported", hintReencrypt, nil)
	}
	var params pbeParameter
	if rest, err := asn1.Unmarshal(paramsDER, &params); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "bad PKCS#12 encryption parameters", "", err)
	}
	if params.Iterations < 1 || params.Iterations > maxIter {
		return nil, failure(ErrCorrupt, fmt.Sprintf("iteration count %d out of range", params.Iterations), "", nil)
	}
	for _, pw := range bmpPasswords(password) {
		key := pkcs12KDF(sha1.New, 64, params.Salt, pw, params.Iterations, 1, c.keyLen)
		iv := pkcs12KDF(sha1.New, 64, params.Salt, pw, params.Iterations, 2, 8)
		plain, err := decryptCBC(newCipher, key, iv, data)
		if err == nil {
			return plain, nil
		}
	}
	return nil, failure(ErrWrongPassword, "the contents cannot be decrypted", hintStorePassword, nil)
}

// bmpPasswords gives the password as PKCS#12 encodes it: UTF-16BE with a
// terminating zero. An empty password is tried both as that zero and as no bytes
// at all, as OpenSSL does, since producers disagree.
func bmpPasswords(password Secret) [][]byte {
	pw := append(javaPasswordBytes(password), 0, 0)
	if password == "" {
		return [][]byte{pw, nil}
	}
	return [][]byte{pw}
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2; v is the hash's block size.
func pkcs12KDF(newHash func() hash.Hash, v int, salt, password []byte, iterations int, id byte, size int) []byte {
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		h := newHash()
		h.Write(d)
		h.Write(I)
		a := h.Sum(nil)
		for j := 1; j < iterations; j++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		b := make([]byte, v)
		for i := range b {
			b[i] = a[i%len(a)]
		}
		// I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I.
		for j := 0; j < len(I); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(I[j+k]) + int(b[k]) + carry
				I[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}
