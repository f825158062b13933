package atomicfile_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/atomicfile"
)

func TestWriteSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "client.key")
	require.NoError(t, atomicfile.WriteSecret(path, []byte("first"), false))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// No overwrite unless asked; the file is left as it was.
	err = atomicfile.WriteSecret(path, []byte("other"), false)
	require.ErrorIs(t, err, fs.ErrExist)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first", string(data))

	// A file that had a wider mode gets 0600 when replaced.
	require.NoError(t, os.Chmod(path, 0o644))
	require.NoError(t, atomicfile.WriteSecret(path, []byte("other"), true))
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "other", string(data))
	info, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// A missing directory fails and leaves nothing behind.
	require.Error(t, atomicfile.WriteSecret(filepath.Join(dir, "missing", "x"), []byte("x"), false))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only client.key should remain, no temporary file")
}

func TestWriteSecretDoesNotFollowASymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("keep"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	require.ErrorIs(t, atomicfile.WriteSecret(link, []byte("x"), false), fs.ErrExist)
	data, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(data))
}
