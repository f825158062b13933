package main

import (
	"bytes"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// A Redis token store that fails (nothing listens on its port) costs a
// login, and the token cache's warnings come out through newLogger as the
// tool's other warnings do: one "warning: …" line each, the cause after a
// colon, no slog text (time=, level=, msg=), no secret.
func TestRedisStoreWarningsInTheToolsStyle(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	ts := &settings.TokenStore{Spec: "redis://:s3cret-pw@" + closedAddr(t) + "/0"}
	store, closeStore, err := ts.Open(func(string) string { return "" })
	require.NoError(t, err)
	defer closeStore()

	var stderr syncBuffer
	cfg := org.ClientConfig()
	cfg.Store = store
	cfg.Logger = newLogger(&stderr, slog.LevelWarn)
	c, err := client.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	tok, err := c.Token(t.Context())
	require.NoError(t, err, "a store that is down costs a login, not the call")

	out := stderr.String()
	t.Logf("stderr:\n%s", out)
	require.NotEmpty(t, out, "the failing store is warned about")
	line := regexp.MustCompile(`^warning: [a-z][^:=]*; [^:=]+: redisstore: .*connection refused.*$`)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		assert.Regexp(t, line, l)
	}
	assert.Contains(t, out, "warning: token store unreadable; logging in instead: redisstore: ")
	for _, not := range []string{"time=", "level=", "msg=", "sfmtls: ", "s3cret-pw", string(tok.AccessToken)} {
		assert.NotContains(t, out, not)
	}
}

// The handler's format: the level's word, the message without the SDK's
// "sfmtls: ", the error first, other attributes as k=v, the fix last in
// parentheses; an attribute named as a secret is never printed; records
// below the minimum are dropped.
func TestLineHandlerFormat(t *testing.T) {
	var out bytes.Buffer
	log := newLogger(&out, slog.LevelWarn).With(slog.String("host", "h:8443"))
	log.Warn("sfmtls: token store lock unavailable; logging in without it",
		slog.String("error", "redisstore: i/o timeout"), slog.String("access_token", "00Dxx!secret"),
		slog.Int("attempt", 2), slog.String("fix", "start Redis"))
	log.Info("sfmtls: org API usage passed a threshold")
	log.Debug("sfmtls: token fetched")
	assert.Equal(t, "warning: token store lock unavailable; logging in without it: redisstore: i/o timeout host=h:8443 attempt=2 (start Redis)\n",
		out.String())

	out.Reset()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log.Warn("w", slog.String("error", strings.Repeat("x", 100)))
		}()
	}
	wg.Wait()
	assert.Equal(t, 8, strings.Count(out.String(), "\n"))
	assert.Regexp(t, `^(warning: w: x{100} host=h:8443\n){8}$`, out.String(), "one whole line per record")
}
