package keystore

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// PKCS#12 (RFC 7292) as every producer writes it: OpenSSL (with or without key
// encryption, MAC or legacy ciphers), keytool (secret keys, trusted certificates,
// key passwords unlike the store's), NSS/Firefox (BER, one authenticated-safe part
// per bag), Java 8 (RC2-40 certificates, 3DES keys), Python cryptography,
// node-forge and go-pkcs12. go-pkcs12 refuses most of these layouts, so the
// structure is read here, RC2 included (rc2.go); go-pkcs12 only writes.
var (
	oidPKCS7Data          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidPKCS7EncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidBagPrefix          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1}
	oidCertX509           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidJavaTrusted        = asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}
	oidPBMAC1             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}

	macHashes = map[string]struct {
		name  string
		new   func() hash.Hash
		block int
	}{
		"1.3.14.3.2.26":          {"SHA-1", sha1.New, 64},
		"2.16.840.1.101.3.4.2.4": {"SHA-224", sha256.New224, 64},
		"2.16.840.1.101.3.4.2.1": {"SHA-256", sha256.New, 64},
		"2.16.840.1.101.3.4.2.2": {"SHA-384", sha512.New384, 128},
		"2.16.840.1.101.3.4.2.3": {"SHA-512", sha512.New, 128},
		"2.16.840.1.101.3.4.2.5": {"SHA-512/224", sha512.New512_224, 128},
		"2.16.840.1.101.3.4.2.6": {"SHA-512/256", sha512.New512_256, 128},
	}
)

// maxMACKeyLen bounds PBMAC1's key length: PBKDF2's work grows with it, and no
// HMAC here gains from a key longer than SHA-512's output.
const maxMACKeyLen = 64

const hintMAC = "re-export it with a MAC this package verifies: openssl pkcs12 -export -macalg sha256 (or -pbmac1_pbkdf2 on OpenSSL 3.4+)"

// Bag types, the last arc under oidBagPrefix.
const (
	bagKey = 1 + iota
	bagShroudedKey
	bagCert
	bagCRL
	bagSecret
	bagSafeContents
)

// maxBagNesting bounds safeContentsBag recursion.
const maxBagNesting = 4

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm algorithmIdentifier
	Digest    []byte
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type encryptedData struct {
	Version int
	Info    encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Algorithm   algorithmIdentifier
	Content     asn1.RawValue `asn1:"tag:0,optional"`
}

// p12Key and p12Cert are bags as found, before keys are paired with certificates.
type p12Key struct {
	name, id string
	der      []byte
	shrouded bool
}

type p12Cert struct {
	name, id    string
	cert        *x509.Certificate
	javaTrusted bool
	unusable    *unusableCert // set, with cert nil, for a certificate x509 refuses
}

type p12Reader struct {
	password  Secret
	verified  bool   // the store password passed a check (MAC or an encrypted safe)
	integrity string // the MAC, as Inspect describes it
	maxIter   int
	keys      []p12Key
	certs     []p12Cert
	warnings  []string
}

