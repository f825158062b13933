package auth_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/internal/storetest"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
)

// The file store keeps the Store contract every store keeps.
func TestFileStoreContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) auth.Store {
			s, err := auth.NewFileStore(filepath.Join(t.TempDir(), "tokens"))
			require.NoError(t, err)
			return s
		},
		SetRaw: func(t *testing.T, s auth.Store, key string, data []byte) {
			require.NoError(t, os.WriteFile(s.(*auth.FileStore).Path(key), data, 0o600))
		},
	})
}

func newFileStore(t *testing.T) (*auth.FileStore, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tokens")
	s, err := auth.NewFileStore(dir)
	require.NoError(t, err)
	return s, dir
}

func TestFileStoreModes(t *testing.T) {
	s, dir := newFileStore(t)
	key := storetest.Key(1)
	require.NoError(t, s.Save(t.Context(), key, storetest.Token("00Dsecret!token")))
	assert.Equal(t, filepath.Join(dir, key+".json"), s.Path(key))
	info, err := os.Stat(s.Path(key))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dinfo, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dinfo.Mode().Perm())

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), "no temporary file left behind: %s", e.Name())
	}
}

// dir "" is sfmtls/tokens in the user's cache directory, where the tool keeps
// its sessions.
func TestFileStoreDefaultDirectory(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache) // macOS: ~/Library/Caches
	s, err := auth.NewFileStore("")
	require.NoError(t, err)
	base, err := os.UserCacheDir()
	require.NoError(t, err)
	key := storetest.Key(1)
	assert.Equal(t, filepath.Join(base, "sfmtls", "tokens", key+".json"), s.Path(key))
}

// A key that is not a plain file name could name a file elsewhere.
func TestFileStoreRefusesKeysThatAreNotFileNames(t *testing.T) {
	s, _ := newFileStore(t)
	for _, key := range []string{"", ".", "..", "../escape", "a/b"} {
		assert.Empty(t, s.Path(key), key)
		_, err := s.Load(t.Context(), key)
		require.ErrorIs(t, err, errs.ErrConfig, key)
		require.ErrorIs(t, s.Save(t.Context(), key, storetest.Token("00Dx")), errs.ErrConfig, key)
		require.ErrorIs(t, s.CompareAndDelete(t.Context(), key, storetest.Token("00Dx")), errs.ErrConfig, key)
		_, err = s.Lock(t.Context(), key)
		require.ErrorIs(t, err, errs.ErrConfig, key)
	}
}

func TestFileStoreRefusesWiderPermissions(t *testing.T) {
	s, _ := newFileStore(t)
	ctx, key := t.Context(), storetest.Key(1)
	require.NoError(t, s.Save(ctx, key, storetest.Token("00Dsecret!token")))
	require.NoError(t, os.Chmod(s.Path(key), 0o644))
	_, err := s.Load(ctx, key)
	var sfe *auth.StoreFileError
	require.ErrorAs(t, err, &sfe)
	assert.Contains(t, sfe.Reason, "0644")
	assert.Contains(t, sfe.Fix(), "chmod 600")
	assert.NotContains(t, sfe.Error(), sfe.Fix(), "the message says what went wrong; Fix says how to mend it")
	assert.NotContains(t, err.Error(), "00Dsecret")
}

func TestFileStoreRefusesSymlinks(t *testing.T) {
	s, dir := newFileStore(t)
	key := storetest.Key(1)
	target := filepath.Join(dir, "elsewhere.json")
	require.NoError(t, os.WriteFile(target, []byte(`{}`), 0o600))
	require.NoError(t, os.Symlink(target, s.Path(key)))
	_, err := s.Load(t.Context(), key)
	var sfe *auth.StoreFileError
	require.ErrorAs(t, err, &sfe)
}

// CompareAndDelete clears a file nobody can use: unreadable, or readable by
// others.
func TestFileStoreCompareAndDeleteClearsAnUnusableFile(t *testing.T) {
	s, _ := newFileStore(t)
	ctx, key := t.Context(), storetest.Key(1)
	for _, mode := range []os.FileMode{0o600, 0o644} {
		require.NoError(t, os.WriteFile(s.Path(key), []byte("garbage"), mode))
		require.NoError(t, os.Chmod(s.Path(key), mode))
		require.NoError(t, s.CompareAndDelete(ctx, key, storetest.Token("whatever")))
		_, err := os.Stat(s.Path(key))
		assert.True(t, errors.Is(err, os.ErrNotExist), "mode %04o", mode)
	}
}

// Two caches over one file store (two runs of a command, or two processes):
// one login between them; a rejected token is replaced once; a file with wider
// permissions or garbage is replaced transparently.
func TestCacheSharesThroughTheFileStore(t *testing.T) {
	org := startOrg(t)
	s, err := auth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	key := storekey.Key(org.URL, org.ConsumerKey, org.Username)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil))
	newCache := func() *auth.Cache {
		return auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{Store: s, StoreKey: key, Check: tokencheck.Checker(org.URL, nil), Logger: logger})
	}
	ctx := t.Context()
	a, b := newCache(), newCache()
	ta, err := a.Token(ctx)
	require.NoError(t, err)
	tb, err := b.Token(ctx)
	require.NoError(t, err)
	assert.True(t, ta.Equal(tb))
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "the second run reuses the session")

	// Both see it rejected: one login replaces it for both.
	org.ExpireAllSessions()
	a.Invalidate(ta)
	b.Invalidate(tb)
	na, err := a.Token(ctx)
	require.NoError(t, err)
	nb, err := b.Token(ctx)
	require.NoError(t, err)
	assert.True(t, na.Equal(nb))
	assert.False(t, na.Equal(ta))
	assert.Equal(t, int64(2), org.Stats().TokenRequests)

	// A file readable by others is ignored, and replaced with a 0600 one.
	require.NoError(t, os.Chmod(s.Path(key), 0o644))
	c := newCache()
	_, err = c.Token(ctx)
	require.NoError(t, err, "a store problem never fails the call")
	assert.Equal(t, int64(3), org.Stats().TokenRequests)
	info, err := os.Stat(s.Path(key))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// Garbage is replaced too.
	require.NoError(t, os.WriteFile(s.Path(key), []byte("{not json"), 0o600))
	d := newCache()
	_, err = d.Token(ctx)
	require.NoError(t, err)
	loaded, err := s.Load(ctx, key)
	require.NoError(t, err)
	assert.True(t, loaded.Equal(d.Current()))

	logMu.Lock()
	defer logMu.Unlock()
	assert.Contains(t, logs.String(), "token store unreadable")
	for _, tok := range org.IssuedTokens() {
		assert.NotContains(t, logs.String(), tok, "no token in the logs")
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A Store without a StoreKey names no identity: the cache says so and keeps
// the token to itself rather than share it under a made-up name.
func TestCacheWithoutStoreKeyDoesNotShare(t *testing.T) {
	org := startOrg(t)
	dir := t.TempDir()
	s, err := auth.NewFileStore(dir)
	require.NoError(t, err)
	var logs bytes.Buffer
	cache := auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{Store: s,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	assert.Contains(t, logs.String(), "level=WARN", "the misconfiguration is reported")
	_, err = cache.Token(t.Context())
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing stored")
}
