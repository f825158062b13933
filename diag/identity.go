package diag

import (
	"crypto/x509"
	"errors"
	"slices"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// ErrNoIdentity: Config holds no identity where one is needed.
var ErrNoIdentity = errors.New("no mTLS identity: load the CA-signed client certificate's keystore into Config.MTLS")

// Warnings Check adds to keystore's own (keystore.WarnSelfSigned and the like).
const (
	// WarnDualUse: under the Chrome Root Program's policy, enforced after
	// 2026-06-15, public CAs no longer issue certificates with both serverAuth
	// and clientAuth, and Salesforce's help article "Upcoming Mandatory Changes
	// to Public Key Infrastructure (PKI)" (005237282) tells mutual TLS users to
	// move off them.
	WarnDualUse = "dual-use certificate (serverAuth and clientAuth): public CAs no longer issue these; " +
		"renew it as a clientAuth-only certificate before this one expires"
	// WarnNoIntermediates: the chain holds the leaf alone, though it is not
	// issued by a root; Salesforce needs the intermediates in the handshake.
	WarnNoIntermediates = "the keystore holds the certificate without its intermediate CA certificates: " +
		"unless a root CA signed it directly, add the chain to the keystore"
)

// checkIdentity returns the warnings for id, and an error when it cannot work
// at all. For the mutual TLS identity every keystore warning applies; the JWT
// certificate may be self-signed and needs no clientAuth.
func checkIdentity(id *keystore.Identity, mtls bool, now time.Time) ([]string, error) {
	if id == nil {
		return nil, ErrNoIdentity
	}
	warn := id.Warnings(now)
	if !mtls {
		warn = slices.DeleteFunc(warn, func(w string) bool { return w == keystore.WarnSelfSigned || w == keystore.WarnNoClientAuth })
	}
	if err := id.CheckValidity(now); err != nil {
		return warn, err
	}
	if !mtls {
		return nilIfEmpty(warn), nil
	}
	leaf := id.Leaf()
	if dualUse(leaf) {
		warn = append(warn, WarnDualUse)
	}
	if len(id.Chain()) == 1 && !slices.Contains(warn, keystore.WarnSelfSigned) {
		warn = append(warn, WarnNoIntermediates)
	}
	return nilIfEmpty(warn), nil
}

func dualUse(c *x509.Certificate) bool {
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