// parsePKCS12 reads a PKCS#12 store: the MAC is checked with password when the
// file has one, certificates are decrypted with password, and keys only when an
// entry is used, with the key password.
// maxIter bounds the key-derivation work (MAC, safes, keys) a file may ask for.
func parsePKCS12(data []byte, password Secret, maxIter int) (*store, error) {
	der, err := berToDER(data)
	if err != nil {
		return nil, failure(ErrCorrupt, "the PKCS#12 structure cannot be read", "", err)
	}
	var pfx pfxPDU
	if rest, err := asn1.Unmarshal(der, &pfx); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "the PKCS#12 structure cannot be read", "", err)
	}
	if pfx.Version != 3 {
		return nil, failure(ErrUnsupported, fmt.Sprintf("PKCS#12 version %d", pfx.Version), "", nil)
	}
	if !pfx.AuthSafe.ContentType.Equal(oidPKCS7Data) {
		return nil, failure(ErrUnsupported, "public-key integrity mode (a signed PKCS#12) is not supported",
			"re-export it with password integrity: openssl pkcs12 -export", nil)
	}
	var authSafe []byte
	if rest, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "the authenticated safe cannot be read", "", err)
	}
	var parts []contentInfo
	if rest, err := asn1.Unmarshal(normalised(authSafe), &parts); err != nil || len(rest) > 0 {
		return nil, failure(ErrCorrupt, "the authenticated safe cannot be read", "", err)
	}
	r := &p12Reader{password: password, maxIter: maxIter, integrity: "none (no MAC)"}
	if len(pfx.MacData.Mac.Algorithm.Algorithm) > 0 {
		integrity, err := checkPKCS12MAC(pfx.MacData, authSafe, password, maxIter)
		if err != nil {
			if errors.Is(err, ErrWrongPassword) && passwordOpens(parts, password, maxIter) {
				// The password is right (it decrypts a safe), so the MAC or its parameters were altered.
				return nil, failure(ErrCorrupt, "the integrity check (MAC) failed although the password decrypts the contents: the file was altered", "", nil)
			}
			return nil, err
		}
		r.verified, r.integrity = true, integrity
	}
	for _, part := range parts {
		if err := r.readPart(part); err != nil {
			return nil, err
		}
	}
	return r.store(), nil
}

// passwordOpens reports whether password decrypts the first encrypted safe into
// safe contents: a password check independent of the MAC.
func passwordOpens(parts []contentInfo, password Secret, maxIter int) bool {
	for _, part := range parts {
		if !part.ContentType.Equal(oidPKCS7EncryptedData) {
			continue
		}
		var ed encryptedData
		if _, err := asn1.Unmarshal(part.Content.Bytes, &ed); err != nil {
			return false
		}
		plain, err := decryptPBE(ed.Info.Algorithm, encryptedContent(ed), password, maxIter)
		if err != nil {
			return false
		}
		var bags []safeBag
		rest, err := asn1.Unmarshal(normalised(plain), &bags)
		return err == nil && len(rest) == 0
	}
	return false
}

// normalised rewrites BER found inside an OCTET STRING (NSS encodes the
// authenticated safe and each safe so) as DER; what is not BER is returned as is.
func normalised(b []byte) []byte {
	if der, err := berToDER(b); err == nil {
		return der
	}
	return b
}

// checkPKCS12MAC verifies the MAC with password and describes it for Inspect.
func checkPKCS12MAC(m macData, content []byte, password Secret, maxIter int) (string, error) {
	alg := m.Mac.Algorithm.Algorithm
	if alg.Equal(oidPBMAC1) {
		return checkPBMAC1(m, content, password, maxIter)
	}
	h, ok := macHashes[alg.String()]
	if !ok {
		return "", failure(ErrUnsupported, fmt.Sprintf("MAC digest %s", alg), hintMAC, nil)
	}
	if m.Iterations < 1 || m.Iterations > maxIter {
		return "", failure(ErrCorrupt, fmt.Sprintf("MAC iteration count %d out of range", m.Iterations), "", nil)
	}
	size := h.new().Size()
	for _, pw := range bmpPasswords(password) {
		key := pkcs12KDF(h.new, h.block, m.MacSalt, pw, m.Iterations, 3, size)
		mac := hmac.New(h.new, key)
		mac.Write(content)
		if subtle.ConstantTimeCompare(mac.Sum(nil), m.Mac.Digest) == 1 {
			return fmt.Sprintf("HMAC-%s, key from the PKCS#12 KDF, %d iterations", h.name, m.Iterations), nil
		}
	}
	return "", failure(ErrWrongPassword, "the integrity check (MAC) failed", hintStorePassword, nil)
}

// pbmac1Params is PBMAC1-params (RFC 8018 appendix A.5).
type pbmac1Params struct {
	KeyDerivationFunc algorithmIdentifier
	MessageAuthScheme algorithmIdentifier
}

