package pubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub"
	"github.com/sfmtls/sfmtls/pubsub/pubsubtest"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const orderTopic = "/event/Order_Placed__e"

const orderSchema = `{"type":"record","name":"Order_Placed__e","namespace":"com.sforce.eventbus","fields":[
{"name":"CreatedDate","type":"long"},{"name":"CreatedById","type":"string"},
{"name":"Amount__c","type":["null","double"],"default":null},{"name":"Note__c","type":["null","string"],"default":null}]}`

type order struct {
	CreatedDate int64   `avro:"CreatedDate"`
	CreatedByID string  `avro:"CreatedById"`
	Amount      float64 `avro:"Amount__c"`
	Note        *string `avro:"Note__c"`
}

// env is a fake org, a fake Pub/Sub API beside it, and clients of both.
type env struct {
	org *salesforcetest.Org
	srv *pubsubtest.Server
	sf  *client.Client
	ps  *pubsub.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	srv := pubsubtest.New(t, org)
	srv.AddTopic(orderTopic, orderSchema)
	sf := org.Client(t)
	ps, err := pubsub.New(srv.Config(sf))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	return &env{org: org, srv: srv, sf: sf, ps: ps}
}

func (e *env) publish(t testing.TB, amounts ...float64) {
	t.Helper()
	var msgs []pubsub.Message
	for _, a := range amounts {
		msgs = append(msgs, pubsub.Message{Fields: order{CreatedDate: time.Now().UnixMilli(), CreatedByID: "005000000000001AAA", Amount: a}})
	}
	res, err := e.ps.Publish(t.Context(), orderTopic, msgs...)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
		require.NotEmpty(t, r.ReplayID)
	}
}

// collector runs a subscription in the background and keeps what it handles.
type collector struct {
	mu     sync.Mutex
	events []events.Event
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

func run(t *testing.T, sub *events.Subscription, h events.Handler) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	c := &collector{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(c.done)
		c.err = sub.Run(ctx, func(ctx context.Context, ev events.Event) error {
			if h != nil {
				if err := h(ctx, ev); err != nil {
					return err
				}
			}
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

func (c *collector) got() []events.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]events.Event(nil), c.events...)
}

func (c *collector) wait(t *testing.T, n int) []events.Event {
	t.Helper()
	require.Eventually(t, func() bool { return len(c.got()) >= n }, 10*time.Second, 5*time.Millisecond,
		"want %d events, got %d", n, len(c.got()))
	return c.got()
}

func amounts(t *testing.T, evs []events.Event) []float64 {
	t.Helper()
	var out []float64
	for _, ev := range evs {
		var o struct {
			Amount float64 `json:"Amount__c"`
		}
		require.NoError(t, json.Unmarshal(ev.Data, &o))
		out = append(out, o.Amount)
	}
	return out
}

// Publish and subscribe from EARLIEST: every event, decoded, in order, the
// schema fetched once, flow control within 100.
func TestSubscribeEarliest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.publish(t, 1, 2, 3)
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}, Start: events.ReplayAll}, nil)
	evs := c.wait(t, 3)
	assert.Equal(t, []float64{1, 2, 3}, amounts(t, evs))
	e.publish(t, 4)
	evs = c.wait(t, 4)
	assert.Equal(t, []float64{1, 2, 3, 4}, amounts(t, evs))
	for _, ev := range evs {
		assert.Equal(t, orderTopic, ev.Channel)
		assert.Len(t, ev.Position, 8)
		assert.False(t, ev.Time.IsZero())
		assert.Nil(t, ev.Change)
	}
	info, err := e.ps.Topic(t.Context(), orderTopic)
	require.NoError(t, err)
	assert.Equal(t, 1, e.srv.SchemaFetches(info.SchemaID), "one GetSchema per schema id")
	assert.Empty(t, e.srv.Violations())
}

// LATEST starts at the tip: events published before are not delivered.
func TestSubscribeLatest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.publish(t, 1)
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}}, nil)
	// The subscription is open once the server counts a request.
	require.Eventually(t, func() bool { return e.srv.MaxPending() > 0 }, 10*time.Second, 5*time.Millisecond)
	e.publish(t, 2)
	assert.Equal(t, []float64{2}, amounts(t, c.wait(t, 1)))
}

