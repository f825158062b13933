// Package redisstore shares a Salesforce session between processes through
// Redis: an auth.Store on github.com/redis/go-redis/v9. It is its own Go module
// so that the SDK does not pull in a Redis client.
//
// One Store serves every login identity; the transport names each by a key
// derived from its login URL, consumer key and username, the same key the
// sfmtls tool's stores use. The Store keeps a token in a hash under
// <prefix>token:<key> (encrypted with AES-GCM when Options.EncryptionKey is
// set), takes the login lock with SET NX PX under <prefix>lock:<key>, wakes
// waiters over the Pub/Sub channel <prefix>events:<key>, and deletes a
// rejected token only if it is still the stored one, atomically in a Lua
// script.
//
// It also keeps the positions and leases of event subscriptions
// (events.Store) for a fleet: one hash per subscription under
// <prefix>subscription:<key>, holding the position (in clear: a replay id or
// a watermark grants nothing) and the lease's holder and expiry, changed by
// Lua scripts that check the lease and write in one step, on Redis's clock.
//
// The token is a bearer token: whoever reads it from Redis can act as the
// integration user until the session ends. Protect Redis with AUTH and TLS, or
// set an EncryptionKey.
//
// When Redis is down, the token cache logs one warning on its Logger and each
// process logs in by itself. go-redis also logs its own dial failures, through
// its package-wide logger; an application that wants only the cache's warning
// sets redis.SetLogger once in main (the sfmtls tool does).
package redisstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/tokencodec"
)

// Defaults for Options.
const (
	DefaultPrefix   = "sfmtls:"
	DefaultLockTTL  = 10 * time.Second
	DefaultTokenTTL = 24 * time.Hour // Salesforce's longest session timeout
	// maxWake caps a waiter's sleep between checks of the lock, in case a
	// release message is lost (Redis restarted, connection dropped).
	maxWake = time.Second
	// unlockTimeout bounds the release of the lock, which has no caller context.
	unlockTimeout = 2 * time.Second
)

// Options configure a Store.
type Options struct {
	// Prefix namespaces the Redis keys; default "sfmtls:".
	Prefix string
	// EncryptionKey, when set, encrypts the stored token with AES-GCM; it must
	// be 16, 24 or 32 bytes. Every process sharing the token needs the same key.
	EncryptionKey []byte
	// LockTTL is how long the login lock lives if its holder dies; the others
	// wait at most this long for a dead holder. Default 10s; it should exceed a
	// login's usual duration.
	LockTTL time.Duration
	// TokenTTL bounds how long a token stays in Redis. Default 24h.
	TokenTTL time.Duration
}

// Store is an auth.Store on Redis.
type Store struct {
	rdb      redis.UniversalClient
	prefix   string
	aead     cipher.AEAD
	fpKey    []byte
	lockTTL  time.Duration
	tokenTTL time.Duration
}

var _ auth.Store = (*Store)(nil)

// New returns a Store on rdb. Options that cannot work are an error matching
// client.ErrConfig.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, fmt.Errorf("redisstore: %w: no Redis client", errs.ErrConfig)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	s := &Store{
		rdb:      rdb,
		prefix:   opts.Prefix,
		lockTTL:  opts.LockTTL,
		tokenTTL: opts.TokenTTL,
		fpKey:    []byte("sfmtls token fingerprint"),
	}
	if opts.EncryptionKey != nil {
		block, err := aes.NewCipher(opts.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("redisstore: %w: EncryptionKey must be 16, 24 or 32 bytes (AES-128/192/256), got %d", errs.ErrConfig, len(opts.EncryptionKey))
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("redisstore: %w: %v", errs.ErrConfig, err)
		}
		mac := hmac.New(sha256.New, opts.EncryptionKey)
		mac.Write([]byte("sfmtls token fingerprint"))
		s.fpKey = mac.Sum(nil)
	}
	return s, nil
}

// Stored value formats: the first byte says which.
const (
	formatPlain     = 'p'
	formatEncrypted = 'e'
)

// names are the Redis keys and channel of one login identity.
type names struct{ token, lock, channel string }

func (s *Store) names(key string) (names, error) {
	if key == "" {
		return names{}, fmt.Errorf("redisstore: %w: empty store key", errs.ErrConfig)
	}
	return names{token: s.prefix + "token:" + key, lock: s.prefix + "lock:" + key, channel: s.prefix + "events:" + key}, nil
}

