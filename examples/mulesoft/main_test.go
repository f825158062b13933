package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// The example runs end to end against the fake org when SF_LOGIN_URL is unset.
func TestRunsAgainstTheFakeOrg(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(string) string { return "" }), out.String())
	assert.Contains(t, out.String(), "using a fake org")
	assert.Contains(t, out.String(), "issued by sfmtls fake org client intermediate CA")
	assert.Contains(t, out.String(), "2 Account records read, 1 token request(s)")
}

// With the SF_* settings it loads the two stores they name.
func TestRunsWithTheSettings(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	files, err := org.PKI.WriteFiles(t.TempDir(), "store-pw")
	require.NoError(t, err)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSJKS, "SF_MTLS_KEYSTORE_PASSWORD": "store-pw",
		"SF_JWT_KEYSTORE": files.JWTJKS, "SF_JWT_KEYSTORE_PASSWORD": "store-pw",
		"SF_CA_FILE": files.ServerCA, "SF_MTLS_PORT": fmt.Sprint(org.Port),
	}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(k string) string { return env[k] }), out.String())
	assert.Contains(t, out.String(), "connected over mutual TLS")
}

// A half-configured environment is refused with the missing settings named.
func TestNamesMissingSettings(t *testing.T) {
	env := map[string]string{"SF_LOGIN_URL": "https://acme.my.salesforce.com"}
	err := run(t.Context(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SF_CONSUMER_KEY")
	assert.Contains(t, err.Error(), "SF_MTLS_KEYSTORE")
	assert.Contains(t, err.Error(), "SF_JWT_KEYSTORE")
}
