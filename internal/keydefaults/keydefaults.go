// Package keydefaults holds the defaults keystore and certgen write with, which
// the sfmtls tool shows in its flags' help and checks before asking for
// anything, so that library and tool cannot drift apart.
package keydefaults

import "time"

const (
	// MinPasswordLen is the shortest store or key password written, keytool's own
	// minimum, so that every file written can be maintained with keytool later.
	MinPasswordLen = 6

	// PKCS8Iterations is the PBKDF2-HMAC-SHA256 iteration count of encrypted PEM
	// keys: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
	PKCS8Iterations = 600_000

	// Alias is keytool's default alias, used when neither the options nor the
	// identity name one.
	Alias = "mykey"

	// JWTValidity is the validity of a JWT or placeholder certificate made
	// without one: two years, after which the certificate is renewed in the app.
	JWTValidity = 2 * 365 * 24 * time.Hour
)
