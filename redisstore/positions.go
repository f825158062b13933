package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sfmtls/sfmtls/internal/errs"
)

// maxPosition bounds a saved position: replay ids and watermarks are a few
// dozen bytes, so a larger one is a bug, not data to keep.
const maxPosition = 64 << 10

// subscriptionKey names the hash of one subscription (events.Store): its
// position and its lease live in one hash, <prefix>subscription:<key>, so
// that each script touches one key (Redis Cluster runs a script only on keys
// of one slot). Positions are stored unencrypted: a replay id or a watermark
// grants nothing to whoever reads it.
func (s *Store) subscriptionKey(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("redisstore: %w: empty subscription key", errs.ErrConfig)
	}
	return s.prefix + "subscription:" + key, nil
}

// The lease's expiry is the Redis server's clock (TIME), the one clock every
// process of the fleet shares, so that machines whose clocks differ agree on
// when a lease ended.
const nowMillis = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// acquireLease: KEYS[1] the hash, ARGV[1] the holder, ARGV[2] the TTL in
// milliseconds. 1 when ARGV[1] holds the lease afterwards.
var acquireLease = redis.NewScript(nowMillis + `
local holder = redis.call('HGET', KEYS[1], 'holder')
local expires = tonumber(redis.call('HGET', KEYS[1], 'expires') or '0')
if holder and holder ~= '' and holder ~= ARGV[1] and now < expires then
  return 0
end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'expires', tostring(now + tonumber(ARGV[2])))
return 1`)

// savePosition: KEYS[1] the hash, ARGV[1] the holder, ARGV[2] the position.
// 1 when saved, 0 when ARGV[1] does not hold the lease.
var savePosition = redis.NewScript(nowMillis + `
local holder = redis.call('HGET', KEYS[1], 'holder')
local expires = tonumber(redis.call('HGET', KEYS[1], 'expires') or '0')
if holder ~= ARGV[1] or now >= expires then
  return 0
end
redis.call('HSET', KEYS[1], 'position', ARGV[2])
return 1`)

// releaseLease: KEYS[1] the hash, ARGV[1] the holder.
var releaseLease = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'holder', 'expires')
end
return 0`)

// LoadPosition returns key's saved position (events.Store), or nil.
func (s *Store) LoadPosition(ctx context.Context, key string) ([]byte, error) {
	k, err := s.subscriptionKey(key)
	if err != nil {
		return nil, err
	}
	pos, err := s.rdb.HGet(ctx, k, "position").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fail(ctx, "load position", err)
	}
	return pos, nil
}

// SavePosition saves pos as key's position if holder holds key's lease
// (events.Store), checking and writing in one script, and returns an error
// matching events.ErrLeaseLost otherwise.
func (s *Store) SavePosition(ctx context.Context, key, holder string, pos []byte) error {
	k, err := s.subscriptionKey(key)
	if err != nil {
		return err
	}
	if holder == "" {
		return fmt.Errorf("redisstore: %w: empty lease holder", errs.ErrConfig)
	}
	if len(pos) > maxPosition {
		return fmt.Errorf("redisstore: %w: a position of %d bytes (at most %d)", errs.ErrConfig, len(pos), maxPosition)
	}
	saved, err := savePosition.Run(ctx, s.rdb, []string{k}, holder, pos).Int()
	if err != nil {
		return fail(ctx, "save position", err)
	}
	if saved == 0 {
		return fmt.Errorf("redisstore: saving the position of %q: %w", key, errs.ErrLeaseLost)
	}
	return nil
}

// AcquireLease makes holder key's lease holder for ttl if the lease is free,
// expired, or holder's (events.Store). The expiry is Redis's clock.
func (s *Store) AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error) {
	k, err := s.subscriptionKey(key)
	if err != nil {
		return false, err
	}
	if holder == "" || ttl.Milliseconds() <= 0 {
		return false, fmt.Errorf("redisstore: %w: a lease needs a holder and a TTL of at least 1ms", errs.ErrConfig)
	}
	got, err := acquireLease.Run(ctx, s.rdb, []string{k}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fail(ctx, "acquire lease", err)
	}
	return got == 1, nil
}

// ReleaseLease gives key's lease up if holder holds it (events.Store), so
// another process takes over at once rather than after the TTL.
func (s *Store) ReleaseLease(ctx context.Context, key, holder string) error {
	k, err := s.subscriptionKey(key)
	if err != nil {
		return err
	}
	if err := releaseLease.Run(ctx, s.rdb, []string{k}, holder).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fail(ctx, "release lease", err)
	}
	return nil
}
