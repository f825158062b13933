// Package certgen makes what a Salesforce integration needs before its first
// call: a private key and a certificate signing request (CSR) for the mutual TLS
// client certificate a CA signs, a self-signed RSA certificate for the JWT
// bearer flow, and a check of key, certificate and chain before they are
// written into a keystore (see keystore.WriteFile).
//
// Salesforce's two certificates differ: the mutual TLS client certificate must be
// CA-signed and carry the clientAuth extended key usage (since 2026-06-15 public
// CAs no longer issue certificates that are both serverAuth and clientAuth), while
// the certificate uploaded to the connected app or external client app for the JWT
// bearer flow may be self-signed but must hold an RSA key (RS256 only).
//
// Errors are *Error values matching the sentinel errors with errors.Is; they
// never contain key material.
package certgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/internal/keydefaults"
)

// KeyType names a kind of private key GenerateKey makes.
type KeyType string

// The key types GenerateKey makes. RSA keys serve both mutual TLS and the JWT
// bearer flow; ECDSA keys serve mutual TLS only.
const (
	RSA2048 KeyType = "rsa2048"
	RSA3072 KeyType = "rsa3072"
	RSA4096 KeyType = "rsa4096"
	P256    KeyType = "p256"
	P384    KeyType = "p384"
)

// KeyTypes lists every KeyType, in the order a help text shows them.
func KeyTypes() []KeyType { return []KeyType{RSA2048, RSA3072, RSA4096, P256, P384} }

// ParseKeyType reads a KeyType case-insensitively, as a command-line flag gives it.
func ParseKeyType(s string) (KeyType, error) {
	for _, kt := range KeyTypes() {
		if strings.EqualFold(s, string(kt)) {
			return kt, nil
		}
	}
	return "", &Error{Kind: ErrUnsupportedKey, Detail: fmt.Sprintf("key type %q", s), fix: "choose one of " + keyTypeList()}
}

func keyTypeList() string {
	names := make([]string, 0, len(KeyTypes()))
	for _, kt := range KeyTypes() {
		names = append(names, string(kt))
	}
	return strings.Join(names, ", ")
}

// GenerateKey makes a new private key of type kt from crypto/rand.
func GenerateKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, &Error{Kind: ErrUnsupportedKey, Detail: fmt.Sprintf("key type %q", kt), fix: "choose one of " + keyTypeList()}
}

// checkKey accepts the keys GenerateKey makes: RSA of at least 2048 bits, ECDSA
// on P-256 or P-384.
func checkKey(key crypto.Signer) error {
	if key == nil {
		return &Error{Kind: ErrUnsupportedKey, Detail: "no key"}
	}
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return &Error{Kind: ErrUnsupportedKey, Detail: fmt.Sprintf("RSA key of %d bits", k.N.BitLen()), fix: "use at least 2048 bits"}
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
		return &Error{Kind: ErrUnsupportedKey, Detail: "ECDSA key on " + k.Curve.Params().Name, fix: "use P-256 or P-384"}
	}
	return &Error{Kind: ErrUnsupportedKey, Detail: fmt.Sprintf("key of type %T", key.Public()), fix: "use RSA or ECDSA (P-256, P-384)"}
}

// checkSubject requires a common name and a two-letter country code, which CAs
// refuse requests without.
func checkSubject(subj pkix.Name) error {
	if strings.TrimSpace(subj.CommonName) == "" {
		return &Error{Kind: ErrBadSubject, Detail: "no common name (CN)", fix: "name the integration, for example CN=mulesoft-orders.example.com"}
	}
	for _, c := range subj.Country {
		if len(c) != 2 || strings.ToUpper(c) != c {
			return &Error{Kind: ErrBadSubject, Detail: fmt.Sprintf("country %q", c), fix: "use the two-letter ISO 3166 code, for example C=US"}
		}
	}
	return nil
}

// CSROptions adds optional content to a CSR.
type CSROptions struct {
	// DNSNames and EmailAddresses become subjectAltName entries. Salesforce does
	// not check them; some CAs require one.
	DNSNames       []string
	EmailAddresses []string
}

