//go:build !unix

package auth

import (
	"context"
	"errors"
	"io/fs"
	"os"
)

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

func checkOwner(fs.FileInfo) error { return nil }

// lockFile: without flock, the store has no cross-process lock; Cache logs in
// by itself when Lock fails.
func lockFile(context.Context, string) (func(), error) {
	return nil, errors.New("auth: the file token store's lock needs flock (Unix)")
}
