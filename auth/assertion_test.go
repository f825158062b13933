package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/jwtbearer"
)

func TestSignAssertion(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	s, err := signAssertion(key, claims{Issuer: "ck", Subject: "user@example.com", Audience: jwtbearer.ProductionAudience}, now)
	require.NoError(t, err)

	parts := strings.Split(s, ".")
	require.Len(t, parts, 3)
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"alg":"RS256","typ":"JWT"}`, string(header))
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(payload, &got))
	assert.Equal(t, "ck", got["iss"])
	assert.Equal(t, "user@example.com", got["sub"])
	assert.Equal(t, jwtbearer.ProductionAudience, got["aud"], "aud is a plain string, as Salesforce documents it")
	exp := int64(got["exp"].(float64))
	assert.Greater(t, exp, now.Unix())
	assert.LessOrEqual(t, exp, now.Add(jwtbearer.MaxAssertionLifetime).Unix())

	// The signature verifies with the key's public half.
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		Parse(s, func(*jwt.Token) (any, error) { return &key.PublicKey, nil })
	require.NoError(t, err)

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, err = signAssertion(ec, claims{}, now)
	require.ErrorIs(t, err, errs.ErrConfig)
	assert.Contains(t, err.Error(), "RSA")
}

// TestAssertionIsWhatAJWTLibraryWrites: header and claims are the bytes
// golang-jwt writes for the same claims (the library the assertion was built
// with before), whatever the consumer key, username and audience hold.
func TestAssertionIsWhatAJWTLibraryWrites(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	for _, s := range []string{"", "user@example.com", `a"b\c`, "tab\tnew\nline\r", "\b\f\x00\x1f\x7f", "<a&b>",
		"ünïcödé 日本", "\u2028\u2029", "bad \xff\xfe utf-8", "\xe2\x80"} {
		c := claims{Issuer: s + "iss", Subject: s, Audience: "https://" + s}
		assertion, err := signAssertion(key, c, now)
		require.NoError(t, err)
		want, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": c.Issuer, "sub": c.Subject, "aud": c.Audience,
			"exp": now.Add(jwtbearer.MaxAssertionLifetime - assertionSkew).Unix()}).SigningString()
		require.NoError(t, err)
		assert.Equal(t, want, assertion[:strings.LastIndexByte(assertion, '.')], "%q", s)
	}
}

// TestGrantField: the form's first field is grant_type as url.Values encodes
// it, and the assertion that follows needs no escaping.
func TestGrantField(t *testing.T) {
	assert.Equal(t, url.Values{"grant_type": {jwtbearer.GrantType}}.Encode()+"&assertion=", grantField)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	jwt, err := signAssertion(key, claims{Issuer: "ck", Subject: "user@example.com", Audience: jwtbearer.ProductionAudience}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, jwt, url.QueryEscape(jwt))
}

func TestAudienceAndtokenURL(t *testing.T) {
	cases := map[string]string{
		"https://acme.my.salesforce.com":                   jwtbearer.ProductionAudience,
		"https://acme--dev.sandbox.my.salesforce.com":      jwtbearer.SandboxAudience,
		"https://ACME--UAT.SANDBOX.MY.SALESFORCE.COM:8443": jwtbearer.SandboxAudience,
		"https://test.salesforce.com":                      jwtbearer.SandboxAudience,
		"https://login.salesforce.com":                     jwtbearer.ProductionAudience,
	}
	for in, want := range cases {
		assert.Equal(t, want, defaultAudience(in), in)
	}
	u, err := loginTokenURL("https://acme.my.salesforce.com", 0)
	require.NoError(t, err)
	assert.Equal(t, "https://acme.my.salesforce.com:8443/services/oauth2/token", u)
	u, err = loginTokenURL("https://127.0.0.1:41234/", 8443)
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:41234/services/oauth2/token", u, "an explicit port is kept")
	_, err = loginTokenURL("http://acme.my.salesforce.com", 0)
	require.ErrorIs(t, err, errs.ErrConfig)
	_, err = loginTokenURL("acme.my.salesforce.com", 0)
	require.ErrorIs(t, err, errs.ErrConfig)
}
