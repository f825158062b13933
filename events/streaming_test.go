package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const orderChannel = "/event/Order_Placed__e"

func newEventOrg(t *testing.T, cfg salesforcetest.Config) (*salesforcetest.Org, *client.Client) {
	t.Helper()
	org := salesforcetest.NewOrg(t, cfg)
	require.NoError(t, org.Setup().DefinePlatformEvent("Order_Placed__e",
		salesforcetest.Field{Name: "Amount__c", Type: salesforcetest.TypeDouble, Required: true}))
	return org, org.Client(t)
}

func publish(t *testing.T, c *client.Client, amounts ...int) {
	t.Helper()
	for _, a := range amounts {
		var out client.SaveResult
		require.NoError(t, c.Do(t.Context(), http.MethodPost, "/services/data/v"+salesforcetest.APIVersion+"/sobjects/Order_Placed__e",
			map[string]any{"Amount__c": a}, &out))
		require.True(t, out.Success)
	}
}

// listener runs a subscription in the background and collects what it
// handles.
type listener struct {
	mu     sync.Mutex
	events []events.Event
	done   chan struct{} // closed when Run returned err
	err    error
	cancel context.CancelFunc
}

func listen(t *testing.T, sub *events.Subscription) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	l := &listener{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(l.done)
		l.err = sub.Run(ctx, func(_ context.Context, ev events.Event) error {
			l.mu.Lock()
			l.events = append(l.events, ev)
			l.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-l.done })
	return l
}

func (l *listener) amounts() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for _, ev := range l.events {
		var p struct{ Amount__c float64 }
		_ = json.Unmarshal(ev.Data, &p)
		out = append(out, int(p.Amount__c))
	}
	return out
}

func (l *listener) waitFor(t *testing.T, n int) []int {
	t.Helper()
	require.Eventually(t, func() bool { return len(l.amounts()) >= n }, 20*time.Second, 5*time.Millisecond)
	return l.amounts()
}

func (l *listener) stop(t *testing.T) error {
	t.Helper()
	l.cancel()
	<-l.done
	return l.err
}

func subscribed(t *testing.T, org *salesforcetest.Org, channel string) {
	t.Helper()
	require.Eventually(t, func() bool { return org.Data().StreamingSubscribers(channel) > 0 }, 20*time.Second, 5*time.Millisecond)
}

// Platform events published through REST are delivered on /event/…, in
// order, with their replay ids and payload (Platform Events Developer Guide,
// "Subscribe to Platform Event Notifications with CometD").
func TestStreamingPlatformEventsAllThenNew(t *testing.T) {
	org, c := newEventOrg(t, salesforcetest.Config{})
	publish(t, c, 1, 2)
	l := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel}, Start: events.ReplayAll})
	assert.Equal(t, []int{1, 2}, l.waitFor(t, 2), "ReplayAll (-2) delivers the retained events")
	publish(t, c, 3)
	assert.Equal(t, []int{1, 2, 3}, l.waitFor(t, 3))
	l.mu.Lock()
	first := l.events[0]
	ids := []int64{l.events[0].ReplayID, l.events[1].ReplayID, l.events[2].ReplayID}
	l.mu.Unlock()
	assert.Equal(t, orderChannel, first.Channel)
	assert.Equal(t, fmt.Sprint(first.ReplayID), string(first.Position))
	assert.False(t, first.Time.IsZero(), "the payload's CreatedDate")
	assert.Nil(t, first.Change)
	assert.Less(t, ids[0], ids[1])
	assert.Less(t, ids[1], ids[2])
	require.ErrorIs(t, l.stop(t), context.Canceled)
	_ = org
}

// ReplayNew (-1) skips what was published before the subscription.
func TestStreamingReplayNew(t *testing.T) {
	org, c := newEventOrg(t, salesforcetest.Config{})
	publish(t, c, 1)
	l := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel}})
	subscribed(t, org, orderChannel)
	publish(t, c, 2)
	assert.Equal(t, []int{2}, l.waitFor(t, 1))
}

// A restarted subscription resumes after the saved replay id: nothing is
// lost, nothing repeated.
func TestStreamingResumesFromSavedPosition(t *testing.T) {
	org, c := newEventOrg(t, salesforcetest.Config{})
	store := &sharedStore{}
	publish(t, c, 1, 2)
	l := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel}, Start: events.ReplayAll, Store: store.get()})
	l.waitFor(t, 2)
	require.ErrorIs(t, l.stop(t), context.Canceled)
	require.Zero(t, org.Data().StreamingSubscribers(orderChannel), "the listener unsubscribed on its way out")
	publish(t, c, 3, 4)
	l2 := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel}, Start: events.ReplayAll, Store: store.get()})
	assert.Equal(t, []int{3, 4}, l2.waitFor(t, 2))
}

