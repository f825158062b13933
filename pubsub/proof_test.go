package pubsub_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub"
)

// The restart proof of the Streaming listener, through Pub/Sub: positions
// in a FileStore; a listener whose handler fails (a crash before the
// position is saved) and a new one from the same store deliver every event,
// the failed one again and nothing else twice.
func TestRestartResumesFromSavedPosition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	newSub := func() *events.Subscription {
		store, err := auth.NewFileStore(dir)
		require.NoError(t, err)
		return &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}, Start: events.ReplayAll,
			Store: store, Holder: "proc", LeaseTTL: time.Second}
	}
	e.publish(t, 1, 2, 3)
	crash := errors.New("crash")
	first := run(t, newSub(), func(_ context.Context, ev events.Event) error {
		if amounts(t, []events.Event{ev})[0] == 3 {
			return crash
		}
		return nil
	})
	<-first.done
	require.ErrorIs(t, first.err, crash)
	assert.Equal(t, []float64{1, 2}, amounts(t, first.got()))

	e.publish(t, 4)
	second := run(t, newSub(), nil)
	assert.Equal(t, []float64{3, 4}, amounts(t, second.wait(t, 2)))
	second.cancel()
	<-second.done

	e.publish(t, 5)
	third := run(t, newSub(), nil)
	assert.Equal(t, []float64{5}, amounts(t, third.wait(t, 1)))
	assert.Empty(t, e.srv.Violations())
}

// The fleet proof, through Pub/Sub: two listeners share a store; one
// listens, the other takes over from the saved position when it stops.
func TestFleetTakesOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	store, err := auth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	sub := func(holder string) *events.Subscription {
		return &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}, Start: events.ReplayAll,
			Store: store, Holder: holder, LeaseTTL: 3 * time.Second}
	}
	e.publish(t, 1, 2)
	a := run(t, sub("a"), nil)
	a.wait(t, 2)
	b := run(t, sub("b"), nil)
	e.publish(t, 3)
	a.wait(t, 3)
	assert.Empty(t, b.got(), "b waits while a holds the lease")
	a.cancel()
	<-a.done
	e.publish(t, 4, 5)
	assert.Equal(t, []float64{4, 5}, amounts(t, b.wait(t, 2)))
	assert.Equal(t, []float64{1, 2, 3}, amounts(t, a.got()))
}
