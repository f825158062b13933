package keystore

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/internal/certcheck"
)

// expirySoon is how early an approaching expiry is reported.
const expirySoon = 30 * 24 * time.Hour

// Warnings that Inspect reports; the expiry ones carry a date after a colon.
const (
	// WarnSelfSigned: Salesforce refuses a self-signed certificate for mutual TLS.
	WarnSelfSigned = certcheck.WarnSelfSigned
	// WarnNoClientAuth: the certificate lacks the clientAuth extended key usage.
	WarnNoClientAuth = certcheck.WarnNoClientAuth
	// WarnDualUse: the Chrome Root Program (policy 1.7) has public CAs stop issuing
	// certificates that carry both usages from 2026-06-15, so renewal will not give one.
	WarnDualUse = certcheck.WarnDualUse
	// WarnNoIntermediates: Identity.Warnings gives it for a chain holding a leaf
	// a CA issued without the intermediates Salesforce needs in the handshake.
	WarnNoIntermediates = "the keystore holds the certificate without its intermediate CA certificates: unless a root CA signed it directly, add the chain to the keystore"
)

// Report describes a keystore and every entry in it.
type Report struct {
	Format Format `json:"format"`
	// Integrity names the store's integrity check as verified with the password:
	// the PKCS#12 MAC ("PBMAC1 HMAC-SHA-256, key from PBKDF2 …", "HMAC-SHA-1, key
	// from the PKCS#12 KDF …", or "none (no MAC)"), JKS/JCEKS's keyed SHA-1
	// digest; empty for PEM, which has none.
	Integrity string        `json:"integrity,omitempty"`
	Entries   []EntryReport `json:"entries"`
	// Warnings name entries skipped because they cannot be used here (secret keys,
	// certificates this platform cannot parse); the entries above are unaffected.
	Warnings []string `json:"warnings,omitempty"`
}

// EntryReport describes one entry: its certificate and what may stop it from
// working for Salesforce mutual authentication.
type EntryReport struct {
	Alias       string    `json:"alias"`
	Kind        EntryKind `json:"kind"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	Serial      string    `json:"serial"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	KeyType     string    `json:"key_type"`
	KeyBits     int       `json:"key_bits"`
	ChainLength int       `json:"chain_length"` // certificates sent in a handshake, leaf included
	SelfSigned  bool      `json:"self_signed"`
	ClientAuth  bool      `json:"client_auth"`
	Warnings    []string  `json:"warnings"`
}

// InspectFile reads the keystore at path and reports on it; see Inspect.
func InspectFile(path string, opts Options) (*Report, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	opts.Name = path
	return Inspect(data, opts)
}

// Inspect reports every entry of the keystore in data (only the one named by
// opts.Alias, when set). Each private key is decrypted and checked against its
// certificate, so a wrong key password or a mismatched key fails here as in Load.
func Inspect(data []byte, opts Options) (*Report, error) {
	s, err := parse(data, opts)
	if err != nil {
		return nil, err
	}
	if opts.Alias != "" {
		if _, err := s.choose(opts.Alias); err != nil {
			return nil, withSource(err, opts.Name, s.format)
		}
	}
	now := opts.now()
	r := &Report{Format: s.format, Integrity: s.integrity, Entries: []EntryReport{}, Warnings: s.warnings}
	for _, e := range s.entries {
		if opts.Alias != "" && (e.kind != PrivateKeyEntry || !strings.EqualFold(e.alias, opts.Alias)) {
			continue
		}
		chain := e.certs
		if e.kind == PrivateKeyEntry {
			o := opts
			o.Alias = e.alias
			id, err := s.identityOf(&e, o)
			if err != nil {
				return nil, withSource(err, opts.Name, s.format)
			}
			chain = id.chain
		}
		if len(chain) == 0 {
			if e.unusable != nil {
				r.Entries = append(r.Entries, describeUnusable(e, now))
			}
			continue
		}
		r.Entries = append(r.Entries, describe(e, chain, now))
	}
	return r, nil
}

