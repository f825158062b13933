package keystore

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// parsePEM reads certificates and private keys from PEM text. Keys may be PKCS#1,
// PKCS#8 or SEC1, encrypted as PKCS#8 PBES2 or with legacy Proc-Type headers.
// Each key becomes a private-key entry; with no key, each certificate is a
// trusted-certificate entry. The parts (a certificate file and its key file)
// are read as one text.
func parsePEM(parts ...[]byte) (*store, error) {
	var certs []*x509.Certificate
	var unusable []*unusableCert
	var keys []*pem.Block
	sawBlock := false
	for _, part := range parts {
		for rest := part; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			sawBlock = true
			switch b.Type {
			case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
				c, err := x509.ParseCertificate(b.Bytes)
				if err != nil {
					// A certificate x509 refuses (an unsupported curve) is listed, not corrupt.
					if u, ok := parseUnusableCert(b.Bytes, err); ok {
						unusable = append(unusable, u)
						continue
					}
					return nil, failure(ErrCorrupt, fmt.Sprintf("certificate %d cannot be parsed", len(certs)+len(unusable)+1), "", err)
				}
				certs = append(certs, c)
			case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY":
				keys = append(keys, b)
			}
		}
	}
	if !sawBlock {
		return nil, failure(ErrCorrupt, "no complete PEM block", "a PEM file has -----BEGIN ...----- and -----END ...----- lines", nil)
	}
	s := &store{}
	for _, b := range keys {
		e := entry{kind: PrivateKeyEntry, certs: certs, decrypt: func(pw Secret) (any, error) { return decryptPEMKey(b, pw) }}
		s.entries = append(s.entries, e)
	}
	if len(keys) == 0 {
		for _, c := range certs {
			s.entries = append(s.entries, entry{kind: TrustedCertEntry, certs: []*x509.Certificate{c}})
		}
		for _, u := range unusable {
			s.entries = append(s.entries, entry{kind: TrustedCertEntry, unusable: u})
		}
	} else {
		for _, u := range unusable {
			s.warnings = append(s.warnings, fmt.Sprintf("skipped certificate, subject %q, serial %s, key %s: it cannot be used here (%s)", u.subject, u.serial, u.keyAlgorithm, u.why))
		}
	}
	return s, nil
}

// decryptPEMKey decrypts and parses a PEM key. A key of an algorithm TLS in Go
// cannot use is ErrUnsupported naming it, whether or not it was encrypted, and a
// wrong password is said only when a decryption failed.
func decryptPEMKey(b *pem.Block, password Secret) (any, error) {
	der := b.Bytes
	switch {
	case b.Type == "DSA PRIVATE KEY": // OpenSSL's traditional DSA layout, encrypted or not
		return nil, failure(ErrUnsupported, "DSA keys are not supported", hintKeyAlgorithm, nil)
	case b.Type == "ENCRYPTED PRIVATE KEY":
		if password == "" {
			return nil, failure(ErrWrongPassword, "the private key is encrypted and no password was given", hintKeyPassword, nil)
		}
		plain, err := decryptPKCS8(der, password)
		if err != nil {
			return nil, err
		}
		der = plain
	//lint:ignore SA1019 legacy Proc-Type keys are still issued; reading them is required
	case x509.IsEncryptedPEMBlock(b):
		if password == "" {
			return nil, failure(ErrWrongPassword, "the private key is encrypted and no password was given", hintKeyPassword, nil)
		}
		//lint:ignore SA1019 see above
		plain, err := x509.DecryptPEMBlock(b, []byte(password))
		if err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
			}
			return nil, failure(ErrUnsupported, "legacy PEM encryption", "", err)
		}
		key, err := parseBareKey(plain)
		if errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		if err != nil {
			// Padding checks pass by chance for about one wrong password in 256.
			return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
		}
		return key, nil
	}
	if b.Type == "PRIVATE KEY" || b.Type == "ENCRYPTED PRIVATE KEY" {
		// The label says PKCS#8: parsed as such first, rather than after
		// PKCS#1 and SEC1 have failed. A DER that parses is a key of one
		// layout only; one that does not goes through every layout below.
		if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
			return key, nil
		}
	}
	key, err := parseBareKey(der)
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, ErrUnsupported): // the key was read (and decrypted): it names its algorithm
		return nil, err
	case b.Type == "ENCRYPTED PRIVATE KEY":
		// The padding check passed by chance (about one wrong password in 256).
		return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
	}
	return nil, err
}
