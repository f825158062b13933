//go:build unix

package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens path for reading, refusing a symbolic link: the token file
// must be the store's own, not a pointer to elsewhere.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("a symbolic link, not the store's own file")
	}
	return f, err
}

// checkPrivate refuses a file other users can read, or that another user owns.
func checkPrivate(path string, info fs.FileInfo) error {
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return &StoreFileError{Path: path, Reason: fmt.Sprintf("mode %04o lets other users read the session", perm),
			Remedy: "it holds a bearer token: the SDK ignores it and writes a new one with mode 0600 at the next login; chmod 600 to keep it"}
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return &StoreFileError{Path: path, Reason: fmt.Sprintf("owned by uid %d, not this user (uid %d)", st.Uid, os.Getuid()),
			Remedy: "delete it; the next login writes a new one"}
	}
	return nil
}

// checkDir refuses a token directory another user owns or can write: one who
// can write it can remove or replace the session files and hold their locks.
// The store does not tighten a directory it did not create; the user does
// (chmod 700 DIR). A directory others can only read is accepted: every token
// file in it is 0600, and one readable by others is refused, so they see only
// hashed file names.
func checkDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return &StoreFileError{Path: dir, Reason: err.Error(), Remedy: "give a directory this user can create and write"}
	}
	if !info.IsDir() {
		return &StoreFileError{Path: dir, Reason: "not a directory", Remedy: "give a directory for the token store"}
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return &StoreFileError{Path: dir, Reason: fmt.Sprintf("directory mode %04o lets other users replace the session's files", perm),
			Remedy: "chmod 700 " + dir + ", or give the token store a directory of this user's own"}
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return &StoreFileError{Path: dir, Reason: fmt.Sprintf("directory owned by uid %d, not this user (uid %d)", st.Uid, os.Getuid()),
			Remedy: "give the token store a directory of this user's own"}
	}
	return nil
}

// lockFile takes an exclusive flock on path, waiting until ctx ends. The kernel
// drops the lock when the process dies, so a killed holder never blocks others.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, &StoreFileError{Path: path, Reason: err.Error(), Remedy: "the token directory must be writable by this user"}
	}
	release := func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return release, nil
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, &StoreFileError{Path: path, Reason: "flock: " + err.Error()}
	}
	// Block in the kernel rather than poll; if ctx ends first, the goroutine
	// releases the lock as soon as it gets it.
	got := make(chan error, 1)
	go func() { got <- flockRetry(int(f.Fd())) }()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, &StoreFileError{Path: path, Reason: "flock: " + err.Error()}
		}
		return release, nil
	case <-ctx.Done():
		go func() {
			if <-got == nil {
				release()
			} else {
				f.Close()
			}
		}()
		return nil, fmt.Errorf("auth: waiting for the token file lock %s: %w", path, ctx.Err())
	}
}

func flockRetry(fd int) error {
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
