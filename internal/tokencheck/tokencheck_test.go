package tokencheck_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
	"github.com/sfmtls/sfmtls/keystore"
)

func TestCheckToken(t *testing.T) {
	const good = "00DFAKE0000000001!AQ4AQFakeToken.abc_def-123"
	cases := []struct {
		name, token, instance, login string
		extra                        []string
		field                        string // "" means accepted
	}{
		{"My Domain", good, "https://acme.my.salesforce.com", "acme.my.salesforce.com", nil, ""},
		{"sandbox partition", good, "https://acme--uat.sandbox.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com:8443", nil, ""},
		{"Lightning host", good, "https://acme.lightning.force.com", "acme.my.salesforce.com", nil, ""},
		{"legacy instance", good, "https://na123.salesforce.com", "login.salesforce.com", nil, ""},
		{"Government Cloud Plus Defense", good, "https://agency.my.salesforce.mil", "agency.my.salesforce.mil", nil, ""},
		{"login host itself", good, "https://127.0.0.1", "https://127.0.0.1:41234", nil, ""},
		{"extra host exact", good, "https://sf.internal.example", "acme.my.salesforce.com", []string{"sf.internal.example"}, ""},
		{"extra host suffix", good, "https://a.proxy.example", "acme.my.salesforce.com", []string{"*.proxy.example"}, ""},
		{"extra suffix is not the apex", good, "https://proxy.example", "acme.my.salesforce.com", []string{".proxy.example"}, "instance_url"},
		{"look-alike domain", good, "https://acme.my.salesforce.com.evil.example", "acme.my.salesforce.com", nil, "instance_url"},
		{"suffix without a dot", good, "https://evilsalesforce.com", "acme.my.salesforce.com", nil, "instance_url"},
		{"foreign host", good, "https://collector.example.net", "acme.my.salesforce.com", nil, "instance_url"},
		{"http", good, "http://acme.my.salesforce.com", "acme.my.salesforce.com", nil, "instance_url"},
		{"https:// alone", good, "https://", "acme.my.salesforce.com", nil, "instance_url"},
		{"not a url", good, "not a url", "acme.my.salesforce.com", nil, "instance_url"},
		{"relative", good, "/relative", "acme.my.salesforce.com", nil, "instance_url"},
		{"user info", good, "https://user:pw@acme.my.salesforce.com", "acme.my.salesforce.com", nil, "instance_url"},
		{"empty instance", good, "", "acme.my.salesforce.com", nil, "instance_url"},
		{"CR LF in token", "00D\r\nX-Evil: 1", "https://acme.my.salesforce.com", "acme.my.salesforce.com", nil, "access_token"},
		{"space in token", "00D abc", "https://acme.my.salesforce.com", "acme.my.salesforce.com", nil, "access_token"},
		{"NUL in token", "00D\x00abc", "https://acme.my.salesforce.com", "acme.my.salesforce.com", nil, "access_token"},
		{"non-ASCII token", "00Dé", "https://acme.my.salesforce.com", "acme.my.salesforce.com", nil, "access_token"},
		{"empty token", "", "https://acme.my.salesforce.com", "acme.my.salesforce.com", nil, "access_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := tokencheck.Check(&auth.Token{AccessToken: keystore.Secret(c.token), InstanceURL: c.instance}, c.login, c.extra)
			if c.field == "" {
				assert.NoError(t, err)
				return
			}
			var ite *auth.InvalidTokenError
			require.ErrorAs(t, err, &ite)
			assert.Equal(t, c.field, ite.Field)
			assert.NotEmpty(t, ite.Reason)
			assert.NotEmpty(t, ite.Fix())
			if c.token != "" {
				assert.NotContains(t, err.Error(), c.token)
			}
		})
	}
	var ite *auth.InvalidTokenError
	require.ErrorAs(t, tokencheck.Check(nil, "x", nil), &ite)
	assert.Contains(t, tokencheck.Domains(), "force.com")
}
