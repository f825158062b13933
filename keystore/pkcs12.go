package keystore

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// parsePKCS12 reads a PKCS#12 store with go-pkcs12. ToPEM exposes every bag with
// its friendlyName and localKeyId, which pairs keys with certificates and so
// serves stores holding several keys; DecodeChain and DecodeTrustStore cover the
// layouts ToPEM refuses (Java's trusted-certificate entries).
func parsePKCS12(data []byte, password Secret) (*store, error) {
	//lint:ignore SA1019 only ToPEM exposes friendlyName and localKeyId, which multi-key stores need
	blocks, err := pkcs12.ToPEM(data, string(password))
	if err == nil {
		return pkcs12FromBags(blocks)
	}
	if cause := classifyPKCS12(err); cause != nil {
		return nil, cause
	}
	// Java writes trusted-certificate entries with an attribute ToPEM refuses; their
	// aliases are then not readable, so such entries carry no alias.
	if certs, terr := pkcs12.DecodeTrustStore(data, string(password)); terr == nil {
		s := &store{}
		for _, c := range certs {
			s.entries = append(s.entries, entry{kind: TrustedCertEntry, certs: []*x509.Certificate{c}})
		}
		return s, nil
	}
	key, leaf, cas, derr := pkcs12.DecodeChain(data, string(password))
	if derr != nil {
		if cause := classifyPKCS12(derr); cause != nil {
			return nil, cause
		}
		return nil, failure(ErrUnsupported, "", "re-export it with openssl pkcs12 -export", err)
	}
	// This layout hides the bag names: the key entry is the store's only one, unnamed.
	return &store{
		entries: []entry{{kind: PrivateKeyEntry, certs: []*x509.Certificate{leaf}, decrypt: func(Secret) (any, error) { return key, nil }}},
		pool:    cas,
	}, nil
}

// classifyPKCS12 maps go-pkcs12's errors to this package's kinds; nil means the
// layout is one that another decoder may read.
func classifyPKCS12(err error) error {
	var notImpl pkcs12.NotImplementedError
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return failure(ErrWrongPassword, "the integrity check (MAC) failed", hintStorePassword, nil)
	case errors.Is(err, pkcs12.ErrDecryption):
		return failure(ErrWrongPassword, "the contents cannot be decrypted", hintStorePassword, nil)
	case errors.As(err, &notImpl), strings.Contains(err.Error(), "unknown attribute"),
		strings.Contains(err.Error(), "key bag"), strings.Contains(err.Error(), "unknown private key type"):
		return nil
	}
	return failure(ErrCorrupt, "", "", err)
}

func pkcs12FromBags(blocks []*pem.Block) (*store, error) {
	type keyBag struct {
		name, id string
		key      any
	}
	var keys []keyBag
	var certs []*x509.Certificate
	certID := map[*x509.Certificate]string{}
	certName := map[*x509.Certificate]string{}
	for _, b := range blocks {
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, failure(ErrCorrupt, "a certificate cannot be parsed", "", err)
			}
			certs = append(certs, c)
			certID[c], certName[c] = b.Headers["localKeyId"], b.Headers["friendlyName"]
		case "PRIVATE KEY": // go-pkcs12 labels PKCS#1 and SEC1 bytes so
			key, err := parseBareKey(b.Bytes)
			if err != nil {
				return nil, failure(ErrCorrupt, "a private key cannot be parsed", "", err)
			}
			keys = append(keys, keyBag{name: b.Headers["friendlyName"], id: b.Headers["localKeyId"], key: key})
		}
	}
	s := &store{}
	owned := map[*x509.Certificate]bool{}
	for _, k := range keys {
		e := entry{alias: k.name, kind: PrivateKeyEntry, decrypt: func(Secret) (any, error) { return k.key, nil }}
		for _, c := range certs {
			if k.id != "" && certID[c] == k.id {
				e.certs = append(e.certs, c)
				owned[c] = true
				if e.alias == "" {
					e.alias = certName[c]
				}
			}
		}
		s.entries = append(s.entries, e)
	}
	for _, c := range certs {
		if !owned[c] {
			s.pool = append(s.pool, c)
		}
	}
	if len(keys) == 0 {
		// A certificate-only PKCS#12 from OpenSSL: report its certificates.
		for _, c := range s.pool {
			s.entries = append(s.entries, entry{alias: certName[c], kind: TrustedCertEntry, certs: []*x509.Certificate{c}})
		}
	}
	return s, nil
}

// parseBareKey parses a DER private key in any of PKCS#1, SEC1 or PKCS#8.
func parseBareKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("not a PKCS#1, SEC1 or PKCS#8 private key")
	}
	return k, nil
}
