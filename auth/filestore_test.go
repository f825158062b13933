package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
	"github.com/sfmtls/sfmtls/keystore"
)

func sampleToken(access string) *auth.Token {
	at := time.UnixMilli(time.Now().UnixMilli())
	return &auth.Token{AccessToken: keystore.Secret(access), InstanceURL: "https://acme.my.salesforce.com",
		ID: "https://login.salesforce.com/id/00D/005", Scope: "api", TokenType: "Bearer", IssuedAt: at, ReceivedAt: at}
}

func newFileStore(t *testing.T) (*auth.FileStore, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tokens")
	s, err := auth.NewFileStore(dir, auth.StoreKey("https://acme.my.salesforce.com", "3MVG9key", "user@example.com"))
	require.NoError(t, err)
	return s, dir
}

func TestStoreKey(t *testing.T) {
	k := auth.StoreKey("https://Acme.my.salesforce.com:443/", "key", "User@example.com")
	assert.Equal(t, k, auth.StoreKey("https://acme.my.salesforce.com", "key", "user@example.com"), "case, default port and slash do not matter")
	assert.NotEqual(t, k, auth.StoreKey("https://acme.my.salesforce.com:8443", "key", "user@example.com"))
	assert.NotEqual(t, k, auth.StoreKey("https://acme.my.salesforce.com", "key2", "user@example.com"))
	assert.NotEqual(t, k, auth.StoreKey("https://acme.my.salesforce.com", "key", "other@example.com"))
	assert.NotEqual(t, auth.StoreKey("a", "b\x00c", "d"), auth.StoreKey("a", "b", "c\x00d"), "parts are delimited")
	assert.Regexp(t, `^[0-9a-f]{32}$`, k)
}

func TestFileStoreRoundTripAndMode(t *testing.T) {
	s, dir := newFileStore(t)
	ctx := context.Background()
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, got, "no file, no token")

	tok := sampleToken("00Dsecret!token")
	require.NoError(t, s.Save(ctx, tok))
	info, err := os.Stat(s.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dinfo, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dinfo.Mode().Perm())

	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.True(t, got.Equal(tok))
	assert.Equal(t, tok.InstanceURL, got.InstanceURL)
	assert.True(t, tok.ReceivedAt.Equal(got.ReceivedAt))
	assert.True(t, tok.IssuedAt.Equal(got.IssuedAt))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp", "no temporary file left behind")
	}
}

func TestFileStoreRefusesWiderPermissions(t *testing.T) {
	s, _ := newFileStore(t)
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, sampleToken("00Dsecret!token")))
	require.NoError(t, os.Chmod(s.Path(), 0o644))
	_, err := s.Load(ctx)
	var sfe *auth.StoreFileError
	require.ErrorAs(t, err, &sfe)
	assert.Contains(t, err.Error(), "0644")
	assert.Contains(t, sfe.Fix, "chmod 600")
	assert.NotContains(t, err.Error(), "00Dsecret")
}

func TestFileStoreRefusesSymlinks(t *testing.T) {
	s, dir := newFileStore(t)
	target := filepath.Join(dir, "elsewhere.json")
	require.NoError(t, os.WriteFile(target, []byte(`{}`), 0o600))
	require.NoError(t, os.Symlink(target, s.Path()))
	_, err := s.Load(context.Background())
	var sfe *auth.StoreFileError
	require.ErrorAs(t, err, &sfe)
}

func TestFileStoreUnreadableFile(t *testing.T) {
	s, _ := newFileStore(t)
	for _, data := range [][]byte{[]byte("garbage"), []byte(`{"format":2,"access_token":"x","instance_url":"https://a"}`), bytes.Repeat([]byte("x"), 1<<20)} {
		require.NoError(t, os.WriteFile(s.Path(), data, 0o600))
		_, err := s.Load(context.Background())
		require.ErrorIs(t, err, auth.ErrStoredToken)
		assert.Less(t, len(err.Error()), 300, "the error never quotes the file")
	}
	// CompareAndDelete clears a file nobody can use.
	require.NoError(t, s.CompareAndDelete(context.Background(), sampleToken("whatever")))
	_, err := os.Stat(s.Path())
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

func TestFileStoreCompareAndDelete(t *testing.T) {
	s, _ := newFileStore(t)
	ctx := context.Background()
	old, newer := sampleToken("00Dold"), sampleToken("00Dnew")
	require.NoError(t, s.Save(ctx, newer))
	require.NoError(t, s.CompareAndDelete(ctx, old))
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.True(t, got.Equal(newer), "a newer token survives the deletion of an old one")
	copyOfNewer := *newer
	require.NoError(t, s.CompareAndDelete(ctx, &copyOfNewer))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, got, "deleted by value")
	require.NoError(t, s.CompareAndDelete(ctx, old), "nothing to delete is no error")
}

func TestFileStoreLock(t *testing.T) {
	s, _ := newFileStore(t)
	ctx := context.Background()
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = s.Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second holder waits, bounded by its context")

	got := make(chan time.Time, 1)
	go func() {
		u, err := s.Lock(ctx)
		if assert.NoError(t, err) {
			got <- time.Now()
			u()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	unlock()
	select {
	case at := <-got:
		assert.False(t, at.Before(released), "the waiter got the lock only after release")
		assert.Less(t, at.Sub(released), time.Second, "and was woken at once")
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter never got the lock")
	}
}

// Two caches over one file store (two runs of a command, or two processes):
// one login between them; a rejected token is replaced once; a file with wider
// permissions or garbage is replaced transparently.
func TestCacheSharesThroughTheFileStore(t *testing.T) {
	org := startOrg(t)
	s, err := auth.NewFileStore(t.TempDir(), auth.StoreKey(org.URL, org.ConsumerKey, org.Username))
	require.NoError(t, err)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil))
	newCache := func() *auth.Cache {
		return auth.NewCache(sourceFor(t, org, nil), auth.CacheOptions{Store: s, Check: tokencheck.Checker(org.URL, nil), Logger: logger})
	}
	ctx := context.Background()
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
	require.NoError(t, os.Chmod(s.Path(), 0o644))
	c := newCache()
	_, err = c.Token(ctx)
	require.NoError(t, err, "a store problem never fails the call")
	assert.Equal(t, int64(3), org.Stats().TokenRequests)
	info, err := os.Stat(s.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// Garbage is replaced too.
	require.NoError(t, os.WriteFile(s.Path(), []byte("{not json"), 0o600))
	d := newCache()
	_, err = d.Token(ctx)
	require.NoError(t, err)
	loaded, err := s.Load(ctx)
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

// FuzzDecodeToken: the file store reads these bytes from disk.
func FuzzDecodeToken(f *testing.F) {
	good, err := auth.EncodeToken(sampleToken("00Dseed!token"))
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte(`{"format":1,"access_token":"","instance_url":""}`))
	f.Add([]byte(`{"format":1,"access_token":"x","instance_url":"https://a","issued_at_ms":-9223372036854775808}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := auth.DecodeToken(data)
		if err != nil {
			require.ErrorIs(t, err, auth.ErrStoredToken)
			assert.Nil(t, tok)
			return
		}
		require.NotEmpty(t, tok.AccessToken)
		again, err := auth.EncodeToken(tok)
		require.NoError(t, err)
		back, err := auth.DecodeToken(again)
		require.NoError(t, err)
		assert.True(t, back.Equal(tok))
		assert.Equal(t, tok.InstanceURL, back.InstanceURL)
	})
}
