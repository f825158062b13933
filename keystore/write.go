package keystore

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/sfmtls/sfmtls/internal/atomicfile"
	"github.com/sfmtls/sfmtls/internal/keydefaults"
	"software.sslmate.com/src/go-pkcs12"
)

const (
	// minKeyIterations is the lowest WriteOptions.KeyIterations accepted, RFC 8018's
	// floor; OpenSSL's own default for openssl pkcs8 -topk8 is 2048.
	minKeyIterations = 1000
	maxKeyIterations = 10_000_000

	// pkcs12Iterations matches what keytool itself writes into PKCS#12 stores
	// (Java 17: PBES2 AES-256, HMAC-SHA256 MAC, 10000 iterations).
	pkcs12Iterations = 10_000
)

// WriteOptions says how Encode and WriteFile write an identity.
type WriteOptions struct {
	// Format is FormatJKS, FormatPKCS12 or FormatPEM. JCEKS is read, not written.
	Format Format
	// Alias names the private-key entry in JKS and PKCS#12 (its friendlyName).
	// Empty means the identity's own alias, else keytool's default, "mykey".
	// JKS stores it in lower case, as keytool does. PEM has no aliases and
	// ignores it.
	Alias string
	// Password protects the store (JKS, PKCS#12) and, unless KeyPassword is set,
	// the key. For PEM it encrypts the key as PKCS#8 PBES2 (AES-256-CBC,
	// PBKDF2-HMAC-SHA256, 600,000 iterations). At least 6 characters, keytool's
	// minimum, so that every file written can be maintained with keytool.
	Password Secret
	// KeyPassword protects the key with a password of its own. JKS only: PKCS#12
	// (as Java and OpenSSL read it) and PEM have one password.
	KeyPassword Secret
	// KeyIterations is the PBKDF2 iteration count of an encrypted PEM key; zero
	// means 600,000, OWASP's 2023 recommendation. Between 1000 (RFC 8018's
	// floor) and 10,000,000.
	KeyIterations int
	// UnencryptedKey writes a PEM key in the clear (PKCS#8 "PRIVATE KEY") when
	// Password is empty. Without it, a PEM key needs a password.
	UnencryptedKey bool
	// Overwrite lets WriteFile replace an existing file.
	Overwrite bool
	// Now dates the JKS entry; nil means time.Now.
	Now func() time.Time `json:"-"`
}

