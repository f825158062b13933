package keystore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadFile: a file is read whole into a buffer of its length (one more
// byte, to meet the end without growing), an empty one is empty, and one
// over the size limit is refused without being read.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte("keystore "), 300)
	path := filepath.Join(dir, "store")
	require.NoError(t, os.WriteFile(path, want, 0o600))
	got, err := readFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, len(want)+1, cap(got), "sized from the file's length")

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	got, err = readFile(empty)
	require.NoError(t, err)
	assert.Empty(t, got)

	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxFileSize+1)) // sparse: nothing written
	require.NoError(t, f.Close())
	_, err = readFile(huge)
	require.ErrorIs(t, err, ErrUnreadable)
	assert.Contains(t, err.Error(), "too large for a keystore")
}
