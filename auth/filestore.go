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

	"github.com/sfmtls/sfmtls/internal/tokencodec"
)

// FileStore keeps tokens in files, one per login identity, for the command
// line and cron-style jobs: successive runs reuse the session instead of
// logging in each time. A file is written atomically (a temporary file renamed
// over it) with mode 0600 in a directory of mode 0700; a file readable by
// others is refused (and replaced at the next login). The login lock is an
// flock(2) on a lock file beside it, released by the kernel if the process
// dies.
//
// It also keeps the positions and leases of event subscriptions
// (events.Store) for the processes of one machine: one 0600 file per
// subscription, named by the hash of its key, read and written under an
// flock. A lease ends at an expiry on this machine's clock, so the lease of a
// process that died passes to another after its TTL.
type FileStore struct {
	dir string
	mu  sync.Mutex // with fileLock's flock: writes one at a time
}

// NewFileStore returns a store in dir, creating dir with mode 0700 if needed.
// On Unix, a directory other users can write (mode 0777, 1777 like /tmp, or
// group-writable) or that another user owns is refused with a
// *StoreFileError whose Fix names chmod 700: whoever can write it can remove or
// replace the session's files. The store never changes the mode of a
// directory it did not create. A directory others can only read is used: its
// token files are 0600 and one readable by others is refused.
// dir "" is sfmtls/tokens under the user's cache directory (os.UserCacheDir:
// $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS), where the
// sfmtls tool keeps its sessions.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, configError("no user cache directory for the token store (%v): set one ($XDG_CACHE_HOME), or give the store a directory", err)
		}
		dir = filepath.Join(base, "sfmtls", "tokens")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &StoreFileError{Path: dir, Reason: err.Error(), Remedy: "give a directory this user can create and write"}
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	return &FileStore{dir: dir}, nil
}

// Path returns the file that holds key's token, or "" for a key the store
// refuses (one that is not a plain file name).
func (s *FileStore) Path(key string) string {
	if checkKey(key) != nil {
		return ""
	}
	return filepath.Join(s.dir, key+".json")
}

// checkKey refuses a key that would name a file outside the directory.
func checkKey(key string) error {
	if key == "" || filepath.Base(key) != key || key == "." || key == ".." {
		return configError("file token store: key %q is not a plain file name", key)
	}
	return nil
}

// Load reads key's token file; a missing file is no token and no error.
func (s *FileStore) Load(ctx context.Context, key string) (*Token, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.load(s.Path(key))
}

func (s *FileStore) load(path string) (*Token, error) {
	f, err := openNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &StoreFileError{Path: path, Reason: err.Error(), Remedy: "check the file's owner and permissions, or delete it"}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, &StoreFileError{Path: path, Reason: err.Error()}
	}
	if !info.Mode().IsRegular() {
		return nil, &StoreFileError{Path: path, Reason: "not a regular file", Remedy: "delete it; the next login writes a new one"}
	}
	if err := checkPrivate(path, info); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, tokencodec.MaxSize+1))
	if err != nil {
		return nil, &StoreFileError{Path: path, Reason: err.Error()}
	}
	tok, err := tokencodec.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s; it will be replaced at the next login)", err, path)
	}
	return (*Token)(tok), nil
}

// Save writes key's token file atomically with mode 0600.
func (s *FileStore) Save(ctx context.Context, key string, tok *Token) error {
	if err := checkKey(key); err != nil {
		return err
	}
	data, err := tokencodec.Encode((*tokencodec.Token)(tok))
	if err != nil {
		return err
	}
	unlock, err := s.dataLock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	return s.writeAtomic(s.Path(key), data)
}

func (s *FileStore) writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(s.dir, ".token-*.tmp") // created 0600
	if err != nil {
		return &StoreFileError{Path: s.dir, Reason: err.Error(), Remedy: "the token directory must be writable by this user"}
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
	if err := os.Rename(name, path); err != nil {
		return &StoreFileError{Path: path, Reason: err.Error()}
	}
	return nil
}

// CompareAndDelete removes key's file if it still holds old. A file nobody
// can use (unreadable, or readable by others) is removed too.
func (s *FileStore) CompareAndDelete(ctx context.Context, key string, old *Token) error {
	if err := checkKey(key); err != nil {
		return err
	}
	unlock, err := s.dataLock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	path := s.Path(key)
	cur, err := s.load(path)
	var sfe *StoreFileError
	switch {
	case errors.As(err, &sfe) || errors.Is(err, ErrStoredToken):
		// An unusable file is no token anyone can compare with: remove it.
		return removeIfExists(path)
	case err != nil:
		return err
	case cur == nil || !cur.Equal(old):
		return nil
	}
	return removeIfExists(path)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &StoreFileError{Path: path, Reason: err.Error()}
	}
	return nil
}

// Lock takes key's login lock (flock on its lock file), waiting until it is
// free or ctx ends. Each call opens the lock file anew, so two caches of one
// process exclude each other as two processes do.
func (s *FileStore) Lock(ctx context.Context, key string) (func(), error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return lockFile(ctx, filepath.Join(s.dir, key+".lock"))
}

// errNoFlock: the platform has no flock; the store then shares the token
// without a cross-process lock.
var errNoFlock = errors.New("auth: the file token store's lock needs flock (Unix); sharing the token without it")

// dataLock is the short-held lock of Save and CompareAndDelete.
func (s *FileStore) dataLock(ctx context.Context, key string) (func(), error) {
	return s.fileLock(ctx, filepath.Join(s.dir, key+".data.lock"))
}

// fileLock takes a short-held lock on path: s.mu within the process, an
// flock across processes where there is flock.
func (s *FileStore) fileLock(ctx context.Context, path string) (func(), error) {
	s.mu.Lock()
	unlock, err := lockFile(ctx, path)
	if errors.Is(err, errNoFlock) {
		return s.mu.Unlock, nil
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return func() { unlock(); s.mu.Unlock() }, nil
}

// Format prints the store's directory, for every verb.
func (s *FileStore) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "auth.FileStore{dir: %q}", s.dir)
}
