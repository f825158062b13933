package settings

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sfmtls/sfmtls/auth"
)

// TokenStore is how the tool keeps the session across runs (issue 13): the
// JWT bearer flow has no refresh token, so every login is a new session and
// Salesforce allows a user 3,600 logins an hour.
type TokenStore struct {
	// Spec is "file" (the default: the user's cache directory), "file:DIR",
	// "none", or a Redis URL (not built into this binary, see ErrRedisNotBuiltIn).
	Spec string
	// Off bypasses the store for one run (--no-token-cache).
	Off bool
}

var (
	// ErrTokenStore: the token store setting names no store this tool knows.
	ErrTokenStore = errors.New("unknown token store")
	// ErrRedisNotBuiltIn: a Redis URL was given, but the Redis store lives in its
	// own module (github.com/sfmtls/sfmtls/redisstore) so that the SDK's go.mod
	// pulls in no Redis client; this binary, built from the SDK's module, has none.
	ErrRedisNotBuiltIn = errors.New("the Redis token store is not built into this binary")
)

// Register adds --token-store (default $SF_TOKEN_STORE, else file) and --no-token-cache.
func (ts *TokenStore) Register(fs *pflag.FlagSet, getenv func(string) string) {
	fs.StringVar(&ts.Spec, "token-store", getenv("SF_TOKEN_STORE"),
		"keep the session across runs in `STORE`: file (the user's cache directory), file:DIR, or none (default: file) ($SF_TOKEN_STORE)")
	fs.BoolVar(&ts.Off, "no-token-cache", false, "log in afresh, neither reading nor writing the token store")
}

// Check refuses a setting that names no store.
func (ts *TokenStore) Check() error {
	switch spec := ts.Spec; {
	case spec == "", spec == "file", spec == "none", strings.HasPrefix(spec, "file:") && len(spec) > len("file:"):
		return nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"), strings.HasPrefix(spec, "unix://"):
		return nil // refused by Open with the reason
	}
	return fmt.Errorf("%w %q in --token-store/SF_TOKEN_STORE: give file, file:DIR or none", ErrTokenStore, ts.Spec)
}

// Open returns the store for the identity the settings log in as; nil for none.
func (ts *TokenStore) Open(s *Settings) (auth.Store, error) {
	if err := ts.Check(); err != nil {
		return nil, err
	}
	spec := ts.Spec
	switch {
	case ts.Off || spec == "none":
		return nil, nil
	case strings.HasPrefix(spec, "redis"), strings.HasPrefix(spec, "unix://"):
		return nil, fmt.Errorf("--token-store/SF_TOKEN_STORE: %w: it lives in the module github.com/sfmtls/sfmtls/redisstore, "+
			"which the SDK's go.mod does not pull in; use file (one machine) or none here, and redisstore.New in a service", ErrRedisNotBuiltIn)
	}
	dir, ok := strings.CutPrefix(spec, "file:")
	if !ok {
		var err error
		if dir, err = auth.DefaultFileStoreDir(); err != nil {
			return nil, err
		}
	}
	return auth.NewFileStore(dir, auth.StoreKey(s.LoginURL, s.ConsumerKey, s.Username))
}
