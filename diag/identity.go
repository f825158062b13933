package diag

import (
	"errors"
	"slices"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// ErrNoIdentity: Config holds no identity where one is needed.
var ErrNoIdentity = errors.New("no mTLS identity: load the CA-signed client certificate's keystore into Config.MTLS")

// The warnings Check gives beyond keystore's own are keystore's wording too:
// one text whether sfmtls check, keygen or a readiness probe reports it.
const (
	// WarnDualUse is keystore.WarnDualUse: under the Chrome Root Program's
	// policy, enforced after 2026-06-15, public CAs no longer issue
	// certificates with both serverAuth and clientAuth, and Salesforce's help
	// article "Upcoming Mandatory Changes to Public Key Infrastructure (PKI)"
	// (005237282) tells mutual TLS users to move off them.
	WarnDualUse = keystore.WarnDualUse
	// WarnNoIntermediates is keystore.WarnNoIntermediates: the chain holds the
	// leaf alone, though it is not issued by a root.
	WarnNoIntermediates = keystore.WarnNoIntermediates
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
		// The JWT certificate only verifies signatures: no TLS, no chain.
		warn = slices.DeleteFunc(warn, func(w string) bool {
			return w == keystore.WarnSelfSigned || w == keystore.WarnNoClientAuth ||
				w == keystore.WarnDualUse || w == keystore.WarnNoIntermediates
		})
	}
	if err := id.CheckValidity(now); err != nil {
		return nilIfEmpty(warn), err
	}
	return nilIfEmpty(warn), nil
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
