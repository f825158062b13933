package auth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sfmtls/sfmtls/auth"
)

// OAuthError.Fix decides on the error code, then on the whole description.
// Descriptions as Salesforce sends them: "OAuth 2.0 JWT Bearer Flow for
// Server-to-Server Integration" and "OAuth 2.0 Authorization Errors" (Help).
func TestOAuthErrorFixMatchesWholeDescriptions(t *testing.T) {
	fixOf := func(code, desc string) string {
		return (&auth.OAuthError{StatusCode: 400, Code: code, Description: desc}).Fix()
	}
	clock := fixOf("invalid_grant", "expired authorization code")
	assert.NotEmpty(t, clock)
	assert.Equal(t, clock, fixOf("invalid_grant", "  Expired Authorization Code\n"), "trimmed, any case")

	// "exp" and "audience" inside other words or sentences pick no fix.
	for _, desc := range []string{
		"unexpected error",
		"expression too long",
		"expired authorization code, and more",
		"the audience is invalid for this site",
		"invalid assertion signature exp",
		"",
	} {
		assert.Empty(t, fixOf("invalid_grant", desc), "invalid_grant %q", desc)
	}
	// A documented description under another code is not that refusal.
	assert.Empty(t, fixOf("invalid_request", "expired authorization code"))
	assert.Empty(t, fixOf("invalid_request", "audience is invalid"))

	// Every documented case has its own fix.
	cases := [][2]string{
		{"invalid_grant", "user hasn't approved this consumer"},
		{"invalid_grant", "audience is invalid"},
		{"invalid_grant", "invalid assertion"},
		{"invalid_grant", "expired authorization code"},
		{"invalid_grant", "IP restricted or invalid login hours"},
		{"invalid_client_id", "client identifier invalid"},
		{"unsupported_grant_type", "grant type not supported"},
		{"inactive_user", "user is inactive"},
		{"rate_limit_exceeded", "login rate exceeded"},
		{"MUTUAL_AUTHENTICATION_FAILED", ""},
	}
	seen := map[string]string{}
	for _, c := range cases {
		fix := fixOf(c[0], c[1])
		if !assert.NotEmpty(t, fix, "%s %q", c[0], c[1]) {
			continue
		}
		if prev, dup := seen[fix]; dup {
			t.Errorf("%s %q has the same fix as %s", c[0], c[1], prev)
		}
		seen[fix] = c[0] + " " + c[1]
	}
	// invalid_app_access (user not admin-approved) is cured like "hasn't approved".
	assert.Equal(t, fixOf("invalid_grant", "user hasn't approved this consumer"),
		fixOf("invalid_app_access", "user is not admin approved to access this app"))
}
