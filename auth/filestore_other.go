//go:build !unix

package auth

import (
	"context"
	"io/fs"
	"os"
)

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

// checkPrivate: Windows reports no Unix mode bits; the user's cache directory
// (%LocalAppData%) is private to the user by its ACL.
func checkPrivate(string, fs.FileInfo) error { return nil }

// checkDir: the same; the directory's ACL is the user's.
func checkDir(string) error { return nil }

// lockFile: without flock, the store has no cross-process lock; the client logs in
// by itself when Lock fails.
func lockFile(context.Context, string) (func(), error) {
	return nil, errNoFlock
}