// A client the server forgot ("403::Unknown client", Streaming API
// Developer Guide, "Handling Streaming API Errors",
// https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/streaming_handling_errors.htm)
// handshakes again and resubscribes from its last event; a connection cut
// with events in flight is resumed the same way.
func TestStreamingUnknownClientAndDroppedConnection(t *testing.T) {
	org, c := newEventOrg(t, salesforcetest.Config{})
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel, Logger: logger}, Start: events.ReplayAll})
	publish(t, c, 1)
	l.waitFor(t, 1)
	org.Faults().ExpireStreamingClients()
	publish(t, c, 2)
	l.waitFor(t, 2)
	assert.Contains(t, logs.String(), "Unknown client", "the server forgot the client, and it handshook again")
	org.Faults().DropStreamingConnection()
	publish(t, c, 3)
	l.waitFor(t, 3)
	assert.Contains(t, logs.String(), "Streaming API failure; retrying", "the connection carrying event 3 was cut")
	publish(t, c, 4)
	assert.Equal(t, []int{1, 2, 3, 4}, l.waitFor(t, 4), "each event once, in order")
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutine and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A rejected session ("401::Authentication invalid") refreshes the token
// once and resumes.
func TestStreamingSessionExpiredRefreshesOnce(t *testing.T) {
	org, c := newEventOrg(t, salesforcetest.Config{})
	l := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel}, Start: events.ReplayAll})
	publish(t, c, 1)
	l.waitFor(t, 1)
	before := org.Stats().TokenRequests
	org.Faults().ExpireAllSessions()
	publish(t, c, 2) // the REST call refreshes too: one token for both
	assert.Equal(t, []int{1, 2}, l.waitFor(t, 2))
	publish(t, c, 3)
	assert.Equal(t, []int{1, 2, 3}, l.waitFor(t, 3))
	assert.Equal(t, before+1, org.Stats().TokenRequests, "one token request for the REST call and the listener")
}

// A saved replay id no longer retained is ErrPositionGone ("Streaming API
// Error Codes": "400::The replayId {id} you provided was invalid",
// https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/streaming_error_codes.htm);
// GoneEarliest starts again from the earliest retained event.
func TestStreamingPositionGone(t *testing.T) {
	org, c := newEventOrg(t, salesforcetest.Config{})
	store := &sharedStore{}
	src := &events.Streaming{Client: c, Channel: orderChannel}
	publish(t, c, 1)
	l := listen(t, &events.Subscription{Source: src, Start: events.ReplayAll, Store: store.get()})
	l.waitFor(t, 1)
	require.ErrorIs(t, l.stop(t), context.Canceled)
	org.Faults().LoseStreamingRetention()

	err := (&events.Subscription{Source: src, Store: store.get()}).Run(t.Context(), func(context.Context, events.Event) error { return nil })
	require.ErrorIs(t, err, events.ErrPositionGone)
	var serr *events.StreamingError
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, 400, serr.Code)

	publish(t, c, 2)
	l2 := listen(t, &events.Subscription{Source: src, Store: store.get(), IfGone: events.GoneEarliest})
	assert.Equal(t, []int{2}, l2.waitFor(t, 1))
}

// Retention follows the org's clock: platform events are kept 72 hours
// ("Message Durability",
// https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/using_streaming_api_durability.htm).
func TestStreamingRetentionWindow(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	org, c := newEventOrg(t, salesforcetest.Config{Now: clock})
	_, err := org.Setup().DefineStreamingChannel("/u/Notes")
	require.NoError(t, err)
	publish(t, c, 1)
	require.NoError(t, org.Data().PushGenericEvent("/u/Notes", "hello"))
	advance(25 * time.Hour)
	publish(t, c, 2)

	l := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel}, Start: events.ReplayAll})
	assert.Equal(t, []int{1, 2}, l.waitFor(t, 2), "after 25 hours both platform events are retained")
	require.ErrorIs(t, l.stop(t), context.Canceled)

	g := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: "/u/Notes"}, Start: events.ReplayAll})
	subscribed(t, org, "/u/Notes")
	require.NoError(t, org.Data().PushGenericEvent("/u/Notes", "again"))
	require.Eventually(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.events) == 1 }, 20*time.Second, 5*time.Millisecond)
	g.mu.Lock()
	assert.JSONEq(t, `"again"`, string(g.events[0].Data), "the generic event of 25 hours ago is past its 24 hours")
	g.mu.Unlock()
	require.ErrorIs(t, g.stop(t), context.Canceled)

	advance(48 * time.Hour)
	l2 := listen(t, &events.Subscription{Source: &events.Streaming{Client: c, Channel: orderChannel}, Start: events.ReplayAll})
	subscribed(t, org, orderChannel)
	publish(t, c, 3)
	assert.Equal(t, []int{2, 3}, l2.waitFor(t, 2), "73 hours on, the first platform event is gone")
}

// A channel that does not exist is a *StreamingError, not a lost position.
func TestStreamingUnknownChannel(t *testing.T) {
	_, c := newEventOrg(t, salesforcetest.Config{})
	err := (&events.Subscription{Source: &events.Streaming{Client: c, Channel: "/event/Nope__e"}}).Run(t.Context(),
		func(context.Context, events.Event) error { return nil })
	var serr *events.StreamingError
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, 400, serr.Code)
	assert.Equal(t, "/meta/subscribe", serr.Channel)
	assert.False(t, errors.Is(err, events.ErrPositionGone))
}

// sharedStore hands out one in-memory Store that survives subscriptions,
// as a file store survives processes.
type sharedStore struct {
	once sync.Once
	s    *memStore
}

func (s *sharedStore) get() events.Store {
	s.once.Do(func() { s.s = &memStore{pos: map[string][]byte{}, lease: map[string]string{}} })
	return s.s
}

type memStore struct {
	mu    sync.Mutex
	pos   map[string][]byte
	lease map[string]string
}

func (m *memStore) LoadPosition(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos[key], nil
}

func (m *memStore) SavePosition(_ context.Context, key, holder string, pos []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease[key] != holder {
		return events.ErrLeaseLost
	}
	m.pos[key] = append([]byte(nil), pos...)
	return nil
}

func (m *memStore) AcquireLease(_ context.Context, key, holder string, _ time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h := m.lease[key]; h != "" && h != holder {
		return false, nil
	}
	m.lease[key] = holder
	return true, nil
}

func (m *memStore) ReleaseLease(_ context.Context, key, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease[key] == holder {
		delete(m.lease, key)
	}
	return nil
}
