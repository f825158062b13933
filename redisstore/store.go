// Package redisstore shares a Salesforce session between processes through
// Redis: an auth.Store on github.com/redis/go-redis/v9. It is its own Go module
// so that the SDK does not pull in a Redis client.
//
// One Store serves one login identity (auth.StoreKey: login URL, consumer key,
// username). It keeps the token in a hash under <prefix>token:<key> (encrypted
// with AES-GCM when Options.EncryptionKey is set), takes the login lock with
// SET NX PX under <prefix>lock:<key>, wakes waiters over the Pub/Sub channel
// <prefix>events:<key>, and deletes a rejected token only if it is still the
// stored one, atomically in a Lua script.
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
	// Key names the login identity: auth.StoreKey(loginURL, consumerKey, username). Required.
	Key string
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
	tokenKey string
	lockKey  string
	channel  string
	aead     cipher.AEAD
	fpKey    []byte
	lockTTL  time.Duration
	tokenTTL time.Duration
}

var _ auth.Store = (*Store)(nil)

// ErrConfig marks Options that cannot work.
var ErrConfig = errors.New("redisstore: invalid options")

// New returns a Store for one login identity on rdb.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: no Redis client", ErrConfig)
	}
	if opts.Key == "" {
		return nil, fmt.Errorf("%w: Key is empty: use auth.StoreKey(loginURL, consumerKey, username)", ErrConfig)
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
		tokenKey: opts.Prefix + "token:" + opts.Key,
		lockKey:  opts.Prefix + "lock:" + opts.Key,
		channel:  opts.Prefix + "events:" + opts.Key,
		lockTTL:  opts.LockTTL,
		tokenTTL: opts.TokenTTL,
		fpKey:    []byte("sfmtls token fingerprint"),
	}
	if opts.EncryptionKey != nil {
		block, err := aes.NewCipher(opts.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("%w: EncryptionKey must be 16, 24 or 32 bytes (AES-128/192/256), got %d", ErrConfig, len(opts.EncryptionKey))
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
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

// ErrUnreadable marks a stored value this Store cannot read: encrypted without
// a key here, or with another key, or not written by redisstore.
var ErrUnreadable = errors.New("redisstore: stored token unreadable")

// fingerprint identifies a token for compare-and-delete without storing or
// comparing it in clear.
func (s *Store) fingerprint(tok *auth.Token) string {
	mac := hmac.New(sha256.New, s.fpKey)
	mac.Write([]byte(tok.AccessToken))
	return hex.EncodeToString(mac.Sum(nil))
}

func (s *Store) seal(plain []byte) ([]byte, error) {
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
	return s.aead.Seal(out, nonce, plain, []byte(s.tokenKey)), nil
}

func (s *Store) open(data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty value", ErrUnreadable)
	}
	switch data[0] {
	case formatPlain:
		if s.aead != nil {
			return nil, fmt.Errorf("%w: stored unencrypted but this store has an EncryptionKey (it will be replaced)", ErrUnreadable)
		}
		return data[1:], nil
	case formatEncrypted:
		if s.aead == nil {
			return nil, fmt.Errorf("%w: stored encrypted; give this store the same EncryptionKey", ErrUnreadable)
		}
		n := s.aead.NonceSize()
		if len(data) < 1+n {
			return nil, fmt.Errorf("%w: truncated", ErrUnreadable)
		}
		plain, err := s.aead.Open(nil, data[1:1+n], data[1+n:], []byte(s.tokenKey))
		if err != nil {
			return nil, fmt.Errorf("%w: does not decrypt with this EncryptionKey", ErrUnreadable)
		}
		return plain, nil
	}
	return nil, fmt.Errorf("%w: unknown format", ErrUnreadable)
}

// Load returns the stored token, or nil when there is none.
func (s *Store) Load(ctx context.Context) (*auth.Token, error) {
	data, err := s.rdb.HGet(ctx, s.tokenKey, "v").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fail(ctx, "load", err)
	}
	plain, err := s.open(data)
	if err != nil {
		return nil, err
	}
	return auth.DecodeToken(plain)
}

