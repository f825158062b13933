package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// The example runs end to end against the fake org when SF_LOGIN_URL is unset.
func TestRunsAgainstTheFakeOrg(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(string) string { return "" }), out.String())
	assert.Contains(t, out.String(), "using a fake org")
	assert.Contains(t, out.String(), "client.p12 (PKCS12)")
	assert.Contains(t, out.String(), "2 Account records read, 1 token request(s)")
}

// With the SF_* settings it loads the one PKCS#12 they name for both jobs.
func TestRunsWithTheSettings(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	both, err := org.PKI.NewRSAClientIdentity(org.Username)
	require.NoError(t, err)
	org.Setup().RegisterMutualAuthCertificate(both.Leaf())
	org.Setup().SetAppCertificate(both.Leaf())
	dir := t.TempDir()
	path := filepath.Join(dir, "client.p12")
	require.NoError(t, keystore.WriteFile(path, both, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: "store-pw", Overwrite: true}))
	files, err := org.PKI.WriteFiles(dir, "store-pw")
	require.NoError(t, err)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": path, "SF_MTLS_KEYSTORE_PASSWORD": "store-pw",
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
}
