package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inspect says when a file holds no private key. A truststore or a PEM
// certificate is legitimate, so the exit status stays 0; the line says what it
// is good for and how to get a keystore with the key.
func TestInspectSaysThereIsNoPrivateKey(t *testing.T) {
	for _, f := range []string{"client-leaf-only.pem", "client-chain.pem", "truststore.jks", "truststore.p12"} {
		t.Run(f, func(t *testing.T) {
			r := sfmtls(t, withPW, nil, "inspect", "--keystore", fixture(f))
			require.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, "Entry 1: trusted-cert")
			assert.Contains(t, r.stdout, "\nNo private key: certificates only. Fine as a truststore (--ca-file/SF_CA_FILE)")
			assert.NotContains(t, r.stdout, "private-key")

			r = sfmtls(t, withPW, nil, "inspect", "--json", "--keystore", fixture(f))
			require.Equal(t, 0, r.code, r.stderr)
			var got struct {
				PrivateKey *bool `json:"private_key"`
				Entries    []struct {
					Kind string `json:"kind"`
				} `json:"entries"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
			require.NotNil(t, got.PrivateKey)
			assert.False(t, *got.PrivateKey)
			assert.Equal(t, "trusted-cert", got.Entries[0].Kind)
		})
	}

	// A keystore with its key says nothing of the kind, and JSON says it has one.
	r := sfmtls(t, withPW, nil, "inspect", "--keystore", fixture("client.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "No private key")
	r = sfmtls(t, withPW, nil, "inspect", "--json", "--keystore", fixture("client.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"private_key": true`)
}

// A CSR is no keystore: inspect says so, and what to do with it, instead of
// "No entries." and nothing else.
func TestInspectOfACSRSaysItIsOne(t *testing.T) {
	dir := t.TempDir()
	key, csr := filepath.Join(dir, "k.pem"), filepath.Join(dir, "x.csr")
	r := sfmtls(t, withPW, nil, "csr", "--cn", "integration.user@example.com", "--key-file", key, "--csr", csr)
	require.Equal(t, 0, r.code, r.stderr)

	r = sfmtls(t, withPW, nil, "inspect", "--keystore", csr)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "No private key: "+csr+" is a certificate signing request (CSR), not a keystore")
	assert.Contains(t, r.stdout, "sfmtls keystore create --key-file KEY --cert CERT")
	assert.NotContains(t, r.stdout, "No entries")

	r = sfmtls(t, withPW, nil, "inspect", "--json", "--keystore", csr)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"private_key": false`)
}