// Save stores tok and wakes the processes waiting for it.
func (s *Store) Save(ctx context.Context, tok *auth.Token) error {
	plain, err := auth.EncodeToken(tok)
	if err != nil {
		return err
	}
	sealed, err := s.seal(plain)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.tokenKey, "v", sealed, "fp", s.fingerprint(tok))
		p.PExpire(ctx, s.tokenKey, s.tokenTTL)
		p.Publish(ctx, s.channel, "token")
		return nil
	})
	if err != nil {
		return fail(ctx, "save", err)
	}
	return nil
}

// compareAndDelete deletes the token hash only if its fingerprint is ARGV[1].
var compareAndDelete = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'fp') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// CompareAndDelete deletes the stored token only if it is still old, in one
// atomic step on the server.
func (s *Store) CompareAndDelete(ctx context.Context, old *auth.Token) error {
	if old == nil {
		return nil
	}
	if err := compareAndDelete.Run(ctx, s.rdb, []string{s.tokenKey}, s.fingerprint(old)).Err(); err != nil && !errors.Is(err, redis.Nil) {
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

// Lock takes the identity's login lock (SET NX with LockTTL). While another
// process holds it, the caller sleeps until a release or a new token is
// announced on the channel, or until the holder's TTL runs out (a holder that
// died), re-checking at least every second in case a message was lost.
func (s *Store) Lock(ctx context.Context) (func(), error) {
	owner, err := newOwner()
	if err != nil {
		return nil, err
	}
	if ok, err := s.rdb.SetNX(ctx, s.lockKey, owner, s.lockTTL).Result(); err != nil {
		return nil, fail(ctx, "lock", err)
	} else if ok {
		return s.unlocker(owner), nil
	}
	ps := s.rdb.Subscribe(ctx, s.channel)
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription is in place
		return nil, fail(ctx, "lock: subscribe", err)
	}
	events := ps.Channel()
	for {
		// Try again after subscribing, so a release between the first try
		// and the subscription is not missed.
		if ok, err := s.rdb.SetNX(ctx, s.lockKey, owner, s.lockTTL).Result(); err != nil {
			return nil, fail(ctx, "lock", err)
		} else if ok {
			return s.unlocker(owner), nil
		}
		wait := maxWake
		if ttl, err := s.rdb.PTTL(ctx, s.lockKey).Result(); err == nil && ttl >= 0 && ttl < wait {
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

func (s *Store) unlocker(owner string) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
		defer cancel()
		// An error leaves the lock to expire with its TTL.
		_ = releaseLock.Run(ctx, s.rdb, []string{s.lockKey}, owner, s.channel).Err()
	}
}

// fail wraps a Redis error: unless the caller's context ended, Redis could not
// be reached or did not answer, which auth.Cache treats as "log in without the
// store for a while" (auth.ErrStoreUnavailable).
func fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	return fmt.Errorf("redisstore: %s: %w: %w", op, auth.ErrStoreUnavailable, err)
}

func newOwner() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Format prints the store's keys, never a token or the encryption key, for
// every verb.
func (s *Store) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "redisstore.Store{token: %q, lock: %q, encrypted: %t}", s.tokenKey, s.lockKey, s.aead != nil)
}

// Format prints the options without the encryption key, for every verb.
func (o Options) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "redisstore.Options{Key: %q, Prefix: %q, EncryptionKey: %s, LockTTL: %s, TokenTTL: %s}",
		o.Key, o.Prefix, redactedKey(o.EncryptionKey), o.LockTTL, o.TokenTTL)
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

// ErrURL marks a Redis URL that ParseURL cannot use.
var ErrURL = errors.New("redisstore: not a Redis URL")
