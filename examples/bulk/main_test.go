package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example upserts the CSV and extracts it again against the fake org.
func TestUpsertsAndExtractsAgainstTheFakeOrg(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(string) string { return "" }), out.String())
	s := out.String()
	assert.Contains(t, s, "1. upsert: 3 processed, 0 failed in 1 job(s)")
	assert.Regexp(t, `2\. 001\w{15} Acme Rockets \(created: true\)`, s)
	assert.Regexp(t, `3\. extracted 001\w{15} "Globex, Inc\." industry=Energy employees=null`, s)
	assert.Regexp(t, `3\. extracted 001\w{15} "Acme Rockets" industry=Manufacturing employees=120`, s)
	assert.Contains(t, s, "4. done: deleted 3 Accounts and the jobs")
}

// Against a real org the external id field must be named.
func TestNeedsTheExternalIDField(t *testing.T) {
	env := map[string]string{"SF_LOGIN_URL": "https://acme.my.salesforce.com"}
	err := run(t.Context(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SF_BULK_EXTERNAL_ID")
}