// Flow control: a handler that takes one event at a time never has more
// than Batch events requested ahead of it, whatever was published.
func TestFlowControl(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 5 {
		e.publish(t, make([]float64, 50)...)
	}
	release := make(chan struct{})
	var handled sync.WaitGroup
	handled.Add(250)
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic, Batch: 10}, Start: events.ReplayAll},
		func(ctx context.Context, _ events.Event) error {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	require.Eventually(t, func() bool { return e.srv.MaxPending() == 10 }, 10*time.Second, 5*time.Millisecond)
	close(release)
	c.wait(t, 250)
	assert.Equal(t, 10, e.srv.MaxPending(), "never more than Batch requested ahead")
	assert.Empty(t, e.srv.Violations())
}

// A stream the server closes resumes from the last event handled: nothing
// lost, nothing repeated.
func TestServerClosesStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.publish(t, 1, 2)
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}, Start: events.ReplayAll}, nil)
	c.wait(t, 2)
	e.srv.CloseStreams()
	e.publish(t, 3)
	e.srv.CloseStreams()
	e.publish(t, 4, 5)
	evs := c.wait(t, 5)
	assert.Equal(t, []float64{1, 2, 3, 4, 5}, amounts(t, evs))
	assert.Empty(t, e.srv.Violations())
}

// An inactivity watchdog resubscribes a stream that stays silent (no
// keepalive) past IdleTimeout.
func TestIdleWatchdogResubscribes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.KeepAlive = time.Hour // the server goes silent
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic, IdleTimeout: 50 * time.Millisecond},
		Start: events.ReplayAll}, nil)
	e.publish(t, 1)
	c.wait(t, 1)
	before := e.srv.Subscribes()
	require.Eventually(t, func() bool { return e.srv.Subscribes() >= before+2 }, 10*time.Second, 5*time.Millisecond,
		"the watchdog subscribes again")
	e.publish(t, 2)
	assert.Equal(t, []float64{1, 2}, amounts(t, c.wait(t, 2)))
}

// Keepalives (empty answers) keep the watchdog quiet.
func TestKeepaliveKeepsStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.KeepAlive = 10 * time.Millisecond
	run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic, IdleTimeout: 2 * time.Second}}, nil)
	require.Eventually(t, func() bool { return e.srv.Keepalives() >= 20 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, 1, e.srv.Subscribes())
}

// UNAUTHENTICATED drops that token, refreshes it once for every stream
// (one token request), and resumes from the last event handled.
func TestExpiredTokenRefreshedOnceForAllStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.publish(t, 1)
	var cs []*collector
	for range 3 {
		cs = append(cs, run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}, Start: events.ReplayAll}, nil))
	}
	for _, c := range cs {
		c.wait(t, 1)
	}
	fetches := e.sf.Stats().TokenFetches
	e.srv.ExpireTokens()
	e.publish(t, 2)
	for _, c := range cs {
		assert.Equal(t, []float64{1, 2}, amounts(t, c.wait(t, 2)))
	}
	assert.Equal(t, fetches+1, e.sf.Stats().TokenFetches, "one token request for all streams and the publish")
	// The REST path shares the new token.
	_, err := e.sf.Limits(t.Context())
	require.NoError(t, err)
	assert.Equal(t, fetches+1, e.sf.Stats().TokenFetches)
}

// A session the Pub/Sub API refuses even when fresh ends the subscription
// with an error that names the Streaming API listener on 8443.
func TestSessionRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.RefuseSessions(true)
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}}, nil)
	<-c.done
	var sr *pubsub.SessionRefusedError
	require.ErrorAs(t, c.err, &sr)
	assert.Contains(t, sr.Fix(), "8443")
	assert.Contains(t, sr.Fix(), "events.Streaming")
	for _, tok := range e.org.IssuedTokens() {
		assert.NotContains(t, c.err.Error(), tok)
	}
	_, err := e.ps.Publish(t.Context(), orderTopic, pubsub.Message{Fields: order{Amount: 1}})
	require.ErrorAs(t, err, &sr)
}

