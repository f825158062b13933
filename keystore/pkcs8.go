package keystore

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

// Key algorithms that appear in keystores but that TLS in Go cannot use; each is
// refused by name with what to do instead.
var unsupportedKeyAlgorithms = map[string]string{
	"1.2.840.10040.4.1":     "DSA",
	"1.2.840.113549.1.1.10": "RSA-PSS",
	"1.3.101.111":           "X448",
	"1.3.101.110":           "X25519",
	"1.3.101.113":           "Ed448",
	"1.2.840.10046.2.1":     "Diffie-Hellman (X9.42)",
	"1.2.840.113549.1.3.1":  "Diffie-Hellman (PKCS#3)",
	"1.2.643.7.1.1.1.1":     "GOST R 34.10-2012",
}

const hintKeyAlgorithm = "Salesforce mutual TLS and JWT signing need an RSA (2048 bits or more) or EC P-256/P-384 key: create a new key pair and have its certificate issued"

var oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

// parsePKCS8Key parses a PrivateKeyInfo. A key of an algorithm Go cannot use is
// ErrUnsupported naming the algorithm (or the curve), not ErrCorrupt.
func parsePKCS8Key(der []byte) (any, error) {
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err == nil {
		return key, nil
	}
	var info struct {
		Version    int
		Algorithm  algorithmIdentifier
		PrivateKey []byte
	}
	if _, uerr := asn1.Unmarshal(der, &info); uerr != nil {
		return nil, failure(ErrCorrupt, "the private key cannot be parsed", "", err)
	}
	alg := info.Algorithm.Algorithm
	if name, ok := unsupportedKeyAlgorithms[alg.String()]; ok {
		return nil, failure(ErrUnsupported, name+" keys are not supported", hintKeyAlgorithm, nil)
	}
	if alg.Equal(oidECPublicKey) {
		var curve asn1.ObjectIdentifier
		if _, cerr := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve); cerr == nil {
			if _, known := curveNames[curve.String()]; !known {
				return nil, failure(ErrUnsupported, fmt.Sprintf("EC keys on curve %s are not supported", curveName(curve)), hintKeyAlgorithm, nil)
			}
		} else {
			return nil, failure(ErrUnsupported, "EC keys with explicit curve parameters are not supported", hintKeyAlgorithm, nil)
		}
	}
	if _, known := publicKeyAlgorithms[alg.String()]; !known {
		// Well formed, of an algorithm x509 does not implement: not corrupt.
		return nil, failure(ErrUnsupported, fmt.Sprintf("keys of algorithm %s are not supported", alg), hintKeyAlgorithm, nil)
	}
	return nil, failure(ErrCorrupt, "the private key cannot be parsed", "", err)
}

// curveNames are the curves Go supports; curveName names a few others for errors.
var curveNames = map[string]string{
	"1.2.840.10045.3.1.7": "P-256",
	"1.3.132.0.34":        "P-384",
	"1.3.132.0.35":        "P-521",
	"1.3.132.0.33":        "P-224",
}

func curveName(oid asn1.ObjectIdentifier) string {
	switch oid.String() {
	case "1.3.132.0.10":
		return "secp256k1"
	case "1.2.840.10045.3.1.1":
		return "P-192 (prime192v1)"
	case "1.3.36.3.3.2.8.1.1.7":
		return "brainpoolP256r1"
	case "1.3.36.3.3.2.8.1.1.11":
		return "brainpoolP384r1"
	case "1.3.36.3.3.2.8.1.1.13":
		return "brainpoolP512r1"
	}
	return oid.String()
}
