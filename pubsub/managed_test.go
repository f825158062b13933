package pubsub_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub"
)

// A managed subscription keeps its position on the server: each handled
// event is committed, and a new stream (a restart, a closed stream) starts
// after the last commit.
func TestManagedSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.AddManagedSubscription("Orders_Sub", orderTopic)
	e.publish(t, 1, 2, 3)
	first := run(t, &events.Subscription{Source: &pubsub.ManagedSubscriber{Client: e.ps, Subscription: "Orders_Sub"}}, nil)
	evs := first.wait(t, 3)
	assert.Equal(t, []float64{1, 2, 3}, amounts(t, evs))
	assert.Eventually(t, func() bool { return string(e.srv.Committed("Orders_Sub")) == string(evs[2].Position) }, waitFor, tick)
	e.srv.CloseStreams()
	e.publish(t, 4)
	evs = first.wait(t, 4)
	assert.Equal(t, []float64{1, 2, 3, 4}, amounts(t, evs))
	assert.Eventually(t, func() bool { return string(e.srv.Committed("Orders_Sub")) == string(evs[3].Position) }, waitFor, tick)
	first.cancel()
	<-first.done

	e.publish(t, 5)
	second := run(t, &events.Subscription{Source: &pubsub.ManagedSubscriber{Client: e.ps, Subscription: "Orders_Sub"}}, nil)
	assert.Equal(t, []float64{5}, amounts(t, second.wait(t, 1)))
	assert.Equal(t, "Orders_Sub", second.got()[0].Channel)
	assert.Empty(t, e.srv.Violations())
}