// checkPBMAC1 verifies a PBMAC1 MAC as RFC 9579 defines it for PKCS#12: the HMAC
// key comes from PBKDF2 over the password's UTF-8 with the salt, iteration count
// and key length of the PBKDF2 parameters (which must state it); MacData's own
// salt and iteration count are ignored. The caps are those of PBES2.
func checkPBMAC1(m macData, content []byte, password Secret, maxIter int) (string, error) {
	var params pbmac1Params
	if rest, err := asn1.Unmarshal(m.Mac.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) > 0 {
		return "", failure(ErrCorrupt, "bad PBMAC1 parameters", "", err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return "", failure(ErrUnsupported, fmt.Sprintf("PBMAC1 with key derivation %s (RFC 9579 defines PBKDF2 only)", params.KeyDerivationFunc.Algorithm), hintMAC, nil)
	}
	mac, ok := prfs[params.MessageAuthScheme.Algorithm.String()]
	if !ok || !mac.pbmac1 {
		return "", failure(ErrUnsupported, fmt.Sprintf("PBMAC1 with MAC %s", params.MessageAuthScheme.Algorithm), hintMAC, nil)
	}
	kdf, prf, err := parsePBKDF2(params.KeyDerivationFunc.Parameters.FullBytes, maxIter, hintMAC)
	if err != nil {
		return "", err
	}
	if kdf.KeyLength == 0 {
		return "", failure(ErrCorrupt, "the PBMAC1 parameters lack the key length RFC 9579 requires", "", nil)
	}
	if kdf.KeyLength < 0 || kdf.KeyLength > maxMACKeyLen {
		return "", failure(ErrCorrupt, fmt.Sprintf("PBMAC1 key length %d out of range", kdf.KeyLength), "", nil)
	}
	key, err := pbkdf2.Key(prf.new, string(password), kdf.Salt, kdf.Iterations, kdf.KeyLength)
	if err != nil {
		return "", failure(ErrUnsupported, "PBMAC1 PBKDF2 parameters", hintMAC, err)
	}
	h := hmac.New(mac.new, key)
	h.Write(content)
	if subtle.ConstantTimeCompare(h.Sum(nil), m.Mac.Digest) != 1 {
		return "", failure(ErrWrongPassword, "the integrity check (MAC) failed", hintStorePassword, nil)
	}
	return fmt.Sprintf("PBMAC1 %s, key from PBKDF2 with %s, %d iterations", mac.name, prf.name, kdf.Iterations), nil
}

func (r *p12Reader) readPart(part contentInfo) error {
	switch {
	case part.ContentType.Equal(oidPKCS7Data):
		var octets []byte
		if rest, err := asn1.Unmarshal(part.Content.Bytes, &octets); err != nil || len(rest) > 0 {
			return failure(ErrCorrupt, "a safe cannot be read", "", err)
		}
		return r.readSafeContents(octets, 0)
	case part.ContentType.Equal(oidPKCS7EncryptedData):
		var ed encryptedData
		if rest, err := asn1.Unmarshal(part.Content.Bytes, &ed); err != nil || len(rest) > 0 {
			return failure(ErrCorrupt, "an encrypted safe cannot be read", "", err)
		}
		ciphertext := encryptedContent(ed)
		if ciphertext == nil {
			return failure(ErrCorrupt, "an encrypted safe cannot be read", "", nil)
		}
		plain, err := decryptPBE(ed.Info.Algorithm, ciphertext, r.password, r.maxIter)
		if errors.Is(err, ErrWrongPassword) && r.verified {
			// The MAC accepted the password: a safe it cannot open is no wrong password.
			return failure(ErrCorrupt, "an encrypted safe cannot be decrypted with the password that passed the integrity check (MAC)", "", nil)
		}
		if err != nil {
			return err
		}
		r.verified = true
		return r.readSafeContents(plain, 0)
	}
	return failure(ErrUnsupported, fmt.Sprintf("a safe of content type %s (public-key privacy mode)", part.ContentType),
		"re-export it with password privacy: openssl pkcs12 -export", nil)
}

// encryptedContent returns an encrypted safe's ciphertext, joining the OCTET
// STRING chunks BER allows; nil when the chunks cannot be read.
func encryptedContent(ed encryptedData) []byte {
	if !ed.Info.Content.IsCompound {
		return ed.Info.Content.Bytes
	}
	var ciphertext []byte
	for rest := ed.Info.Content.Bytes; len(rest) > 0; {
		var chunk []byte
		var err error
		if rest, err = asn1.Unmarshal(rest, &chunk); err != nil {
			return nil
		}
		ciphertext = append(ciphertext, chunk...)
	}
	return ciphertext
}

func (r *p12Reader) readSafeContents(der []byte, depth int) error {
	var bags []safeBag
	if rest, err := asn1.Unmarshal(normalised(der), &bags); err != nil || len(rest) > 0 {
		return failure(ErrCorrupt, "a safe's contents cannot be read", "", err)
	}
	for _, bag := range bags {
		if err := r.readBag(bag, depth); err != nil {
			return err
		}
	}
	return nil
}

func (r *p12Reader) readBag(bag safeBag, depth int) error {
	name, id, javaTrusted := bagAttributes(bag.Attributes)
	kind := 0
	if len(bag.ID) == len(oidBagPrefix)+1 && bag.ID[:len(oidBagPrefix)].Equal(oidBagPrefix) {
		kind = bag.ID[len(oidBagPrefix)]
	}
	switch kind {
	case bagKey, bagShroudedKey:
		r.keys = append(r.keys, p12Key{name: name, id: id, der: bag.Value.Bytes, shrouded: kind == bagShroudedKey})
	case bagCert:
		var cb certBag
		if rest, err := asn1.Unmarshal(bag.Value.Bytes, &cb); err != nil || len(rest) > 0 {
			return failure(ErrCorrupt, "a certificate bag cannot be read", "", err)
		}
		if !cb.ID.Equal(oidCertX509) {
			r.warnings = append(r.warnings, fmt.Sprintf("skipped certificate %s: type %s is not X.509", quoteName(name), cb.ID))
			return nil
		}
		c, err := x509.ParseCertificate(cb.Data)
		if err != nil {
			// Java and OpenSSL keep such entries; only a key's own certificate must parse.
			if u, ok := parseUnusableCert(cb.Data, err); ok {
				r.certs = append(r.certs, p12Cert{name: name, id: id, javaTrusted: javaTrusted, unusable: u})
				return nil
			}
			r.warnings = append(r.warnings, fmt.Sprintf("skipped certificate %s: it cannot be parsed here (%v)", quoteName(name), err))
			return nil
		}
		r.certs = append(r.certs, p12Cert{name: name, id: id, cert: c, javaTrusted: javaTrusted})
	case bagSecret:
		r.warnings = append(r.warnings, fmt.Sprintf("skipped secret-key entry %s: secret keys are not used for TLS", quoteName(name)))
	case bagCRL:
		r.warnings = append(r.warnings, "skipped a certificate revocation list")
	case bagSafeContents:
		if depth >= maxBagNesting {
			return failure(ErrCorrupt, "safe contents nested too deeply", "", nil)
		}
		return r.readSafeContents(bag.Value.Bytes, depth+1)
	default:
		r.warnings = append(r.warnings, fmt.Sprintf("skipped a bag of unknown type %s", bag.ID))
	}
	return nil
}

func quoteName(name string) string {
	if name == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", name)
}

// bagAttributes reads friendlyName, localKeyId and Java's trusted-certificate mark;
// other attributes (Microsoft's CSP name, for one) are ignored.
func bagAttributes(attrs []pkcs12Attribute) (name, id string, javaTrusted bool) {
	for _, a := range attrs {
		switch {
		case a.ID.Equal(oidFriendlyName):
			var v asn1.RawValue
			if _, err := asn1.Unmarshal(a.Values.Bytes, &v); err == nil && v.Tag == asn1.TagBMPString && len(v.Bytes)%2 == 0 {
				units := make([]uint16, len(v.Bytes)/2)
				for i := range units {
					units[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
				}
				name = string(utf16.Decode(units))
			}
		case a.ID.Equal(oidLocalKeyID):
			var v []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &v); err == nil {
				id = hex.EncodeToString(v)
			}
		case a.ID.Equal(oidJavaTrusted):
			javaTrusted = true
		}
	}
	return name, id, javaTrusted
}

// store pairs each key with the certificates of the same localKeyId and names
// the entry by the key's friendlyName, or its certificate's.
func (r *p12Reader) store() *store {
	s := &store{warnings: r.warnings, integrity: r.integrity}
	owned := map[int]bool{}
	for _, k := range r.keys {
		e := entry{alias: k.name, kind: PrivateKeyEntry, decrypt: pkcs12KeyDecrypter(k, r.verified, r.maxIter)}
		for i, c := range r.certs {
			if k.id != "" && c.id == k.id && c.cert != nil {
				e.certs = append(e.certs, c.cert)
				owned[i] = true
				if e.alias == "" {
					e.alias = c.name
				}
			}
		}
		s.entries = append(s.entries, e)
	}
	for i, c := range r.certs {
		switch {
		case owned[i]:
		case c.cert == nil && (c.javaTrusted || len(r.keys) == 0):
			s.entries = append(s.entries, entry{alias: c.name, kind: TrustedCertEntry, unusable: c.unusable})
		case c.cert == nil:
			u := c.unusable
			s.warnings = append(s.warnings, fmt.Sprintf("skipped certificate %s, subject %q, serial %s, key %s: it cannot be used here (%s)",
				quoteName(c.name), u.subject, u.serial, u.keyAlgorithm, u.why))
		case c.javaTrusted || len(r.keys) == 0:
			// Java's trusted-certificate entries, or every certificate of a certificate-only file.
			s.entries = append(s.entries, entry{alias: c.name, kind: TrustedCertEntry, certs: []*x509.Certificate{c.cert}})
		default:
			s.pool = append(s.pool, c.cert)
		}
	}
	return s
}

// pkcs12KeyDecrypter decrypts a key bag when the entry is used. storeVerified
// says whether the store password was checked before; if not (no MAC, no
// encrypted safe) a failure here is the first password check and says so.
func pkcs12KeyDecrypter(k p12Key, storeVerified bool, maxIter int) func(Secret) (any, error) {
	return func(keyPassword Secret) (any, error) {
		der := k.der
		if k.shrouded {
			var info struct {
				Algorithm     algorithmIdentifier
				EncryptedData []byte
			}
			if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
				return nil, failure(ErrCorrupt, "the encrypted private key cannot be parsed", "", err)
			}
			plain, err := decryptPBE(info.Algorithm, info.EncryptedData, keyPassword, maxIter)
			if err != nil {
				if e, ok := err.(*Error); ok && e.Kind == ErrWrongPassword {
					e.Detail, e.fix = "the private key cannot be decrypted", hintKeyPassword
					if !storeVerified {
						e.fix = hintUncheckedStore
					}
				}
				return nil, err
			}
			der = plain
		}
		return parsePKCS8Key(normalised(der))
	}
}

// parseBareKey parses a DER private key in any of PKCS#1, SEC1 or PKCS#8.
func parseBareKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	var sec1 struct { // RFC 5915, to name a curve x509 does not implement
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &sec1); err == nil && sec1.Version == 1 && len(sec1.Curve) > 0 {
		if _, known := curveNames[sec1.Curve.String()]; !known {
			return nil, failure(ErrUnsupported, fmt.Sprintf("EC keys on curve %s are not supported", curveName(sec1.Curve)), hintKeyAlgorithm, nil)
		}
	}
	return parsePKCS8Key(der)
}
