package settings

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/redisstore"
)

// TokenStore is how the tool keeps the session across runs (issue 13): the
// JWT bearer flow has no refresh token, so every login is a new session and
// Salesforce allows a user 3,600 logins an hour.
type TokenStore struct {
	// Spec is "file" (the default: the user's cache directory), "file:DIR",
	// "none", or a Redis URL (redis://, rediss:// for TLS, unix://).
	Spec string
	// Off bypasses the store for one run (--no-token-cache).
	Off bool
	// EncryptionKeyFile holds the base64 AES key of a Redis store
	// (--token-encryption-key-file); else SF_TOKEN_ENCRYPTION_KEY.
	EncryptionKeyFile string
	// Warn, when set, receives warnings such as a key file others can read.
	Warn func(string)
}

var (
	// ErrTokenStore: the token store setting names no store this tool knows.
	ErrTokenStore = errors.New("unknown token store")
	// ErrEncryptionKey: the Redis store's encryption key is not the base64 of 16, 24 or 32 bytes.
	ErrEncryptionKey = errors.New("invalid token encryption key")
)

// redisTimeout bounds each Redis command of the tool: Redis being slow or
// down must cost a run a second, not go-redis's default of several, before
// the run logs in by itself.
const redisTimeout = time.Second

// Register adds --token-store (default $SF_TOKEN_STORE, else file),
// --no-token-cache and --token-encryption-key-file.
func (ts *TokenStore) Register(fs *pflag.FlagSet, getenv func(string) string) {
	fs.StringVar(&ts.Spec, "token-store", getenv("SF_TOKEN_STORE"),
		"keep the session across runs in `STORE`: file (the user's cache directory), file:DIR, none, "+
			"or a Redis URL redis://[user:password@]host:port/db, rediss:// for TLS (default: file) ($SF_TOKEN_STORE)")
	HideEnvDefault(fs, "token-store")
	fs.BoolVar(&ts.Off, "no-token-cache", false, "log in afresh, neither reading nor writing the token store")
	fs.StringVar(&ts.EncryptionKeyFile, "token-encryption-key-file", "",
		"encrypt the token kept in Redis with the base64 AES key in `FILE` (openssl rand -base64 32) ($SF_TOKEN_ENCRYPTION_KEY holds the key itself)")
}

// Check refuses a setting that names no store.
func (ts *TokenStore) Check() error {
	switch spec := ts.Spec; {
	case spec == "", spec == "file", spec == "none", strings.HasPrefix(spec, "file:") && len(spec) > len("file:"):
		return nil
	case isRedis(spec):
		_, err := redisOptions(spec)
		return err
	}
	return fmt.Errorf("%w %q in --token-store/SF_TOKEN_STORE: give file, file:DIR, none or a Redis URL (redis://host:6379/0)",
		ErrTokenStore, redactURL(ts.Spec))
}

func isRedis(spec string) bool {
	return strings.HasPrefix(spec, "redis://") || strings.HasPrefix(spec, "rediss://") || strings.HasPrefix(spec, "unix://")
}

// Format prints the setting with a Redis URL's password replaced, for every verb.
func (ts TokenStore) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Spec:%s Off:%t EncryptionKeyFile:%s}", redactURL(ts.Spec), ts.Off, ts.EncryptionKeyFile)
}

// Open returns the store (nil for none) and a function that releases what
// the store holds. The client names the session in it from the login URL,
// consumer key and username, as every program on the SDK does.
func (ts *TokenStore) Open(getenv func(string) string) (auth.Store, func(), error) {
	if err := ts.Check(); err != nil {
		return nil, nil, err
	}
	spec := ts.Spec
	switch {
	case ts.Off || spec == "none":
		return nil, func() {}, nil
	case isRedis(spec):
		return ts.openRedis(getenv)
	}
	dir := "" // "file" (the default): the user's cache directory
	if d, ok := strings.CutPrefix(spec, "file:"); ok {
		dir = d
	}
	st, err := auth.NewFileStore(dir)
	if err != nil {
		return nil, nil, err
	}
	return st, func() {}, nil
}

func (ts *TokenStore) openRedis(getenv func(string) string) (auth.Store, func(), error) {
	opts, err := redisOptions(ts.Spec)
	if err != nil {
		return nil, nil, err
	}
	encKey, err := ts.encryptionKey(getenv)
	if err != nil {
		return nil, nil, err
	}
	rdb := redis.NewClient(opts)
	st, err := redisstore.New(rdb, redisstore.Options{EncryptionKey: encKey})
	if err != nil {
		_ = rdb.Close()
		return nil, nil, err
	}
	return st, func() { _ = rdb.Close() }, nil
}

// redisOptions parses a Redis URL; its errors never hold the password.
func redisOptions(raw string) (*redis.Options, error) {
	opts, err := redisstore.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: --token-store/SF_TOKEN_STORE %s: %w", ErrTokenStore, redactURL(raw), err)
	}
	// Short bounds unless the URL sets its own (dial_timeout=, read_timeout=…),
	// and no go-redis retries: the token cache retries the store itself.
	q := query(raw)
	if !q.Has("dial_timeout") {
		opts.DialTimeout = redisTimeout
	}
	if !q.Has("read_timeout") {
		opts.ReadTimeout = redisTimeout
	}
	if !q.Has("write_timeout") {
		opts.WriteTimeout = redisTimeout
	}
	if !q.Has("max_retries") {
		opts.MaxRetries = -1
	}
	// One dial per command: a Redis that refuses should cost a run one round
	// trip, not go-redis's 5 dials with backoff.
	opts.DialerRetries = 1
	// CLIENT SETINFO is a Redis 7.2 command; older servers log an error for it.
	opts.DisableIdentity = true
	return opts, nil
}

func query(raw string) url.Values {
	if u, err := url.Parse(raw); err == nil {
		return u.Query()
	}
	return url.Values{}
}

// redactURL hides a URL's password; text with an "@" that does not parse as
// userinfo (a mistyped redis:/user:pw@host) is hidden whole, as it may hold one.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err == nil && u.User != nil:
		return u.Redacted()
	case strings.Contains(raw, "@"):
		return "[a URL with credentials, redacted]"
	}
	return raw
}

// encryptionKey reads the Redis store's AES key: the file given, else
// SF_TOKEN_ENCRYPTION_KEY; none means the token is stored unencrypted.
func (ts *TokenStore) encryptionKey(getenv func(string) string) ([]byte, error) {
	b64, from := getenv("SF_TOKEN_ENCRYPTION_KEY"), "SF_TOKEN_ENCRYPTION_KEY"
	if ts.EncryptionKeyFile != "" {
		w, err := CheckSecretFile("--token-encryption-key-file", ts.EncryptionKeyFile, true)
		if err != nil {
			return nil, err
		}
		if w != "" && ts.Warn != nil {
			ts.Warn(w)
		}
		data, err := readSmallFile(ts.EncryptionKeyFile, 1024)
		if err != nil {
			return nil, fmt.Errorf("--token-encryption-key-file: %w", err)
		}
		b64, from = string(data), "--token-encryption-key-file "+ts.EncryptionKeyFile
	}
	b64 = strings.TrimSpace(b64)
	if b64 == "" {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || (len(key) != 16 && len(key) != 24 && len(key) != 32) {
		return nil, fmt.Errorf("%w in %s: give the base64 of 32 random bytes (openssl rand -base64 32), "+
			"the same for every process sharing the session", ErrEncryptionKey, from)
	}
	return key, nil
}

// readSmallFile reads at most limit bytes, refusing a longer file.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is longer than %d bytes: it should hold one base64 key", path, limit)
	}
	return data, nil
}
