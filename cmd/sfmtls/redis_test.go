package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/redisserver"
	"github.com/sfmtls/sfmtls/redisstore"
)

func newEncryptionKey(t *testing.T) string {
	t.Helper()
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(key)
}

// Issue 13's proof for the tool with a Redis URL: 8 sequential `sfmtls query`
// runs sharing a real redis-server make 1 token request in all, and the token
// is stored encrypted when SF_TOKEN_ENCRYPTION_KEY is set.
func TestQueryRunsShareOneSessionThroughRedis(t *testing.T) {
	rs := redisserver.Start(t)
	org, vars := orgEnv(t)
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})
	vars["SF_TOKEN_STORE"] = rs.URL()
	vars["SF_TOKEN_ENCRYPTION_KEY"] = newEncryptionKey(t)

	for i := range 8 {
		r := sfmtls(t, vars, nil, "query", "SELECT Name FROM Account")
		require.Equal(t, 0, r.code, "run %d: %s", i+1, r.stderr)
		assert.Contains(t, r.stdout, `"Name":"Acme"`)
		assert.Empty(t, r.stderr)
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "8 runs, 1 login")

	r := sfmtls(t, vars, nil, "token", "--show-token")
	require.Equal(t, 0, r.code, r.stderr)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tok))
	require.NotEmpty(t, tok.AccessToken)
	assert.Equal(t, int64(1), org.Stats().TokenRequests)

	// What Redis holds: one token key, under the sfmtls: prefix, sealed.
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr(), DisableIdentity: true})
	defer rdb.Close()
	ctx := t.Context()
	keys, err := rdb.Keys(ctx, "sfmtls:token:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	stored, err := rdb.HGet(ctx, keys[0], "v").Bytes()
	require.NoError(t, err)
	assert.NotContains(t, string(stored), tok.AccessToken, "the token is encrypted at rest")
	assert.NotContains(t, string(stored), "instance_url")

	// Another encryption key cannot read it: the run logs in and replaces it.
	other := map[string]string{}
	for k, v := range vars {
		other[k] = v
	}
	other["SF_TOKEN_ENCRYPTION_KEY"] = newEncryptionKey(t)
	r = sfmtls(t, other, nil, "query", "SELECT Name FROM Account")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, int64(2), org.Stats().TokenRequests)

	// The key may come from a 0600 file instead.
	keyFile := filepath.Join(t.TempDir(), "token.key")
	require.NoError(t, os.WriteFile(keyFile, []byte(other["SF_TOKEN_ENCRYPTION_KEY"]+"\n"), 0o600))
	delete(other, "SF_TOKEN_ENCRYPTION_KEY")
	r = sfmtls(t, other, nil, "query", "--token-encryption-key-file", keyFile, "SELECT Name FROM Account")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, int64(2), org.Stats().TokenRequests, "the file's key reads the stored token")
}

// Redis being down never fails a run that could succeed without it: the run
// warns and logs in by itself; with Redis back, sharing resumes.
func TestRedisDownCostsALoginNotTheRun(t *testing.T) {
	rs := redisserver.Start(t)
	org, vars := orgEnv(t)
	vars["SF_TOKEN_STORE"] = rs.URL()

	require.Equal(t, 0, sfmtls(t, vars, nil, "query", "SELECT Id FROM Account").code)
	require.Equal(t, int64(1), org.Stats().TokenRequests)

	rs.Stop()
	for i := range 2 {
		start := time.Now()
		r := sfmtls(t, vars, nil, "query", "SELECT Id FROM Account")
		require.Equal(t, 0, r.code, "run %d with Redis down: %s", i+1, r.stderr)
		assert.Contains(t, r.stderr, "warning: token store", "the run says the store failed, in the tool's style")
		assert.NotContains(t, r.stderr, "level=", "no slog text lines")
		assert.NotContains(t, r.stderr, "Bearer")
		t.Logf("run %d with Redis down took %v; stderr: %s", i+1, time.Since(start).Round(time.Millisecond), strings.TrimSpace(r.stderr))
	}
	assert.Equal(t, int64(3), org.Stats().TokenRequests, "each run logged in by itself")

	rs.Start() // empty: no persistence
	for range 3 {
		r := sfmtls(t, vars, nil, "query", "SELECT Id FROM Account")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr)
	}
	assert.Equal(t, int64(4), org.Stats().TokenRequests, "one login, then the stored session again")
}

// A service on redisstore and the tool share one session: what the service
// stored, the tool uses (same Redis, same login identity, same key).
func TestToolSharesAServicesRedisSession(t *testing.T) {
	rs := redisserver.Start(t)
	org, vars := orgEnv(t)
	b64 := newEncryptionKey(t)
	key, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)

	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr(), DisableIdentity: true})
	defer rdb.Close()
	store, err := redisstore.New(rdb, redisstore.Options{EncryptionKey: key})
	require.NoError(t, err)
	cfg := org.ClientConfig()
	cfg.Store = store
	svc, err := client.New(cfg)
	require.NoError(t, err)
	defer svc.Close()
	_, err = svc.Token(t.Context())
	require.NoError(t, err)
	require.Equal(t, int64(1), org.Stats().TokenRequests)

	vars["SF_TOKEN_STORE"] = rs.URL()
	vars["SF_TOKEN_ENCRYPTION_KEY"] = b64
	for range 3 {
		r := sfmtls(t, vars, nil, "query", "SELECT Id FROM Account")
		require.Equal(t, 0, r.code, r.stderr)
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "the tool used the service's session")
}
