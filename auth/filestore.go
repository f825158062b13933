package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FileStore keeps one login identity's token in a file, for the command line
// and cron-style jobs: successive runs reuse the session instead of logging in
// each time. The file is written atomically (a temporary file renamed over it)
// with mode 0600 in a directory of mode 0700; a file readable by others is
// refused (and replaced at the next login). The login lock is an flock(2) on a
// lock file beside it, released by the kernel if the process dies.
type FileStore struct {
	dir      string
	path     string
	lockPath string
	dataPath string // short-held lock for Save and CompareAndDelete
	mu       sync.Mutex
}

// DefaultFileStoreDir is where the sfmtls tool keeps tokens: sfmtls/tokens
// under the user's cache directory (os.UserCacheDir: $XDG_CACHE_HOME or
// ~/.cache on Linux, ~/Library/Caches on macOS).
func DefaultFileStoreDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("auth: no user cache directory for the token store (%w); set one, or give the store a directory", err)
	}
	return filepath.Join(base, "sfmtls", "tokens"), nil
}

// NewFileStore returns the store for the identity key (see StoreKey) in dir,
// creating dir with mode 0700 if needed.
func NewFileStore(dir, key string) (*FileStore, error) {
	if dir == "" || key == "" || filepath.Base(key) != key || key == "." || key == ".." {
		return nil, configError("file token store needs a directory and a key from auth.StoreKey, got dir %q key %q", dir, key)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &StoreFileError{Path: dir, Reason: err.Error(), Fix: "give a directory this user can create and write"}
	}
	return &FileStore{
		dir:      dir,
		path:     filepath.Join(dir, key+".json"),
		lockPath: filepath.Join(dir, key+".lock"),
		dataPath: filepath.Join(dir, key+".data.lock"),
	}, nil
}

// Path returns the token file's path.
func (s *FileStore) Path() string { return s.path }

// StoreFileError is a token file the store will not use: readable by others,
// not a regular file, or not readable at all.
type StoreFileError struct {
	Path   string
	Reason string
	Fix    string
}

func (e *StoreFileError) Error() string {
	msg := fmt.Sprintf("auth: token file %s: %s", e.Path, e.Reason)
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

// Load reads the token file; a missing file is no token and no error.
func (s *FileStore) Load(ctx context.Context) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := openNoFollow(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &StoreFileError{Path: s.path, Reason: err.Error(), Fix: "check the file's owner and permissions, or delete it"}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, &StoreFileError{Path: s.path, Reason: err.Error()}
	}
	if !info.Mode().IsRegular() {
		return nil, &StoreFileError{Path: s.path, Reason: "not a regular file", Fix: "delete it; the next login writes a new one"}
	}
	if err := checkPrivate(s.path, info); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStoredToken+1))
	if err != nil {
		return nil, &StoreFileError{Path: s.path, Reason: err.Error()}
	}
	tok, err := DecodeToken(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s; it will be replaced at the next login)", err, s.path)
	}
	return tok, nil
}

// Save writes tok atomically with mode 0600.
func (s *FileStore) Save(ctx context.Context, tok *Token) error {
	data, err := EncodeToken(tok)
	if err != nil {
		return err
	}
	unlock, err := s.dataLock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return s.writeAtomic(data)
}

func (s *FileStore) writeAtomic(data []byte) error {
	tmp, err := os.CreateTemp(s.dir, ".token-*.tmp") // created 0600
	if err != nil {
		return &StoreFileError{Path: s.dir, Reason: err.Error(), Fix: "the token directory must be writable by this user"}
	}
	name := tmp.Name()
	defer os.Remove(name) // after a successful rename this finds nothing
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return &StoreFileError{Path: name, Reason: err.Error()}
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return &StoreFileError{Path: name, Reason: err.Error()}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return &StoreFileError{Path: name, Reason: err.Error()}
	}
	if err := tmp.Close(); err != nil {
		return &StoreFileError{Path: name, Reason: err.Error()}
	}
	if err := os.Rename(name, s.path); err != nil {
		return &StoreFileError{Path: s.path, Reason: err.Error()}
	}
	return nil
}

// CompareAndDelete removes the file if it still holds old.
func (s *FileStore) CompareAndDelete(ctx context.Context, old *Token) error {
	unlock, err := s.dataLock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := s.Load(ctx)
	var sfe *StoreFileError
	switch {
	case errors.As(err, &sfe) || errors.Is(err, ErrStoredToken):
		// An unusable file is no token anyone can compare with: remove it.
		return removeIfExists(s.path)
	case err != nil:
		return err
	case cur == nil || !cur.Equal(old):
		return nil
	}
	return removeIfExists(s.path)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &StoreFileError{Path: path, Reason: err.Error()}
	}
	return nil
}

// Lock takes the identity's login lock (flock on the lock file), waiting until
// it is free or ctx ends. Each call opens the lock file anew, so two caches of
// one process exclude each other as two processes do.
func (s *FileStore) Lock(ctx context.Context) (func(), error) {
	return lockFile(ctx, s.lockPath)
}

// errNoFlock: the platform has no flock; the store then shares the token
// without a cross-process lock.
var errNoFlock = errors.New("auth: the file token store's lock needs flock (Unix); sharing the token without it")

func (s *FileStore) dataLock(ctx context.Context) (func(), error) {
	s.mu.Lock()
	unlock, err := lockFile(ctx, s.dataPath)
	if errors.Is(err, errNoFlock) {
		return s.mu.Unlock, nil
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return func() { unlock(); s.mu.Unlock() }, nil
}

// Format prints the store's path, for every verb.
func (s *FileStore) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "auth.FileStore{path: %q}", s.path)
}
