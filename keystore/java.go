package keystore

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// The JKS and JCEKS layouts are the same but for the magic, JCEKS's secret-key
// entries and how keys are protected (sun.security.provider.JavaKeyStore and
// com.sun.crypto.provider.JceKeyStore):
//
//	magic u32, version u32, count u32, count × entry, SHA-1 digest (20 bytes)
//	entry: tag u32, alias UTF, date u64, then by tag
//	  1 private key:   len u32 + protected key, n u32, n × certificate
//	  2 trusted cert:  certificate
//	  3 secret key:    a serialized Java object (JCEKS only)
//	certificate: (version 2) type UTF, len u32 + DER
//
// The digest is SHA-1(password as UTF-16BE || "Mighty Aphrodite" || everything before it).
const (
	javaTagPrivateKey  = 1
	javaTagTrustedCert = 2
	javaTagSecretKey   = 3
	javaDigestLen      = sha1.Size
)

// javaEntry is one entry of a JKS or JCEKS store as laid out in the file.
type javaEntry struct {
	tag          uint32
	alias        string
	protectedKey []byte
	certs        []*x509.Certificate
	unusable     *unusableCert // a trusted certificate x509 refuses
}

// javaReader reads big-endian fields and never reads, or allocates, past its data.
type javaReader struct {
	data []byte
	off  int
	err  error
}

func (r *javaReader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.data)-r.off) {
		r.err = failure(ErrCorrupt, fmt.Sprintf("truncated: a field at offset %d needs %d bytes, %d remain", r.off, n, len(r.data)-r.off), "", nil)
		return nil
	}
	b := r.data[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *javaReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *javaReader) utf() string {
	b := r.take(2)
	if b == nil {
		return ""
	}
	return string(r.take(uint64(binary.BigEndian.Uint16(b))))
}

// certificateOrSkip reads a certificate; one that is well framed but cannot be
// parsed here (an unusual curve, say) is returned as an error, with its bytes,
// for the caller to decide on, leaving the reader intact.
func (r *javaReader) certificateOrSkip(version uint32) (*x509.Certificate, []byte, error) {
	if version == 2 {
		if typ := r.utf(); r.err == nil && typ != "X.509" && typ != "X509" { // keystore-go writes "X509"
			r.err = failure(ErrUnsupported, fmt.Sprintf("certificate type %q", typ), "only X.509 certificates are supported", nil)
		}
	}
	der := r.take(uint64(r.u32()))
	if r.err != nil {
		return nil, nil, nil
	}
	c, err := x509.ParseCertificate(der)
	return c, der, err
}

