package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

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

// signAfter returns prefix followed by the signed assertion (the token
// request's body, with prefix its other field), encoded in one buffer of the
// right size: a JWT library would build the claims as a map, marshal it by
// reflection and join the parts as strings.
func signAfter(prefix string, signer crypto.Signer, c claims, now time.Time) ([]byte, error) {
	if signer == nil {
		return nil, configError("no JWT signing key")
	}
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil, configError("the JWT signing key is %T: Salesforce's JWT bearer flow needs an RSA key (RS256)", signer.Public())
	}
	// Claims in the order encoding/json writes a map's (golang-jwt's
	// MapClaims, which this replaces); aud a plain string, as Salesforce
	// documents it.
	var buf [256]byte
	payload := append(buf[:0], `{"aud":`...)
	payload = appendJSONString(payload, c.Audience)
	payload = append(payload, `,"exp":`...)
	payload = strconv.AppendInt(payload, now.Add(jwtbearer.MaxAssertionLifetime-assertionSkew).Unix(), 10)
	payload = append(payload, `,"iss":`...)
	payload = appendJSONString(payload, c.Issuer)
	payload = append(payload, `,"sub":`...)
	payload = appendJSONString(payload, c.Subject)
	payload = append(payload, '}')

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

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it: quotes, backslashes and control characters; <, > and & for
// HTML; U+2028 and U+2029; invalid UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
