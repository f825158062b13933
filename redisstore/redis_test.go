package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sfmtls/sfmtls/internal/redisserver"
)

// redisServer is a real redis-server on a free loopback port with its own
// temporary directory, for one test; a missing binary fails the test.
type redisServer struct{ *redisserver.Server }

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	return &redisServer{redisserver.Start(t)}
}

// Client returns a client with short bounds, so a stopped server fails fast
// (1 s: shorter dial timeouts failed now and then on this loaded machine).
func (s *redisServer) Client(t testing.TB) *redis.Client {
	rdb := redis.NewClient(clientOptions(s.Addr()))
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func clientOptions(addr string) *redis.Options {
	return &redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, MaxRetries: 1, DisableIdentity: true}
}
