package salesforcetest

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
)

// Each refusal the fake's token endpoint sends must reach the fix meant for
// it through auth.OAuthError.Fix, which compares the code and the whole
// description: a drift in either string would leave users without a fix.
func TestTokenRefusalsMapToTheirFix(t *testing.T) {
	fixOf := func(code, desc string) string {
		var err error = &auth.OAuthError{StatusCode: http.StatusBadRequest, Code: code, Description: desc}
		var oe *auth.OAuthError
		require.True(t, errors.As(err, &oe))
		return oe.Fix()
	}
	mutualTLS := fixOf(codeMutualAuth, "") // the fix the REST API's 401 gets
	refusals := []struct{ code, desc, sameFixAs string }{
		{"invalid_grant", descNotApproved, ""},
		{"invalid_grant", descAudience, ""},
		{"invalid_grant", descAssertion, ""},
		{"invalid_grant", descExpired, ""},
		{"invalid_client_id", descClientID, ""},
		{"unsupported_grant_type", descGrantType, ""},
		{"invalid_grant", descMutualAuth, mutualTLS},
	}
	seen := map[string]string{}
	for _, r := range refusals {
		fix := fixOf(r.code, r.desc)
		require.NotEmpty(t, fix, "%s %q gets no fix", r.code, r.desc)
		if r.sameFixAs != "" {
			assert.Equal(t, r.sameFixAs, fix, "%s %q", r.code, r.desc)
			continue
		}
		if prev, dup := seen[fix]; dup {
			t.Errorf("%s %q gets the fix meant for %s", r.code, r.desc, prev)
		}
		seen[fix] = r.code + " " + r.desc
	}
}
