package redisstore_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/redisstore"
)

// ParseURL takes what go-redis takes, and its errors never hold the password.
func TestParseURL(t *testing.T) {
	opts, err := redisstore.ParseURL("rediss://svc:s3cret-pw@redis.internal:6380/2")
	require.NoError(t, err)
	assert.Equal(t, "redis.internal:6380", opts.Addr)
	assert.Equal(t, "svc", opts.Username)
	assert.Equal(t, "s3cret-pw", opts.Password)
	assert.Equal(t, 2, opts.DB)
	assert.NotNil(t, opts.TLSConfig, "rediss:// is TLS")

	for _, bad := range []string{
		"redis://user:s3cret-pw@host:port%zz/0",
		"http://:s3cret-pw@localhost:6379",
		"redis://:s3cret-pw@localhost:6379/notadb",
		"redis://:s3cret-pw%zz@localhost:6379/0",
		"redis://:s3cret-pw@[::1/0",
		"s3cret-pw",
	} {
		_, err := redisstore.ParseURL(bad)
		require.Error(t, err, bad)
		assert.True(t, errors.Is(err, redisstore.ErrURL), bad)
		assert.Contains(t, err.Error(), "redis://[user:password@]host:port/db")
		assert.NotContains(t, err.Error(), "s3cret-pw", bad)
	}
}