// fingerprint identifies a token for compare-and-delete without storing or
// comparing it in clear.
func (s *Store) fingerprint(tok *auth.Token) string {
	mac := hmac.New(sha256.New, s.fpKey)
	mac.Write([]byte(tok.AccessToken))
	return hex.EncodeToString(mac.Sum(nil))
}

// seal frames plain for the hash under tokenKey, encrypted when the Store has
// a key.
func (s *Store) seal(tokenKey string, plain []byte) ([]byte, error) {
	if s.aead == nil {
		return append([]byte{formatPlain}, plain...), nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{formatEncrypted}, nonce...)
	// The key name is the associated data: a value copied under another
	// identity's key does not decrypt.
	return s.aead.Seal(out, nonce, plain, []byte(tokenKey)), nil
}

// open undoes seal. A value it cannot read (encrypted without a key here, or
// with another key, or not written by redisstore) is an auth.ErrStoredToken
// error, which the token cache answers with a login that replaces it.
func (s *Store) open(tokenKey string, data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("redisstore: %w: empty value", auth.ErrStoredToken)
	}
	switch data[0] {
	case formatPlain:
		if s.aead != nil {
			return nil, fmt.Errorf("redisstore: %w: stored unencrypted but this store has an EncryptionKey (it will be replaced)", auth.ErrStoredToken)
		}
		return data[1:], nil
	case formatEncrypted:
		if s.aead == nil {
			return nil, fmt.Errorf("redisstore: %w: stored encrypted, and this store has no EncryptionKey", auth.ErrStoredToken)
		}
		n := s.aead.NonceSize()
		if len(data) < 1+n {
			return nil, fmt.Errorf("redisstore: %w: truncated", auth.ErrStoredToken)
		}
		plain, err := s.aead.Open(nil, data[1:1+n], data[1+n:], []byte(tokenKey))
		if err != nil {
			return nil, fmt.Errorf("redisstore: %w: does not decrypt with this EncryptionKey", auth.ErrStoredToken)
		}
		return plain, nil
	}
	return nil, fmt.Errorf("redisstore: %w: unknown format", auth.ErrStoredToken)
}

// Load returns key's token, or nil when there is none.
func (s *Store) Load(ctx context.Context, key string) (*auth.Token, error) {
	n, err := s.names(key)
	if err != nil {
		return nil, err
	}
	data, err := s.rdb.HGet(ctx, n.token, "v").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fail(ctx, "load", err)
	}
	plain, err := s.open(n.token, data)
	if err != nil {
		return nil, err
	}
	tok, err := tokencodec.Decode(plain)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	return (*auth.Token)(tok), nil
}

// Save makes tok key's token and wakes the processes waiting for it. A Store
// without an EncryptionKey refuses to replace a token stored encrypted, with
// ErrPlaintextOverEncrypted: the token cache then logs a warning and the
// process uses its own login, while the fleet's token stays encrypted.
func (s *Store) Save(ctx context.Context, key string, tok *auth.Token) error {
	n, err := s.names(key)
	if err != nil {
		return err
	}
	plain, err := tokencodec.Encode((*tokencodec.Token)(tok))
	if err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	sealed, err := s.seal(n.token, plain)
	if err != nil {
		return err
	}
	saved, err := saveScript.Run(ctx, s.rdb, []string{n.token},
		sealed, s.fingerprint(tok), s.tokenTTL.Milliseconds(), n.channel, s.aead == nil).Int()
	if err != nil {
		return fail(ctx, "save", err)
	}
	if saved == 0 {
		return ErrPlaintextOverEncrypted
	}
	return nil
}

// saveScript writes the token hash, bounds it with the TTL and announces it,
// in one atomic step; with ARGV[5] = 1 (a store without an EncryptionKey) it
// leaves an encrypted token in place and returns 0, so that a process started
// without the key never turns the fleet's encrypted token into a plaintext
// one.
var saveScript = redis.NewScript(`
if ARGV[5] == '1' then
  local cur = redis.call('HGET', KEYS[1], 'v')
  if cur and string.sub(cur, 1, 1) == '` + string(rune(formatEncrypted)) + `' then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'fp', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], 'token')
return 1`)

