package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 20.5: fake-org --env-file writes the export lines to a file a shell
// sources, mode 0600, once the org is ready; the settings read back from it
// reach the org (sfmtls check passes), and the file is gone on exit, when
// its port is closed. eval "$(sfmtls fake-org)" could never work: fake-org
// runs until Ctrl-C.
func TestFakeOrgEnvFile(t *testing.T) {
	dir := t.TempDir()
	// A name with a space and a quote, to show the values are quoted.
	envFile := filepath.Join(dir, "fake org's.env")
	out, stop := fakeOrg(t, "--env-file", envFile)
	fi, err := os.Stat(envFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "it names the keystores and how to read their password")

	// sh sources the file; the variables it sets are those printed.
	names := []string{"SF_LOGIN_URL", "SF_CONSUMER_KEY", "SF_USERNAME", "SF_MTLS_KEYSTORE", "SF_JWT_KEYSTORE",
		"SF_CA_FILE", "SF_MTLS_PORT", "SF_MTLS_KEYSTORE_PASSWORD", "SF_JWT_KEYSTORE_PASSWORD"}
	var script strings.Builder
	script.WriteString(`set -eu; . "$ENV_FILE"`)
	for _, n := range names {
		script.WriteString(`; printf '%s=%s\n' ` + n + ` "$` + n + `"`)
	}
	vars := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(shell(t, script.String(), "ENV_FILE="+envFile), "\n"), "\n") {
		k, v, _ := strings.Cut(l, "=")
		vars[k] = v
	}
	require.Len(t, vars, len(names))
	assert.Equal(t, strings.TrimPrefix(lineWithPrefix(t, out, "export SF_LOGIN_URL="), "export SF_LOGIN_URL="), vars["SF_LOGIN_URL"])
	pwDir := strings.Fields(strings.SplitN(out, "files in ", 2)[1])[0]
	pw, err := os.ReadFile(filepath.Join(pwDir, "keystore-password"))
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(pw)), vars["SF_MTLS_KEYSTORE_PASSWORD"])
	assert.Contains(t, out, "# the export lines above are in "+envFile)

	// The settings as the shell read them reach the org.
	r := sfmtls(t, vars, nil, "check")
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Connection OK.")

	// An existing file is not replaced without --force.
	other := filepath.Join(dir, "taken.env")
	require.NoError(t, os.WriteFile(other, []byte("keep me\n"), 0o600))
	r = sfmtls(t, nil, nil, "fake-org", "--env-file", other)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, other+" already exists: choose another name, or add --force to replace it")
	raw, err := os.ReadFile(other)
	require.NoError(t, err)
	assert.Equal(t, "keep me\n", string(raw))

	_, stopForced := fakeOrg(t, "--env-file", other, "--force")
	raw, err = os.ReadFile(other)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "export SF_LOGIN_URL='https://", "replaced with --force")
	require.Equal(t, exitOK, stopForced())

	require.Equal(t, exitOK, stop())
	_, err = os.Stat(envFile)
	assert.True(t, os.IsNotExist(err), "removed on exit, when its settings stop working: %v", err)
}