// parseJavaStore reads the layout above and checks the integrity digest. Structure
// is checked before the digest so that a damaged file reports as corrupt and an
// intact file with a failing digest as a wrong password.
func parseJavaStore(data []byte, password Secret) (entries []javaEntry, skipped []string, err error) {
	r := &javaReader{data: data}
	magic := r.u32()
	version := r.u32()
	count := r.u32()
	if r.err != nil {
		return nil, nil, r.err
	}
	if version != 1 && version != 2 || magic == magicJCEKS && version != 2 {
		return nil, nil, failure(ErrUnsupported, fmt.Sprintf("store version %d", version), "", nil)
	}
	for i := uint32(0); i < count && r.err == nil; i++ {
		e := javaEntry{tag: r.u32(), alias: r.utf()}
		r.take(8) // creation date
		switch e.tag {
		case javaTagPrivateKey:
			e.protectedKey = r.take(uint64(r.u32()))
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				c, der, err := r.certificateOrSkip(version)
				if err != nil && r.err == nil {
					// A chain certificate on an algorithm x509 lacks is unsupported, not corrupt:
					// the entry keeps the rest of its chain, and a warning names the one left out.
					if u, ok := parseUnusableCert(der, err); ok {
						skipped = append(skipped, fmt.Sprintf("skipped certificate %q in the chain of %q, serial %s, key %s: it cannot be used here (%s)",
							u.subject, e.alias, u.serial, u.keyAlgorithm, u.why))
						continue
					}
					r.err = failure(ErrCorrupt, "a certificate cannot be parsed", "", err)
				}
				if c != nil {
					e.certs = append(e.certs, c)
				}
			}
		case javaTagTrustedCert:
			c, der, err := r.certificateOrSkip(version)
			if err != nil {
				// Java keeps such entries (keytool lists them); so does this package,
				// with what can be read of them. Only the key entry in use must parse.
				if u, ok := parseUnusableCert(der, err); ok {
					e.unusable = u
					entries = append(entries, e)
					continue
				}
				skipped = append(skipped, fmt.Sprintf("skipped trusted certificate %q: it cannot be parsed here (%v)", e.alias, err))
				continue
			}
			e.certs = append(e.certs, c)
		case javaTagSecretKey:
			if magic != magicJCEKS {
				r.err = failure(ErrCorrupt, fmt.Sprintf("unknown entry tag %d", e.tag), "", nil)
				break
			}
			// Java, Mule and pyjks read such stores; here the entry is skipped and reported.
			skipJavaObject(r)
		default:
			if r.err == nil {
				r.err = failure(ErrCorrupt, fmt.Sprintf("unknown entry tag %d", e.tag), "", nil)
			}
		}
		if e.tag == javaTagSecretKey {
			skipped = append(skipped, fmt.Sprintf("skipped secret-key entry %q: secret keys are not used for TLS", e.alias))
			continue
		}
		entries = append(entries, e)
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	body := r.off
	switch rest := len(data) - body; {
	case rest < javaDigestLen:
		return nil, nil, failure(ErrCorrupt, "truncated: the integrity digest is missing", "", nil)
	case rest > javaDigestLen:
		return nil, nil, failure(ErrCorrupt, fmt.Sprintf("%d unexpected bytes after the entries", rest-javaDigestLen), "", nil)
	}
	h := sha1.New()
	h.Write(javaPasswordBytes(password))
	h.Write([]byte("Mighty Aphrodite"))
	h.Write(data[:body])
	if subtle.ConstantTimeCompare(h.Sum(nil), data[body:]) != 1 {
		// The digest cannot tell a wrong password from altered bytes, but altered
		// certificate bytes break a signature inside the store.
		for _, e := range entries {
			if c := brokenSignature(e.certs); c != nil {
				return nil, nil, failure(ErrCorrupt, fmt.Sprintf("the data was altered: the signature of %q does not verify", c.Subject.String()), "", nil)
			}
		}
		return nil, nil, failure(ErrWrongPassword, "the keystore integrity check failed", hintStorePassword, nil)
	}
	return entries, skipped, nil
}

// brokenSignature returns the first certificate of chain whose signature fails
// against the next one, or against itself when it is the self-issued last one.
func brokenSignature(chain []*x509.Certificate) *x509.Certificate {
	for i, c := range chain {
		switch {
		case i+1 < len(chain):
			if c.CheckSignatureFrom(chain[i+1]) != nil {
				return c
			}
		case bytes.Equal(c.RawIssuer, c.RawSubject):
			if c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) != nil {
				return c
			}
		}
	}
	return nil
}

// javaPasswordBytes encodes a password as Java's char[]: UTF-16 big-endian.
func javaPasswordBytes(password Secret) []byte {
	units := utf16.Encode([]rune(string(password)))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// javaStore turns the entries into the common model, with decrypt for key entries.
func javaStore(entries []javaEntry, skipped []string, decrypt func(e javaEntry, keyPassword Secret) (any, error)) *store {
	s := &store{warnings: skipped, integrity: "keyed SHA-1 digest"}
	for _, je := range entries {
		e := entry{alias: je.alias, kind: TrustedCertEntry, certs: je.certs, unusable: je.unusable}
		if je.tag == javaTagPrivateKey {
			e.kind = PrivateKeyEntry
			e.decrypt = func(pw Secret) (any, error) { return decrypt(je, pw) }
		}
		s.entries = append(s.entries, e)
	}
	return s
}
