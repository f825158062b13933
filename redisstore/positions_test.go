package redisstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/redisstore"
)

// The Redis store keeps the fleet's positions and leases (the cases are in
// internal/storetest, run by TestStoreContract).
var _ events.Store = (*redisstore.Store)(nil)

// What sits in Redis: one hash per subscription beside the token keys, under
// the same prefix, with the position in clear and no TTL (a position must
// outlive any pause of the fleet).
func TestPositionStoredForm(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Options{Prefix: "app1:", EncryptionKey: []byte(testKey)})
	ctx := t.Context()
	ok, err := s.AcquireLease(ctx, "/data/AccountChangeEvent", "holder-1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.SavePosition(ctx, "/data/AccountChangeEvent", "holder-1", []byte("1234")))

	raw := srv.Client(t)
	h, err := raw.HGetAll(ctx, "app1:subscription:/data/AccountChangeEvent").Result()
	require.NoError(t, err)
	assert.Equal(t, "1234", h["position"])
	assert.Equal(t, "holder-1", h["holder"])
	ttl, err := raw.PTTL(ctx, "app1:subscription:/data/AccountChangeEvent").Result()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), ttl, "no TTL on a position")
}
