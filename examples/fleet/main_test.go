package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/testtool"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// childEnv makes the test binary run the program instead of the tests: the
// fleet test starts it as separate OS processes.
const childEnv = "SFMTLS_FLEET_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "fleet:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Three processes of a fleet, started together against one org and one
// Redis, log in once between them, and the token at rest is encrypted.
func TestThreeProcessesShareOneLogin(t *testing.T) {
	rs := startTestRedis(t)
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"}, map[string]any{"Name": "Globex"})
	env := orgEnv(t, org)
	env["SF_REDIS_URL"] = "redis://" + rs.addr + "/0"
	env["SF_TOKEN_ENCRYPTION_KEY"] = randomKey(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const procs = 3
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			// The child sees only the SF_* settings given here, not the developer's.
			cmd.Env = []string{childEnv + "=1"}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "SF_") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.WaitDelay = 5 * time.Second
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()

	logins := 0
	for i := range procs {
		out := string(outs[i])
		require.NoError(t, errs[i], "process %d:\n%s", i+1, out)
		assert.Contains(t, out, "this process: query: 2 record(s)", "process %d", i+1)
		assert.Contains(t, out, "this process: limits: DailyApiRequests", "process %d", i+1)
		assert.Contains(t, out, "token encrypted: yes", "process %d", i+1)
		logins += strings.Count(out, "logged in (1 token request(s))")
		t.Logf("process %d:\n%s", i+1, out)
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "the org's token requests for %d processes", procs)
	assert.Equal(t, 1, logins, "processes that logged in")

	// The one stored token is encrypted: the value is 'e' + nonce + AES-GCM
	// ciphertext, and no issued access token appears in it.
	rdb := redis.NewClient(&redis.Options{Addr: rs.addr, DialTimeout: time.Second})
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "sfmtls:token:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	v, err := rdb.HGet(ctx, keys[0], "v").Result()
	require.NoError(t, err)
	require.NotEmpty(t, v)
	assert.Equal(t, byte('e'), v[0], "the stored value is encrypted")
	issued := org.IssuedTokens()
	require.Len(t, issued, 1)
	assert.NotContains(t, v, issued[0])
}

// The demo mode (no SF_LOGIN_URL): three workers on a fake org, one login.
func TestDemoRunsThreeWorkersOnOneLogin(t *testing.T) {
	rs := startTestRedis(t)
	env := map[string]string{"SF_REDIS_URL": "redis://" + rs.addr + "/0"}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(k string) string { return env[k] }), out.String())
	assert.Contains(t, out.String(), "using a fake org")
	assert.Contains(t, out.String(), "token encrypted: no")
	assert.Contains(t, out.String(), "The token is stored unencrypted")
	assert.Equal(t, 2, strings.Count(out.String(), "session from the shared store"), out.String())
	assert.Contains(t, out.String(), "The fake org saw 1 token request(s) for 3 workers.")
}

// With neither SF_LOGIN_URL nor SF_REDIS_URL it starts its own redis-server
// from PATH, so that `go run .` works as it stands.
func TestDemoStartsItsOwnRedis(t *testing.T) {
	requireRedisServer(t)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(string) string { return "" }), out.String())
	assert.Contains(t, out.String(), "started a throwaway redis-server")
	assert.Contains(t, out.String(), "The fake org saw 1 token request(s) for 3 workers.")
}

// Settings that cannot work are refused with what to set, and never echo the
// Redis password.
func TestRefusesBadSettings(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	realOrg := orgEnv(t, org)
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a real org needs SF_REDIS_URL", realOrg, "SF_REDIS_URL is not set"},
		{"a URL that does not parse", map[string]string{"SF_REDIS_URL": "redis://user:s3cret-pw@host:port%zz/0"}, "SF_REDIS_URL: redisstore: not a Redis URL"},
		{"a scheme that is not Redis", map[string]string{"SF_REDIS_URL": "http://:s3cret-pw@localhost:6379"}, "SF_REDIS_URL: redisstore: not a Redis URL"},
		{"a key that is not base64", map[string]string{"SF_REDIS_URL": "redis://127.0.0.1:1/0", "SF_TOKEN_ENCRYPTION_KEY": "not base64!"}, "SF_TOKEN_ENCRYPTION_KEY must be the base64 of 32"},
		{"a key of 16 bytes", map[string]string{"SF_REDIS_URL": "redis://127.0.0.1:1/0", "SF_TOKEN_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 16))}, "SF_TOKEN_ENCRYPTION_KEY must be the base64 of 32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), &out, func(k string) string { return tc.env[k] })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error()+out.String(), "s3cret-pw")
		})
	}
}

// orgEnv gives the SF_* settings that reach org as a real org is reached:
// keystore files, a CA file, the mutual TLS port.
func orgEnv(t *testing.T, org *salesforcetest.Org) map[string]string {
	t.Helper()
	files, err := org.PKI.WriteFiles(t.TempDir(), "store-pw")
	require.NoError(t, err)
	return map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSPKCS12, "SF_MTLS_KEYSTORE_PASSWORD": "store-pw",
		"SF_JWT_KEYSTORE": files.JWTJKS, "SF_JWT_KEYSTORE_PASSWORD": "store-pw", "SF_JWT_ALIAS": "mulesoft",
		"SF_CA_FILE": files.ServerCA, "SF_MTLS_PORT": strconv.Itoa(org.Port),
	}
}

func randomKey(t *testing.T) string {
	t.Helper()
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(key)
}

// startTestRedis starts a redis-server as the demo does, stopped when the
// test ends; a missing binary fails the test.
func startTestRedis(t *testing.T) *localRedis {
	t.Helper()
	requireRedisServer(t)
	s, err := startRedis(context.Background())
	require.NoError(t, err)
	t.Cleanup(s.stop)
	return s
}

func requireRedisServer(t *testing.T) {
	t.Helper()
	testtool.Need(t, "redis-server")
}
