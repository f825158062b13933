// Package certcheck judges a certificate for Salesforce mutual authentication,
// once, for keystore (Inspect, Identity.Warnings) and certgen (CheckIdentity),
// so that they agree and word their warnings alike.
package certcheck

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
)

// The warnings MTLSWarnings gives; keystore exports them as its Warn* constants.
const (
	WarnSelfSigned   = "self-signed certificates are not valid for Salesforce mutual authentication"
	WarnNoClientAuth = "no clientAuth extended key usage: a server that checks it refuses this certificate for mutual TLS"
	// WarnDualUse: the Chrome Root Program (policy 1.7) has public CAs stop issuing
	// certificates that carry both usages from 2026-06-15, so renewal will not give one.
	WarnDualUse = "dual-use certificate (serverAuth and clientAuth extended key usages): since 2026-06-15 public CAs no longer issue these (Chrome Root Program policy 1.7) and Salesforce advises separate client and server hierarchies; ask the CA for a clientAuth-only certificate"
)

// MTLSWarnings lists what makes leaf unfit for Salesforce mutual
// authentication: WarnSelfSigned, WarnNoClientAuth, WarnDualUse.
func MTLSWarnings(leaf *x509.Certificate) []string {
	var w []string
	if SelfSigned(leaf) {
		w = append(w, WarnSelfSigned)
	}
	if !ClientAuth(leaf) {
		w = append(w, WarnNoClientAuth)
	}
	if hasEKU(leaf, x509.ExtKeyUsageServerAuth) && hasEKU(leaf, x509.ExtKeyUsageClientAuth) {
		w = append(w, WarnDualUse)
	}
	return w
}

// SelfSigned reports whether c names itself as issuer and its signature
// verifies with its own key: a root, or a certificate Salesforce refuses for
// mutual TLS.
func SelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// ClientAuth reports whether c may authenticate a TLS client (clientAuth or
// any extended key usage).
func ClientAuth(c *x509.Certificate) bool {
	return hasEKU(c, x509.ExtKeyUsageClientAuth) || hasEKU(c, x509.ExtKeyUsageAny)
}

func hasEKU(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == want {
			return true
		}
	}
	return false
}

// SameKey reports whether a and b are the same public key. RSA and ECDSA keys
// are compared by value here: their Equal methods compare in constant time
// through byte copies, which public values need not pay for.
func SameKey(a, b crypto.PublicKey) bool {
	switch ak := a.(type) {
	case *rsa.PublicKey:
		bk, ok := b.(*rsa.PublicKey)
		return ok && ak != nil && bk != nil && ak.N != nil && bk.N != nil && ak.E == bk.E && ak.N.Cmp(bk.N) == 0
	case *ecdsa.PublicKey:
		bk, ok := b.(*ecdsa.PublicKey)
		return ok && ak != nil && bk != nil && ak.X != nil && bk.X != nil && ak.Y != nil && bk.Y != nil &&
			ak.Curve == bk.Curve && ak.X.Cmp(bk.X) == 0 && ak.Y.Cmp(bk.Y) == 0
	}
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}