func (o WriteOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// badOptions is the shorthand for an ErrBadWriteOptions error.
func badOptions(format Format, detail, hint string) *Error {
	return &Error{Kind: ErrBadWriteOptions, Format: format, Detail: detail, fix: hint}
}

// Encode returns id as a keystore in opts.Format: the key with id.Chain() (leaf
// first, in the order a TLS client sends it). PEM is the chain followed by the
// key. It refuses a chain out of order, since Java and OpenSSL then present a
// chain the server rejects.
func Encode(id *Identity, opts WriteOptions) ([]byte, error) {
	if id == nil {
		return nil, badOptions(opts.Format, "no identity to write", "")
	}
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	chain := id.Chain()
	if err := checkChainOrder(chain); err != nil {
		err.Format = opts.Format
		return nil, err
	}
	alias := opts.Alias
	if alias == "" {
		alias = id.Alias()
	}
	if alias == "" {
		alias = keydefaults.Alias
	}
	switch opts.Format {
	case FormatJKS:
		return encodeJKS(id.Signer(), chain, alias, opts)
	case FormatPKCS12:
		return encodePKCS12(id.Signer(), chain, alias, opts.Password)
	default: // FormatPEM; checkOptions refused the others
		return encodePEM(id.Signer(), chain, opts)
	}
}

// checkOptions refuses options that would write a store its users cannot open.
func checkOptions(opts WriteOptions) error {
	f := opts.Format
	switch f {
	case FormatJKS, FormatPKCS12, FormatPEM:
	default:
		return badOptions(f, fmt.Sprintf("format %s is not written", f), "choose JKS, PKCS12 or PEM")
	}
	if opts.KeyPassword != "" && f != FormatJKS {
		return badOptions(f, "a separate key password exists in JKS only",
			"leave the key password empty: the store password protects the key")
	}
	if f == FormatPEM && opts.Password == "" {
		if opts.UnencryptedKey {
			return nil
		}
		return badOptions(f, "no password to encrypt the private key",
			"give a password, or ask explicitly for an unencrypted key")
	}
	if err := checkPassword(f, "password", opts.Password); err != nil {
		return err
	}
	if opts.KeyPassword != "" {
		if err := checkPassword(f, "key password", opts.KeyPassword); err != nil {
			return err
		}
	}
	if n := opts.KeyIterations; n != 0 && (n < minKeyIterations || n > maxKeyIterations) {
		return badOptions(f, fmt.Sprintf("%d key iterations", n), fmt.Sprintf("use between %d and %d, or 0 for %d", minKeyIterations, maxKeyIterations, keydefaults.PKCS8Iterations))
	}
	if strings.ContainsAny(opts.Alias, "\x00\n\r") || len(opts.Alias) > 0xffff {
		return badOptions(f, "the alias has control characters or is too long", "use a short printable alias")
	}
	return nil
}

func checkPassword(f Format, what string, pw Secret) error {
	if n := len([]rune(string(pw))); n < keydefaults.MinPasswordLen {
		return badOptions(f, fmt.Sprintf("the %s has %d characters", what, n),
			fmt.Sprintf("use at least %d characters, as keytool requires", keydefaults.MinPasswordLen))
	}
	if _, ok := latin1(pw); f == FormatJKS && !ok {
		return badOptions(f, "JKS "+what+"s are limited to Latin-1 characters", "use a Latin-1 password or write PKCS#12")
	}
	return nil
}

// checkChainOrder verifies that each certificate is signed by the next.
func checkChainOrder(chain []*x509.Certificate) *Error {
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return &Error{Kind: ErrChainOrder,
				Detail: fmt.Sprintf("certificate %d (%q) is not issued by certificate %d (%q)", i+1, chain[i].Subject.String(), i+2, chain[i+1].Subject.String()),
				fix:    "give the chain leaf first, each certificate followed by its issuer", Err: err}
		}
	}
	return nil
}

func encodeJKS(key crypto.Signer, chain []*x509.Certificate, alias string, opts WriteOptions) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, &Error{Kind: ErrUnsupported, Format: FormatJKS, Detail: fmt.Sprintf("private key of type %T", key), Err: err}
	}
	certs := make([]jks.Certificate, len(chain))
	for i, c := range chain {
		certs[i] = jks.Certificate{Type: "X.509", Content: c.Raw}
	}
	storePW, _ := latin1(opts.Password)
	keyPW := storePW
	if opts.KeyPassword != "" {
		keyPW, _ = latin1(opts.KeyPassword)
	}
	ks := jks.New(jks.WithMinPasswordLen(keydefaults.MinPasswordLen))
	entry := jks.PrivateKeyEntry{CreationTime: opts.now(), PrivateKey: der, CertificateChain: certs}
	if err := ks.SetPrivateKeyEntry(alias, entry, keyPW); err != nil {
		return nil, &Error{Kind: ErrBadWriteOptions, Format: FormatJKS, Alias: alias, Detail: "the key entry cannot be stored", Err: err}
	}
	var buf bytes.Buffer
	if err := ks.Store(&buf, storePW); err != nil {
		return nil, &Error{Kind: ErrBadWriteOptions, Format: FormatJKS, Detail: "the store cannot be written", Err: err}
	}
	return buf.Bytes(), nil
}

