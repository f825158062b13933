package certgen

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/sfmtls/sfmtls/internal/certcheck"
	"github.com/sfmtls/sfmtls/keystore"
)

// Purpose says what an identity is for, which decides what CheckIdentity requires.
type Purpose int

// The two identities a Salesforce integration holds.
const (
	// PurposeMTLS is the mutual TLS client identity (MuleSoft's mtls.jks).
	PurposeMTLS Purpose = iota
	// PurposeJWT is the JWT bearer flow signing identity (MuleSoft's mulesoft.jks).
	PurposeJWT
)

// expirySoon is how early an approaching expiry is reported, as keystore.Inspect does.
const expirySoon = 30 * 24 * time.Hour

// maxChain bounds the chain CheckIdentity accepts, as a TLS peer would.
const maxChain = 10

// CheckOptions tunes CheckIdentity.
type CheckOptions struct {
	// Purpose is what the identity is for; the zero value is PurposeMTLS.
	Purpose Purpose
	// Roots are the CA certificates a chain not ending in a self-signed root must
	// lead to. Nil means the system's trusted roots.
	Roots []*x509.Certificate
	// Now is the time for expiry warnings; zero means time.Now().
	Now time.Time
}

// CheckIdentity checks a key with its chain (leaf first) before it is written:
// the key belongs to the leaf, each certificate is issued by the next (verified
// by signature), and the last one is a self-signed root or is issued by one of
// opts.Roots (or a system root). It returns an error for what would make the
// keystore unusable, and warnings for what Salesforce would refuse or soon stop
// accepting: a self-signed, dual-use or non-clientAuth certificate for mutual
// TLS, and a certificate expired, not yet valid or expiring within 30 days.
func CheckIdentity(key crypto.Signer, chain []*x509.Certificate, opts CheckOptions) ([]string, error) {
	if key == nil || len(chain) == 0 || chain[0] == nil {
		return nil, &Error{Kind: keystore.ErrKeyMismatch, Detail: "a key and its certificate are both needed", fix: "give the private key with the certificate issued for it, leaf first"}
	}
	if len(chain) > maxChain {
		return nil, &Error{Kind: ErrIncompleteChain, Detail: fmt.Sprintf("%d certificates, more than %d", len(chain), maxChain), fix: "give the leaf and its intermediates only"}
	}
	leaf := chain[0]
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, &Error{Kind: keystore.ErrKeyMismatch, Detail: fmt.Sprintf("the key does not belong to %q", leaf.Subject.String()),
			fix: "give the key the CSR was made with, and the certificate the CA issued for that CSR"}
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if _, isRSA := key.Public().(*rsa.PublicKey); opts.Purpose == PurposeJWT && !isRSA {
		return nil, &Error{Kind: ErrUnsupportedKey, Detail: fmt.Sprintf("a JWT signing key of type %T; Salesforce's JWT bearer flow verifies RS256 only", key.Public()),
			fix: "use an RSA key"}
	}
	if err := checkOrder(chain); err != nil {
		return nil, err
	}
	if err := checkComplete(chain[len(chain)-1], opts); err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var warnings []string
	for _, c := range chain {
		switch {
		case now.After(c.NotAfter):
			warnings = append(warnings, fmt.Sprintf("%q expired: %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339)))
		case now.Before(c.NotBefore):
			warnings = append(warnings, fmt.Sprintf("%q not yet valid: %s", c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339)))
		case c.NotAfter.Sub(now) < expirySoon:
			warnings = append(warnings, fmt.Sprintf("%q expires within 30 days: %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339)))
		}
	}
	if opts.Purpose == PurposeMTLS {
		warnings = append(warnings, certcheck.MTLSWarnings(leaf)...)
	}
	return warnings, nil
}

// checkOrder requires each certificate to be issued by the next, telling a
// misordered chain (the issuer is there, elsewhere) from a gap.
func checkOrder(chain []*x509.Certificate) error {
	for i := 0; i+1 < len(chain); i++ {
		c := chain[i]
		if c.CheckSignatureFrom(chain[i+1]) == nil {
			continue
		}
		for j, other := range chain {
			if j != i && c.CheckSignatureFrom(other) == nil {
				return &Error{Kind: keystore.ErrChainOrder,
					Detail: fmt.Sprintf("certificate %d (%q) is issued by certificate %d, not by the next one", i+1, c.Subject.String(), j+1),
					fix:    "order the chain leaf first, each certificate followed by its issuer"}
			}
		}
		return &Error{Kind: ErrIncompleteChain,
			Detail: fmt.Sprintf("the issuer of certificate %d (%q), %q, is missing", i+1, c.Subject.String(), c.Issuer.String()),
			fix:    "add the intermediate CA certificate from your CA's bundle, right after the certificate it issued"}
	}
	return nil
}

// checkComplete requires the chain's last certificate to be a self-signed root or
// to be issued by a trusted root.
func checkComplete(last *x509.Certificate, opts CheckOptions) error {
	if certcheck.SelfSigned(last) {
		return nil
	}
	if opts.Roots != nil {
		for _, r := range opts.Roots {
			if bytes.Equal(r.RawSubject, last.RawIssuer) && last.CheckSignatureFrom(r) == nil {
				return nil
			}
		}
	} else if pool, err := x509.SystemCertPool(); err == nil {
		// Verify only the issuer link: validity and usage are warnings, not errors.
		at := last.NotBefore.Add(last.NotAfter.Sub(last.NotBefore) / 2)
		if _, err := last.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
			return nil
		}
	}
	return &Error{Kind: ErrIncompleteChain,
		Detail: fmt.Sprintf("the chain ends at %q, whose issuer %q is neither in the chain nor a trusted root", last.Subject.String(), last.Issuer.String()),
		fix:    "add the missing intermediate from your CA's bundle, or give the CA's root certificate as a trusted root"}
}
