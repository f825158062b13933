package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

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

// jwtHeader is {"alg":"RS256","typ":"JWT"} in base64url: Salesforce's flow
// takes RS256 alone, so the header never changes.
const jwtHeader = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"

// signAssertion signs the claims with RS256, exp = now + 3 minutes less a small
// skew margin. The signer must hold an RSA key; it may be any crypto.Signer, such
// as a key in an HSM.
func signAssertion(signer crypto.Signer, c claims, now time.Time) (string, error) {
	b, err := signAfter("", signer, c, now)
	return string(b), err
}

// jwtClaims are the assertion's claims, in the order a JWT library writes
// them from a map.
type jwtClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Iss string `json:"iss"`
	Sub string `json:"sub"`
}

// signAfter returns prefix followed by the signed assertion (the token
// request's body, with prefix its other field), encoded in one buffer of the
// right size: a JWT library would build the claims as a map and join the
// parts as strings, and the form's encoder would copy them once more.
func signAfter(prefix string, signer crypto.Signer, c claims, now time.Time) ([]byte, error) {
	if signer == nil {
		return nil, configError("no JWT signing key")
	}
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil, configError("the JWT signing key is %T: Salesforce's JWT bearer flow needs an RSA key (RS256)", signer.Public())
	}
	// aud a plain string, as Salesforce documents it.
	payload, err := json.Marshal(jwtClaims{Aud: c.Audience, Exp: now.Add(jwtbearer.MaxAssertionLifetime - assertionSkew).Unix(),
		Iss: c.Issuer, Sub: c.Subject})
	if err != nil {
		return nil, fmt.Errorf("auth: encoding the assertion: %w", err)
	}

	enc := base64.RawURLEncoding
	out := make([]byte, 0, len(prefix)+len(jwtHeader)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(pub.Size()))
	out = append(out, prefix...)
	out = append(out, jwtHeader...)
	out = append(out, '.')
	out = enc.AppendEncode(out, payload)
	digest := sha256.Sum256(out[len(prefix):])
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("auth: signing the assertion: %w", err)
	}
	out = append(out, '.')
	return enc.AppendEncode(out, sig), nil
}
