//go:build unix

package keystore

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadFileFromPipe: a file that cannot seek (a named pipe) has no length
// to size the buffer from and is read all the same, past the first guess.
func TestReadFileFromPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	want := bytes.Repeat([]byte("keystore "), 300)
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = w.Write(want)
		_ = w.Close()
	}()
	got, err := readFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