// A corrupt payload is reported and the stream goes on.
func TestCorruptPayloadReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.publish(t, 1, 2, 3)
	e.srv.CorruptNext(orderTopic, 1)
	var mu sync.Mutex
	var bad []*pubsub.DecodeError
	sub := &pubsub.Subscriber{Client: e.ps, Topic: orderTopic, OnUndecodable: func(_ context.Context, err *pubsub.DecodeError) {
		mu.Lock()
		bad = append(bad, err)
		mu.Unlock()
	}}
	c := run(t, &events.Subscription{Source: sub, Start: events.ReplayAll}, nil)
	assert.Equal(t, []float64{2, 3}, amounts(t, c.wait(t, 2)))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bad, 1)
	assert.Equal(t, orderTopic, bad[0].Topic)
}

// A saved position no longer retained is ErrPositionGone (the error-code
// trailer), which the subscription's IfGone policy handles.
func TestPositionGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	err := (&pubsub.Subscriber{Client: e.ps, Topic: orderTopic}).Run(t.Context(), []byte{0, 0, 0, 0, 0, 0, 0, 99}, events.ReplayNew,
		func(context.Context, events.Event) error { return nil })
	require.ErrorIs(t, err, events.ErrPositionGone)
}

// A publish whose answer was lost is reported as of unknown outcome and
// not sent again.
func TestPublishLostAnswerIsUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.LoseNextPublishAnswer()
	_, err := e.ps.Publish(t.Context(), orderTopic, pubsub.Message{ID: "ord-1", Fields: order{Amount: 1}})
	var u *pubsub.UnknownOutcomeError
	require.ErrorAs(t, err, &u)
	assert.ErrorIs(t, err, pubsub.ErrUnknownOutcome)
	assert.Equal(t, []string{"ord-1"}, u.IDs)
	assert.Equal(t, 1, e.srv.Published(orderTopic), "stored once, never resent")
}

// Per-event results: an event under another schema is refused, the others
// published.
func TestPublishStreamResults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	batch := func(n int) []pubsub.Message {
		var out []pubsub.Message
		for i := range n {
			out = append(out, pubsub.Message{ID: fmt.Sprint("b", n, "-", i), Fields: map[string]any{"CreatedDate": int64(1), "CreatedById": "x",
				"Amount__c": float64(i), "Note__c": nil}})
		}
		return out
	}
	res, err := e.ps.PublishStream(t.Context(), orderTopic, batch(2), batch(3))
	require.NoError(t, err)
	require.Len(t, res, 5)
	for _, r := range res {
		require.NoError(t, r.Err)
		assert.NotEmpty(t, r.ReplayID)
	}
	assert.Equal(t, 5, e.srv.Published(orderTopic))
	_, err = e.ps.Publish(t.Context(), orderTopic, pubsub.Message{Fields: map[string]any{"Amount__c": "not a number"}})
	require.Error(t, err)
	assert.False(t, errors.Is(err, pubsub.ErrUnknownOutcome), "an event that does not encode is never sent")
}

const (
	waitFor = 10 * time.Second
	tick    = 5 * time.Millisecond
)

// JSON fields take the schema's types; CreatedDate and CreatedById are
// filled in; an unknown field is refused before anything is sent.
func TestPublishJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}, Start: events.ReplayAll}, nil)
	res, err := e.ps.Publish(t.Context(), orderTopic, pubsub.Message{Fields: json.RawMessage(`{"Amount__c": 12.5, "Note__c": "rush"}`)})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	evs := c.wait(t, 1)
	var got struct {
		Amount float64 `json:"Amount__c"`
		Note   string  `json:"Note__c"`
		When   int64   `json:"CreatedDate"`
	}
	require.NoError(t, json.Unmarshal(evs[0].Data, &got))
	assert.Equal(t, 12.5, got.Amount)
	assert.Equal(t, "rush", got.Note)
	assert.Positive(t, got.When)
	_, err = e.ps.Publish(t.Context(), orderTopic, pubsub.Message{Fields: json.RawMessage(`{"Nope__c": 1}`)})
	require.Error(t, err)
	assert.Equal(t, 1, e.srv.Published(orderTopic))
}
