package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// TestMain keeps the default file store of the commands under test out of the
// user's real cache directory.
func TestMain(m *testing.M) {
	// The proofs of listen (listen_proof_test.go) run this test binary as the
	// tool, to kill a real process.
	if os.Getenv(runAsTool) == "1" {
		main()
	}
	dir, err := os.MkdirTemp("", "sfmtls-cmd-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	fixtures := filepath.Join(dir, "fixtures")
	if err := os.Mkdir(fixtures, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := privateFixtures(fixtures); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	redis.SetLogger(discardLog{}) // as main does
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Issue 13's proof for the tool: 8 sequential `sfmtls query` runs with the
// file store make 1 token request in all; --no-token-cache logs in each time.
func TestQueryRunsShareOneSessionThroughTheFileStore(t *testing.T) {
	org, vars := orgEnv(t)
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})
	for i := range 8 {
		r := sfmtls(t, vars, nil, "query", "SELECT Name FROM Account")
		require.Equal(t, 0, r.code, "run %d: %s", i+1, r.stderr)
		assert.Equal(t, 1, strings.Count(r.stdout, "\n"))
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "8 runs, 1 login")

	// The default store is one file per login URL + consumer key + username
	// under the user's cache directory, mode 0600.
	st, key := tokenStore(t, filepath.Join(os.Getenv("XDG_CACHE_HOME"), "sfmtls", "tokens"), org)
	assertMode0600(t, st.Path(key))
	tok, err := st.Load(t.Context(), key)
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Equal(t, org.StandardURL, tok.InstanceURL, "the token answer's instance_url, as stored")

	for range 3 {
		r := sfmtls(t, vars, nil, "query", "--no-token-cache", "SELECT Name FROM Account")
		require.Equal(t, 0, r.code, r.stderr)
	}
	assert.Equal(t, int64(4), org.Stats().TokenRequests, "--no-token-cache logs in every run")
	vars["SF_TOKEN_STORE"] = "none"
	require.Equal(t, 0, sfmtls(t, vars, nil, "token").code)
	assert.Equal(t, int64(5), org.Stats().TokenRequests, "SF_TOKEN_STORE=none")
}

// tokenStore opens the file store in dir as the tool does, and names the
// org's identity in it as the SDK does.
func tokenStore(t *testing.T, dir string, org *salesforcetest.Org) (*auth.FileStore, string) {
	t.Helper()
	st, err := auth.NewFileStore(dir)
	require.NoError(t, err)
	return st, storekey.Key(org.URL, org.ConsumerKey, org.Username)
}

// A stored token Salesforce rejects (its session ended) and a token file that
// cannot be read are replaced by one new login, and the run succeeds.
func TestRejectedOrUnreadableStoredTokenIsReplaced(t *testing.T) {
	org, vars := orgEnv(t)
	dir := t.TempDir()
	vars["SF_TOKEN_STORE"] = "file:" + dir
	st, key := tokenStore(t, dir, org)
	path := st.Path(key)

	require.Equal(t, 0, sfmtls(t, vars, nil, "query", "SELECT Name FROM Account").code)
	require.Equal(t, int64(1), org.Stats().TokenRequests)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	// Salesforce ends every session: the stored token now gets 401 INVALID_SESSION_ID.
	org.Faults().ExpireAllSessions()
	r := sfmtls(t, vars, nil, "query", "SELECT Name FROM Account")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, int64(2), org.Stats().TokenRequests, "one new login")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotEqual(t, string(before), string(after), "the new session is stored")
	// ... and used by the next run.
	require.Equal(t, 0, sfmtls(t, vars, nil, "query", "SELECT Name FROM Account").code)
	assert.Equal(t, int64(2), org.Stats().TokenRequests)

	require.NoError(t, os.WriteFile(path, []byte("not a token"), 0o600))
	r = sfmtls(t, vars, nil, "token")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, int64(3), org.Stats().TokenRequests)
	_, err = st.Load(t.Context(), key)
	assert.NoError(t, err, "the unreadable file was replaced")
}

func TestTokenStoreSettings(t *testing.T) {
	_, vars := orgEnv(t)
	r := sfmtls(t, vars, nil, "query", "--token-store", "memcached", "SELECT Id FROM Account")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `unknown token store "memcached"`)

	// A Redis URL the tool cannot use is wrong usage, and its password is not echoed.
	r = sfmtls(t, vars, nil, "query", "--token-store", "redis://:s3cret-pw@127.0.0.1:notaport/0", "SELECT Id FROM Account")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "not a Redis URL")
	assert.NotContains(t, r.stderr, "s3cret-pw")

	vars["SF_TOKEN_STORE"] = "redis://127.0.0.1:1/0"
	vars["SF_TOKEN_ENCRYPTION_KEY"] = "c2hvcnQ="
	r = sfmtls(t, vars, nil, "query", "SELECT Id FROM Account")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "invalid token encryption key in SF_TOKEN_ENCRYPTION_KEY")
	assert.Contains(t, r.stderr, "openssl rand -base64 32")
	assert.NotContains(t, r.stderr, "c2hvcnQ=")
	// check tests the login itself and ignores the store.
	assert.Equal(t, 0, sfmtls(t, vars, nil, "check").code)
}

// --instance-hosts reaches the transport: an entry that is no host name is
// refused there with the setting's name.
func TestInstanceHostsReachTheTransport(t *testing.T) {
	_, vars := orgEnv(t)
	r := sfmtls(t, vars, nil, "query", "--instance-hosts", "http://bad", "SELECT Id FROM Account")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "InstanceHosts")
	vars["SF_INSTANCE_HOSTS"] = "instance.example.com"
	assert.Equal(t, 0, sfmtls(t, vars, nil, "query", "SELECT Id FROM Account").code)
}
