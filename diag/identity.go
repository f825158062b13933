package diag

import (
	"slices"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// jwtWarnings are the keystore warnings that apply to the JWT identity: its
// certificate only verifies signatures (no TLS, no chain), so it may be
// self-signed and needs no clientAuth.
func jwtWarnings(id *keystore.Identity, now time.Time) []string {
	return nilIfEmpty(slices.DeleteFunc(id.Warnings(now), func(w string) bool {
		return w == keystore.WarnSelfSigned || w == keystore.WarnNoClientAuth ||
			w == keystore.WarnDualUse || w == keystore.WarnNoIntermediates
	}))
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
