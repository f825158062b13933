package keystore

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// unusableCert is what can still be read from a certificate that crypto/x509
// refuses (a key on a curve Go does not implement, an algorithm it does not
// know): enough to list it as keytool does and to say why it cannot be used.
type unusableCert struct {
	subject, issuer, serial string
	notBefore, notAfter     time.Time
	keyAlgorithm            string // "EC brainpoolP256r1", "DSA", or the OID
	keyBits                 int    // the curve's size, where known
	selfIssued              bool
	why                     string // crypto/x509's refusal
}

// tbsCertificate is the start of RFC 5280's TBSCertificate; encoding/asn1
// allows the fields that follow (unique IDs, extensions).
type tbsCertificate struct {
	Version      int `asn1:"optional,explicit,default:0,tag:0"`
	SerialNumber *big.Int
	Signature    algorithmIdentifier
	Issuer       asn1.RawValue
	Validity     struct{ NotBefore, NotAfter time.Time }
	Subject      asn1.RawValue
	PublicKey    struct {
		Algorithm algorithmIdentifier
		Key       asn1.BitString
	}
}

// publicKeyAlgorithms names the public-key algorithms a keystore may hold.
var publicKeyAlgorithms = map[string]string{
	"1.2.840.113549.1.1.1": "RSA",
	"1.2.840.10045.2.1":    "EC",
	"1.3.101.112":          "Ed25519",
}

// parseUnusableCert reads the identifying fields of a certificate x509 refused
// with why; ok is false when even those cannot be read (the bytes are damaged).
func parseUnusableCert(der []byte, why error) (*unusableCert, bool) {
	var cert struct {
		TBS                asn1.RawValue
		SignatureAlgorithm algorithmIdentifier
		Signature          asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &cert); err != nil || len(rest) > 0 {
		return nil, false
	}
	var tbs tbsCertificate
	if _, err := asn1.Unmarshal(cert.TBS.FullBytes, &tbs); err != nil || tbs.SerialNumber == nil {
		return nil, false
	}
	u := &unusableCert{
		subject:    rdnString(tbs.Subject.FullBytes),
		issuer:     rdnString(tbs.Issuer.FullBytes),
		serial:     fmt.Sprintf("%x", tbs.SerialNumber),
		notBefore:  tbs.Validity.NotBefore.UTC(),
		notAfter:   tbs.Validity.NotAfter.UTC(),
		selfIssued: bytes.Equal(tbs.Subject.FullBytes, tbs.Issuer.FullBytes),
		why:        why.Error(),
	}
	alg := tbs.PublicKey.Algorithm
	name, known := publicKeyAlgorithms[alg.Algorithm.String()]
	if !known {
		name, known = unsupportedKeyAlgorithms[alg.Algorithm.String()]
	}
	if !known {
		name = alg.Algorithm.String()
	}
	if alg.Algorithm.Equal(oidECPublicKey) {
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &curve); err == nil {
			name += " " + curveName(curve)
			u.keyBits = curveBits[curve.String()]
		} else {
			name += " with explicit curve parameters"
		}
	}
	u.keyAlgorithm = name
	return u, true
}

// curveBits gives the size of the curves curveName names, as keytool prints it.
var curveBits = map[string]int{
	"1.3.132.0.10":          256,
	"1.2.840.10045.3.1.1":   192,
	"1.3.36.3.3.2.8.1.1.7":  256,
	"1.3.36.3.3.2.8.1.1.11": 384,
	"1.3.36.3.3.2.8.1.1.13": 512,
}

func rdnString(der []byte) string {
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdn); err != nil {
		return "(unreadable name)"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}

// warning says why the certificate is listed but cannot be used.
func (u *unusableCert) warning() string {
	return fmt.Sprintf("this certificate's key (%s) cannot be used here (%s): it cannot serve as a trust anchor or in a chain", u.keyAlgorithm, u.why)
}
