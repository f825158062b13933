package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example runs end to end against the fake org when no SF_* setting is set.
func TestRunsAgainstTheFakeOrg(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, func(string) string { return "" }), out.String())
	assert.Contains(t, out.String(), "using a fake org")
	assert.Regexp(t, `(connected over mutual TLS|5\. done): `, out.String())
}

// A half-configured environment is refused with the missing settings named.
func TestNamesMissingSettings(t *testing.T) {
	env := map[string]string{"SF_LOGIN_URL": "https://acme.my.salesforce.com"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SF_CONSUMER_KEY")
	assert.Contains(t, err.Error(), "SF_MTLS_KEYSTORE")
}