func encodePEM(key crypto.Signer, chain []*x509.Certificate, opts WriteOptions) ([]byte, error) {
	var buf bytes.Buffer
	for _, c := range chain {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) // writes to a bytes.Buffer cannot fail
	}
	var block *pem.Block
	if opts.Password == "" {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, &Error{Kind: ErrUnsupported, Format: FormatPEM, Detail: fmt.Sprintf("private key of type %T", key), Err: err}
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	} else {
		iterations := opts.KeyIterations
		if iterations == 0 {
			iterations = keydefaults.PKCS8Iterations
		}
		var err error
		if block, err = encryptPKCS8(key, opts.Password, iterations); err != nil {
			return nil, err
		}
	}
	_ = pem.Encode(&buf, block)
	return buf.Bytes(), nil
}

// EncryptPKCS8 returns key as an "ENCRYPTED PRIVATE KEY" PEM block: PKCS#8 with
// PBES2 (RFC 8018), AES-256-CBC and PBKDF2-HMAC-SHA256 with 600,000 iterations, as
// openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 writes it.
func EncryptPKCS8(key crypto.Signer, password Secret) (*pem.Block, error) {
	return encryptPKCS8(key, password, keydefaults.PKCS8Iterations)
}

func encryptPKCS8(key crypto.Signer, password Secret, iterations int) (*pem.Block, error) {
	if password == "" {
		return nil, badOptions(FormatPEM, "no password to encrypt the private key", "give a password")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, &Error{Kind: ErrUnsupported, Format: FormatPEM, Detail: fmt.Sprintf("private key of type %T", key), Err: err}
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	aesKey, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 32)
	if err != nil {
		return nil, &Error{Kind: ErrBadWriteOptions, Format: FormatPEM, Detail: "the key cannot be derived from the password", Err: err}
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(der)%aes.BlockSize
	plain := append(der, bytes.Repeat([]byte{byte(pad)}, pad)...)
	encrypted := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(encrypted, plain)
	clear(plain)

	kdf, err := asn1.Marshal(struct {
		Salt       []byte
		Iterations int
		PRF        algorithmIdentifier
	}{salt, iterations, algorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue}})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: algorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		EncryptionScheme:  algorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	out, err := asn1.Marshal(struct {
		Algorithm     algorithmIdentifier
		EncryptedData []byte
	}{algorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}, encrypted})
	if err != nil {
		return nil, err
	}
	return &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: out}, nil
}

var oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}

// encodePKCS12 writes with go-pkcs12's Modern encoder (PBES2 AES-256, HMAC-SHA256
// MAC), which OpenSSL 3 and Java 17 read, then names the key bag with alias.
func encodePKCS12(key crypto.Signer, chain []*x509.Certificate, alias string, password Secret) ([]byte, error) {
	data, err := pkcs12.Modern.WithIterations(pkcs12Iterations).Encode(key, chain[0], chain[1:], string(password))
	if err != nil {
		return nil, &Error{Kind: ErrBadWriteOptions, Format: FormatPKCS12, Detail: "the store cannot be written", Err: err}
	}
	named, err := setPKCS12FriendlyName(data, alias, password)
	if err != nil {
		return nil, &Error{Kind: ErrBadWriteOptions, Format: FormatPKCS12, Alias: alias, Detail: "the alias cannot be set", Err: err}
	}
	return named, nil
}

// WriteFile encodes id (see Encode) and writes it to path: mode 0600,
// atomically (a reader never sees half a file, a failure leaves none), replacing
// an existing file or symbolic link only with opts.Overwrite.
func WriteFile(path string, id *Identity, opts WriteOptions) error {
	data, err := Encode(id, opts)
	if err != nil {
		return withSource(err, path, opts.Format)
	}
	err = atomicfile.WriteSecret(path, data, opts.Overwrite)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return &Error{Source: path, Format: opts.Format, Kind: ErrFileExists, fix: "choose another file name or allow overwriting"}
	}
	return &Error{Source: path, Format: opts.Format, Kind: ErrUnwritable, Err: err}
}

// latin1 gives the password bytes keystore-go writes with: one byte per Java
// char, which equals Java's own encoding only for Latin-1 passwords.
func latin1(s Secret) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range string(s) {
		if r > 0xff {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}