func describe(e entry, chain []*x509.Certificate, now time.Time) EntryReport {
	c := chain[0]
	rep := EntryReport{
		Alias:       e.alias,
		Kind:        e.kind,
		Subject:     c.Subject.String(),
		Issuer:      c.Issuer.String(),
		Serial:      fmt.Sprintf("%x", c.SerialNumber),
		NotBefore:   c.NotBefore.UTC(),
		NotAfter:    c.NotAfter.UTC(),
		ChainLength: len(chain),
		SelfSigned:  certcheck.SelfSigned(c),
		ClientAuth:  certcheck.ClientAuth(c),
	}
	rep.KeyType, rep.KeyBits = keyTypeAndBits(c)
	rep.Warnings = append(warnings(c, e.kind, now), unverifiedLinks(chain)...)
	if e.kind == PrivateKeyEntry && noIntermediates(chain) {
		rep.Warnings = append(rep.Warnings, WarnNoIntermediates)
	}
	return rep
}

// describeUnusable lists a certificate crypto/x509 refuses as keytool does:
// names, serial, dates and the key's algorithm or curve, and why it is unusable.
func describeUnusable(e entry, now time.Time) EntryReport {
	u := e.unusable
	return EntryReport{
		Alias:       e.alias,
		Kind:        e.kind,
		Subject:     u.subject,
		Issuer:      u.issuer,
		Serial:      u.serial,
		NotBefore:   u.notBefore,
		NotAfter:    u.notAfter,
		KeyType:     u.keyAlgorithm,
		KeyBits:     u.keyBits,
		ChainLength: 1,
		SelfSigned:  u.selfIssued,
		Warnings:    append([]string{u.warning()}, validityWarnings(u.notBefore, u.notAfter, now)...),
	}
}

// noIntermediates: a CA-issued leaf stored without the certificates above it.
func noIntermediates(chain []*x509.Certificate) bool {
	return len(chain) == 1 && !certcheck.SelfSigned(chain[0])
}

// Warnings returns what Inspect would warn about the identity's certificate at
// t, without reading or decrypting its keystore again, and WarnNoIntermediates
// when its chain is a CA-issued leaf alone.
func (id *Identity) Warnings(t time.Time) []string {
	w := warnings(id.Leaf(), PrivateKeyEntry, t)
	if noIntermediates(id.Chain()) {
		w = append(w, WarnNoIntermediates)
	}
	return w
}

// warnings lists expiry problems and, for a private-key entry, what makes the
// certificate unfit for Salesforce mutual authentication.
func warnings(c *x509.Certificate, kind EntryKind, now time.Time) []string {
	w := validityWarnings(c.NotBefore, c.NotAfter, now)
	if kind == PrivateKeyEntry {
		w = append(w, certcheck.MTLSWarnings(c)...)
	}
	return w
}

// unverifiedLinks warns about chain certificates kept although their signature
// uses an algorithm that cannot be verified here (MD5, SHA-1 with RSA in some
// builds): they are sent as stored and the server judges them.
func unverifiedLinks(chain []*x509.Certificate) []string {
	var w []string
	for i := 0; i+1 < len(chain); i++ {
		if unverifiable(chain[i].CheckSignatureFrom(chain[i+1])) {
			w = append(w, fmt.Sprintf("chain certificate %q is signed with %s, which cannot be verified here; it is sent as stored and the server decides (re-issue it with SHA-256)",
				chain[i].Subject.String(), chain[i].SignatureAlgorithm))
		}
	}
	return w
}

// validityWarnings reports an expired, not yet valid or soon expiring certificate.
func validityWarnings(notBefore, notAfter, now time.Time) []string {
	switch {
	case now.After(notAfter):
		return []string{"expired: " + notAfter.UTC().Format(time.RFC3339)}
	case now.Before(notBefore):
		return []string{"not yet valid: " + notBefore.UTC().Format(time.RFC3339)}
	case notAfter.Sub(now) < expirySoon:
		return []string{"expires within 30 days: " + notAfter.UTC().Format(time.RFC3339)}
	}
	return []string{}
}

func keyTypeAndBits(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return c.PublicKeyAlgorithm.String(), 0
}