// compareAndDelete deletes the token hash only if its fingerprint is ARGV[1].
var compareAndDelete = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'fp') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// CompareAndDelete deletes key's token only if it is still old, in one
// atomic step on the server. The fingerprint it compares is keyed with the
// EncryptionKey, so a Store without the key (or with another) never matches,
// and never deletes, a token stored encrypted.
func (s *Store) CompareAndDelete(ctx context.Context, key string, old *auth.Token) error {
	n, err := s.names(key)
	if err != nil {
		return err
	}
	if old == nil {
		return nil
	}
	if err := compareAndDelete.Run(ctx, s.rdb, []string{n.token}, s.fingerprint(old)).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fail(ctx, "compare-and-delete", err)
	}
	return nil
}

// releaseLock deletes the lock only if this holder still owns it, and wakes
// the waiters.
var releaseLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'unlocked')
  return 1
end
return 0`)

// Lock takes key's login lock (SET NX with LockTTL). While another process
// holds it, the caller sleeps until a release or a new token is announced on
// the channel, or until the holder's TTL runs out (a holder that died),
// re-checking at least every second in case a message was lost.
func (s *Store) Lock(ctx context.Context, key string) (func(), error) {
	n, err := s.names(key)
	if err != nil {
		return nil, err
	}
	owner, err := newOwner()
	if err != nil {
		return nil, err
	}
	if ok, err := s.rdb.SetNX(ctx, n.lock, owner, s.lockTTL).Result(); err != nil {
		return nil, fail(ctx, "lock", err)
	} else if ok {
		return s.unlocker(n, owner), nil
	}
	ps := s.rdb.Subscribe(ctx, n.channel)
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription is in place
		return nil, fail(ctx, "lock: subscribe", err)
	}
	events := ps.Channel()
	for {
		// Try again after subscribing, so a release between the first try
		// and the subscription is not missed.
		if ok, err := s.rdb.SetNX(ctx, n.lock, owner, s.lockTTL).Result(); err != nil {
			return nil, fail(ctx, "lock", err)
		} else if ok {
			return s.unlocker(n, owner), nil
		}
		wait := maxWake
		if ttl, err := s.rdb.PTTL(ctx, n.lock).Result(); err == nil && ttl >= 0 && ttl < wait {
			wait = ttl + time.Millisecond
		}
		timer := time.NewTimer(wait)
		select {
		case <-events:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("redisstore: waiting for the login lock: %w", ctx.Err())
		}
		timer.Stop()
	}
}

func (s *Store) unlocker(n names, owner string) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
		defer cancel()
		// An error leaves the lock to expire with its TTL.
		_ = releaseLock.Run(ctx, s.rdb, []string{n.lock}, owner, n.channel).Err()
	}
}

// fail wraps a Redis error: unless the caller's context ended, Redis could not
// be reached or did not answer, which the SDK's token cache treats as "log in without the
// store for a while" (auth.ErrStoreUnavailable). When the context ended, the
// error wraps the context's error too: go-redis ends a read with its own
// ReadTimeout, so a caller whose deadline passed meanwhile gets a net "i/o
// timeout", which is not context.DeadlineExceeded.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ended(ctx); cerr != nil {
		return fmt.Errorf("redisstore: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("redisstore: %s: %w: %w", op, auth.ErrStoreUnavailable, err)
}

// ended is ctx's error, or context.DeadlineExceeded once its deadline has
// passed (the context's timer may not have fired yet).
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func newOwner() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Format prints the store's prefix, never a token or the encryption key, for
// every verb.
func (s *Store) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "redisstore.Store{prefix: %q, encrypted: %t}", s.prefix, s.aead != nil)
}

// Format prints the options without the encryption key, for every verb.
func (o Options) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "redisstore.Options{Prefix: %q, EncryptionKey: %s, LockTTL: %s, TokenTTL: %s}",
		o.Prefix, redactedKey(o.EncryptionKey), o.LockTTL, o.TokenTTL)
}

func redactedKey(k []byte) string {
	if k == nil {
		return "none"
	}
	return fmt.Sprintf("%d bytes (redacted)", len(k))
}

// ParseURL parses a Redis URL as redis.ParseURL does:
// redis://[user:password@]host:port/db, rediss:// for TLS, unix:///path.
// Its errors give the reason without the URL, whose userinfo may hold a
// password (url.Parse's errors quote the whole URL).
func ParseURL(raw string) (*redis.Options, error) {
	opts, err := redis.ParseURL(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%w (redis://[user:password@]host:port/db, rediss:// for TLS, "+
			"unix:///path/to/socket): %v", ErrURL, err)
	}
	return opts, nil
}
