package pubsub_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/internal/redisserver"
	"github.com/sfmtls/sfmtls/pubsub"
	"github.com/sfmtls/sfmtls/redisstore"
)

// The fleet proof of the Streaming listener through Pub/Sub and a real
// redis-server: two processes (each with its own Redis connection and
// Pub/Sub client) share the position and the lease; when the listening one
// stops, the other takes over from the saved position, and every event is
// handled once.
func TestFleetThroughRedis(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rs := redisserver.Start(t)
	member := func(holder string) *collector {
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr(), DialTimeout: time.Second})
		t.Cleanup(func() { _ = rdb.Close() })
		store, err := redisstore.New(rdb, redisstore.Options{})
		require.NoError(t, err)
		ps, err := pubsub.New(e.srv.Config(e.sf))
		require.NoError(t, err)
		t.Cleanup(func() { _ = ps.Close() })
		return run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: ps, Topic: orderTopic}, Start: events.ReplayAll,
			Store: store, Holder: holder, LeaseTTL: 3 * time.Second}, nil)
	}
	e.publish(t, 1, 2)
	a := member("a")
	a.wait(t, 2)
	b := member("b")
	e.publish(t, 3)
	a.wait(t, 3)
	a.cancel()
	<-a.done
	e.publish(t, 4, 5)
	assert.Equal(t, []float64{4, 5}, amounts(t, b.wait(t, 2)))
	assert.Equal(t, []float64{1, 2, 3}, amounts(t, a.got()))
	assert.Empty(t, e.srv.Violations())
}
