// Package atomicfile writes files that hold secrets (keystores, keys, tokens)
// so that a reader never sees half a file.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteSecret writes data to path with mode 0600. It writes a temporary file in
// the same directory and renames it, so a reader never sees half a file and a
// failure leaves no file behind. An existing file, or a symbolic link, at path
// is replaced only when overwrite is true; otherwise the error matches
// fs.ErrExist.
func WriteSecret(path string, data []byte, overwrite bool) error {
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot create a temporary file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	// CreateTemp already makes the file 0600; said explicitly as it holds a secret.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write the temporary file: %w", err)
	}
	if !overwrite {
		// Link fails if path appeared meanwhile, where Rename would replace it.
		if err := os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
			}
			return fmt.Errorf("cannot link the file into place: %w", err)
		}
		return nil
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot rename the file into place: %w", err)
	}
	return nil
}
