package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/diag"
)

// check --json prints diag.Report as one JSON object, with the exit status of
// the text output: 0 when every step passed, 1 when one failed.
func TestCheckJSON(t *testing.T) {
	org, vars := orgEnv(t)
	r := sfmtls(t, vars, nil, "check", "--json")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	var rep diag.Report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.True(t, rep.OK)
	require.Len(t, rep.Steps, 5)
	for i, name := range checkSteps {
		assert.Equal(t, name, rep.Steps[i].Name)
		assert.Equal(t, diag.StatusOK, rep.Steps[i].Status)
	}
	assert.Contains(t, rep.Steps[4].Detail, "-> 200")
	assert.NotContains(t, r.stdout, "sfmtls check:", "nothing but the JSON object")
	assert.NotContains(t, r.stdout, orgPassword)

	org.Setup().PreAuthorize(org.Username, false)
	r = sfmtls(t, vars, nil, "check", "--json")
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	var failed map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &failed), r.stdout)
	assert.Equal(t, false, failed["ok"])
	steps := failed["steps"].([]any)
	require.Len(t, steps, 5)
	token := steps[3].(map[string]any)
	assert.Equal(t, diag.StepToken, token["name"])
	assert.Equal(t, "failed", token["status"])
	assert.Contains(t, token["error"], "user hasn't approved this consumer")
	assert.Contains(t, token["fix"], "pre-authorize the user")
	assert.Equal(t, "skipped", steps[4].(map[string]any)["status"])
	assert.NotContains(t, r.stdout, orgPassword)

	// A fix in the JSON names the flag beside the variable, as the text does.
	delete(vars, "SF_MTLS_KEYSTORE_PASSWORD")
	r = sfmtls(t, vars, nil, "check", "--json", "--mtls-keystore-password-file", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, 1, r.code)
	rep = diag.Report{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.Equal(t, diag.StepMTLS, rep.Failed().Name)
	assert.Contains(t, rep.Failed().Fix, "--mtls-keystore-password-file/SF_MTLS_KEYSTORE_PASSWORD_FILE")
}
