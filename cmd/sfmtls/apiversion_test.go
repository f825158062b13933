package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// An API version Salesforce would answer with a 404 (it numbers them NN.0:
// REST API Developer Guide, "Versions") is refused before any request, with
// the fix giving the form.
func TestAPIVersionNotOfTheFormNN0IsRefused(t *testing.T) {
	org, vars := orgEnv(t)
	for _, v := range []string{"20", "v65", "65.1"} {
		r := sfmtls(t, vars, nil, "query", "--api-version", v, "SELECT Id FROM Account")
		assert.Equal(t, 1, r.code, r.stderr)
		assert.Regexp(t, `^sfmtls: client: Config\.APIVersion: "`+regexp.QuoteMeta(v)+`" is not a Salesforce API version \(give it in the form NN\.0, such as 65\.0, .*\)\n$`, r.stderr)
		assert.NotContains(t, r.stderr, "404")

		vars["SF_API_VERSION"] = v
		r = sfmtls(t, vars, nil, "check")
		delete(vars, "SF_API_VERSION")
		assert.Equal(t, 1, r.code, r.stdout)
		// Checked before any network step, naming the flag and the variable.
		assert.Regexp(t, `(?m)^\[3/5\] TLS handshake +not run$`, r.stdout)
		assert.Regexp(t, `(?m)^\[5/5\] REST API +FAILED  client: Config\.APIVersion \(--api-version/SF_API_VERSION\): "`+regexp.QuoteMeta(v)+`" is not a Salesforce API version$`, r.stdout)
		assert.NotContains(t, r.stdout, "cause:", "the cause would repeat the error")
		assert.Regexp(t, `(?m)^      fix: give it in the form NN\.0, such as 65\.0`, r.stdout)
	}
	assert.Zero(t, org.Stats().APIRequests, "nothing reached the REST API")
	assert.Zero(t, org.Stats().TokenRequests, "check logged in for none of them")
}
