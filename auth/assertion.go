package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sfmtls/sfmtls/internal/jwtbearer"
)

// assertionSkew is taken off the 3-minute limit so a server clock slightly
// behind ours still accepts exp.
const assertionSkew = 10 * time.Second

// claims are the claims of a Salesforce JWT bearer assertion.
type claims struct {
	Issuer   string // the app's consumer key
	Subject  string // the Salesforce username
	Audience string // https://login.salesforce.com, https://test.salesforce.com or a site URL
}

// signAssertion signs the claims with RS256, exp = now + 3 minutes less a small
// skew margin. The signer must hold an RSA key; it may be any crypto.Signer, such
// as a key in an HSM.
func signAssertion(signer crypto.Signer, c claims, now time.Time) (string, error) {
	if signer == nil {
		return "", configError("no JWT signing key")
	}
	if _, ok := signer.Public().(*rsa.PublicKey); !ok {
		return "", configError("the JWT signing key is %T: Salesforce's JWT bearer flow needs an RSA key (RS256)", signer.Public())
	}
	// MapClaims keeps aud a plain string, as Salesforce documents it.
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": c.Issuer,
		"sub": c.Subject,
		"aud": c.Audience,
		"exp": now.Add(jwtbearer.MaxAssertionLifetime - assertionSkew).Unix(),
	})
	signing, err := tok.SigningString()
	if err != nil {
		return "", fmt.Errorf("auth: encoding the assertion: %w", err)
	}
	digest := sha256.Sum256([]byte(signing))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("auth: signing the assertion: %w", err)
	}
	return signing + "." + tok.EncodeSegment(sig), nil
}
