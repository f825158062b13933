package auth_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/storetest"
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

// A token directory other users can write, or that another user owns, is
// refused (issue 19, must hold 7): whoever can write it can remove or replace
// the session's files. The store does not chmod a directory it did not make;
// the error's Fix names the command. A directory others can only read is used.
func TestFileStoreRefusesADirectoryOthersCanWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	// 0777|sticky is how /tmp is made.
	for _, mode := range []os.FileMode{0o777, 0o770, 0o733, 0o777 | os.ModeSticky} {
		dir := filepath.Join(t.TempDir(), "tokens")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, mode)) // not subject to the umask
		_, err := auth.NewFileStore(dir)
		var sfe *auth.StoreFileError
		require.ErrorAs(t, err, &sfe, "mode %v", mode)
		assert.Contains(t, sfe.Fix(), "chmod 700 "+dir)
		assert.NotContains(t, sfe.Error(), sfe.Fix())
		info, err := os.Stat(dir)
		require.NoError(t, err)
		assert.NotEqual(t, os.FileMode(0o700), info.Mode().Perm(), "the store does not change a directory it did not create")
	}
	readable := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.Mkdir(readable, 0o755))
	require.NoError(t, os.Chmod(readable, 0o755))
	_, err := auth.NewFileStore(readable)
	require.NoError(t, err, "others may list a directory whose token files are 0600")

	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	_, err = auth.NewFileStore(notDir)
	require.Error(t, err)
}

// A subscription's position and lease sit in one 0600 file named by the key's
// hash (a channel name has slashes), written atomically; a file that is not
// the store's is an error that says to delete it, not a position.
func TestFileStoreSubscriptionFile(t *testing.T) {
	s, dir := newFileStore(t)
	ctx := t.Context()
	ok, err := s.AcquireLease(ctx, "/data/AccountChangeEvent", "h1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.SavePosition(ctx, "/data/AccountChangeEvent", "h1", []byte("17")))
	files, err := filepath.Glob(filepath.Join(dir, "subscription-*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	info, err := os.Stat(files[0])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), "no temporary file left behind: %s", e.Name())
	}

	require.NoError(t, os.WriteFile(files[0], []byte("not json"), 0o600))
	_, err = s.LoadPosition(ctx, "/data/AccountChangeEvent")
	var sfe *auth.StoreFileError
	require.ErrorAs(t, err, &sfe)
	assert.Contains(t, sfe.Fix(), "delete it")
}