var (
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidClientAuth  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
)

// NewCSR returns a PEM "CERTIFICATE REQUEST" for key and subj, signed by key, that
// asks for the clientAuth extended key usage only (no serverAuth: public CAs no
// longer issue dual-use certificates) and the key usage digitalSignature, plus
// keyEncipherment for RSA keys. The CA signs it into the mutual TLS client
// certificate uploaded to Salesforce.
func NewCSR(key crypto.Signer, subj pkix.Name, opts CSROptions) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkSubject(subj); err != nil {
		return nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidClientAuth})
	if err != nil {
		return nil, err
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := key.Public().(*rsa.PublicKey); ok {
		usage |= x509.KeyUsageKeyEncipherment
	}
	ku, err := marshalKeyUsage(usage)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.CertificateRequest{
		Subject:        subj,
		DNSNames:       opts.DNSNames,
		EmailAddresses: opts.EmailAddresses,
		ExtraExtensions: []pkix.Extension{
			{Id: oidKeyUsage, Critical: true, Value: ku},
			{Id: oidExtKeyUsage, Value: eku},
		},
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, &Error{Kind: ErrBadSubject, Detail: "the request cannot be created", Err: err}
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// marshalKeyUsage encodes a KeyUsage extension value as RFC 5280 4.2.1.3 has it:
// a BIT STRING whose bit 0 is digitalSignature.
func marshalKeyUsage(ku x509.KeyUsage) ([]byte, error) {
	var b [2]byte
	n := 0
	for i := 0; i < 9; i++ {
		if ku&(1<<i) != 0 {
			b[i/8] |= 0x80 >> (i % 8)
			n = i + 1
		}
	}
	l := (n + 7) / 8
	return asn1.Marshal(asn1.BitString{Bytes: b[:l], BitLength: n})
}

// NewJWTCertificate returns a self-signed certificate for key, to upload to the
// connected app or external client app for the OAuth 2.0 JWT bearer flow. The key
// must be RSA (Salesforce verifies RS256 only). The certificate is valid from five
// minutes ago (clock skew) for validity, or two years when zero; it is
// not a CA and carries the key usage digitalSignature.
func NewJWTCertificate(key crypto.Signer, subj pkix.Name, validity time.Duration) (*x509.Certificate, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if _, ok := key.Public().(*rsa.PublicKey); !ok {
		return nil, &Error{Kind: ErrUnsupportedKey, Detail: fmt.Sprintf("a JWT signing key of type %T; Salesforce's JWT bearer flow verifies RS256 only", key.Public()),
			fix: "use an RSA key (rsa2048 or larger)"}
	}
	return NewPlaceholderCertificate(key, subj, validity)
}

// NewPlaceholderCertificate returns a self-signed certificate for any key
// GenerateKey makes, valid like NewJWTCertificate's. It lets a key wait in a JKS
// or PKCS#12 store, which hold no key without a certificate, until the CA's
// answer to the CSR replaces it, as keytool -genkeypair does. Salesforce refuses
// it for mutual TLS.
func NewPlaceholderCertificate(key crypto.Signer, subj pkix.Name, validity time.Duration) (*x509.Certificate, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkSubject(subj); err != nil {
		return nil, err
	}
	if validity < 0 {
		return nil, &Error{Kind: ErrBadValidity, Detail: fmt.Sprintf("validity %s", validity), fix: "give a positive validity, for example 730 days"}
	}
	if validity == 0 {
		validity = keydefaults.JWTValidity
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(pub) // RFC 5280 4.2.1.2 method 1 uses SHA-1 of the key; an identifier, not a security control
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)), // never zero
		Subject:               subj,
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski[:],
	}
	if _, ok := key.Public().(*rsa.PublicKey); ok {
		tmpl.SignatureAlgorithm = x509.SHA256WithRSA
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, &Error{Kind: ErrBadSubject, Detail: "the certificate cannot be created", Err: err}
	}
	return x509.ParseCertificate(der)
}

// CertificatePEM returns certificates as PEM, in order: what is uploaded to
// Salesforce or sent to a CA.
func CertificatePEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}
