package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// The example runs end to end against the fake org when no SF_* setting is set.
func TestRunsAgainstTheFakeOrg(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(string) string { return "" }), out.String())
	assert.Contains(t, out.String(), "using a fake org")
	assert.Contains(t, out.String(), "3. query: 5 records")
	assert.Contains(t, out.String(), `updated to "sfmtls quickstart (updated)"`)
	assert.Contains(t, out.String(), "5. done: 1 token request(s)")
}

// With SF_* settings it runs against the org they name, here a fake org
// reached as a real one would be: keystore files, a CA file, the port.
func TestRunsWithTheSettings(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{PageSize: 1})
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"}, map[string]any{"Name": "Globex"})
	files, err := org.PKI.WriteFiles(t.TempDir(), "store-pw")
	require.NoError(t, err)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSPKCS12, "SF_MTLS_KEYSTORE_PASSWORD": "store-pw",
		"SF_JWT_KEYSTORE": files.JWTJKS, "SF_JWT_KEYSTORE_PASSWORD": "store-pw", "SF_JWT_ALIAS": "mulesoft",
		"SF_CA_FILE": files.ServerCA, "SF_MTLS_PORT": fmt.Sprint(org.Port),
	}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(k string) string { return env[k] }), out.String())
	assert.NotContains(t, out.String(), "using a fake org")
	assert.Contains(t, out.String(), "3. query: 2 records")
}

// A half-configured environment is refused with the missing settings named.
func TestNamesMissingSettings(t *testing.T) {
	env := map[string]string{"SF_LOGIN_URL": "https://acme.my.salesforce.com"}
	err := run(t.Context(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SF_CONSUMER_KEY")
	assert.Contains(t, err.Error(), "SF_MTLS_KEYSTORE")
}
