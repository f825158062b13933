package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// clock is the fake org's and the trigger's clock, which a test moves
// instead of sleeping; frozen, it stamps every record with one instant.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Now().UTC().Truncate(time.Second).Add(100 * time.Millisecond)}
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// triggerOrg is a fake org on a frozen clock and a client of it.
func triggerOrg(t *testing.T) (*salesforcetest.Org, *client.Client, *clock) {
	t.Helper()
	clk := newClock()
	org := salesforcetest.NewOrg(t, salesforcetest.Config{Now: clk.Now})
	return org, org.Client(t), clk
}

// collector runs a trigger and gathers its events; a handler error can be
// injected after n events.
type collector struct {
	mu     sync.Mutex
	events []events.Event
	more   chan struct{}
	failAt int // 1-based; 0 never
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1000)} }

func (c *collector) deliver(_ context.Context, ev events.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAt > 0 && len(c.events)+1 == c.failAt {
		return errStop
	}
	c.events = append(c.events, ev)
	c.more <- struct{}{}
	return nil
}

var errStop = errors.New("handler stops")

func (c *collector) snapshot() []events.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]events.Event(nil), c.events...)
}

// waitFor waits until n events arrived.
func (c *collector) waitFor(t *testing.T, n int) []events.Event {
	t.Helper()
	// Generous: the machine may be loaded (-race, parallel packages).
	deadline := time.After(60 * time.Second)
	for {
		if evs := c.snapshot(); len(evs) >= n {
			return evs
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("%d events of %d arrived", len(c.snapshot()), n)
		}
	}
}

// run starts tr in the background on the clock now, and returns once Run
// read the clock for its start (a test that moves the clock before that would
// move Run's start); the returned function stops it and returns Run's error.
func run(t *testing.T, tr *events.Trigger, now func() time.Time, pos []byte, start events.Replay, c *collector) func() error {
	t.Helper()
	started := make(chan struct{})
	var once0 sync.Once
	events.SetTriggerClock(tr, func() time.Time {
		at := now() // read before telling the test, which then moves the clock
		once0.Do(func() { close(started) })
		return at
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx, pos, start, c.deliver) }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Run returned at once: %v", err)
	}
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				err = errors.New("Run did not return after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func changes(evs []events.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Change.ChangeType+" "+ev.Change.RecordIDs[0])
	}
	return out
}

// New, then modified records of an object, as events with Change and Data;
// a record created and modified between two polls is one CREATE with its
// latest fields. Nothing is read until the clock passes the stamp by Lag.
func TestTriggerCreatesAndUpdates(t *testing.T) {
	org, c, clk := triggerOrg(t)
	before := org.Data().Insert(t, "Account", map[string]any{"Name": "before the start"})[0]
	clk.Advance(10 * time.Second) // ReplayNew starts Lag before Run

	tr := &events.Trigger{Client: c, Object: "Account", ChangeTypes: []string{"CREATE", "UPDATE"},
		Fields: []string{"Name"}, Interval: 10 * time.Millisecond, Lag: 5 * time.Second}
	col := newCollector()
	stop := run(t, tr, clk.Now, nil, events.ReplayNew, col)

	clk.Advance(time.Second)
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "one"}, map[string]any{"Name": "two"})
	require.NoError(t, c.Update(t.Context(), "Account", ids[1], map[string]any{"Name": "two, renamed"}))
	require.NoError(t, c.Update(t.Context(), "Account", before, map[string]any{"Name": "before, renamed"}))
	clk.Advance(6 * time.Second) // past the stamps by Lag
	evs := col.waitFor(t, 3)
	require.ErrorIs(t, stop(), context.Canceled, "Run ends with its context")

	// One second, in Id order; "before" was created before the start.
	want := []string{"CREATE " + ids[0], "CREATE " + ids[1], "UPDATE " + before}
	if before > ids[0] {
		want = []string{"UPDATE " + before, "CREATE " + ids[0], "CREATE " + ids[1]}
	}
	assert.ElementsMatch(t, want, changes(evs))
	for _, ev := range evs {
		assert.Equal(t, "trigger:Account:CREATE,UPDATE", ev.Channel)
		assert.Equal(t, "Account", ev.Change.EntityName)
		assert.NotEmpty(t, ev.Position)
		var rec struct{ Id, Name string }
		require.NoError(t, json.Unmarshal(ev.Data, &rec))
		assert.Equal(t, ev.Change.RecordIDs[0], rec.Id)
		if rec.Id == ids[1] {
			assert.Equal(t, "two, renamed", rec.Name, "the record's latest fields")
		}
	}
	assert.Equal(t, "trigger:Account:CREATE,UPDATE", tr.Key())
}

// Records that share one second, more than a batch: each is delivered once,
// in Id order, and a restart from any event's position delivers exactly the
// ones after it, although the poll stopped inside the second.
func TestTriggerSameSecondAcrossBatchesAndRestarts(t *testing.T) {
	org, c, clk := triggerOrg(t)
	tr := &events.Trigger{Client: c, Object: "Account", ChangeTypes: []string{"CREATE", "UPDATE"},
		Interval: 10 * time.Millisecond, Lag: time.Second, BatchSize: 2}
	start := clk.Now()
	recs := make([]map[string]any, 7)
	for i := range recs {
		recs[i] = map[string]any{"Name": fmt.Sprint("same second ", i)}
	}
	ids := org.Data().Insert(t, "Account", recs...) // the clock is frozen: one stamp
	clk.Advance(3 * time.Second)

	// The handler fails at the 4th event: Run returns its error, and the
	// 3rd event's position is the last one saved.
	first := newCollector()
	first.failAt = 4
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	events.SetTriggerClock(tr, clk.Now)
	err := tr.Run(ctx, nil, events.ReplayAll, first.deliver)
	for _, ev := range first.snapshot() {
		t.Logf("%s %s", ev.Change.RecordIDs[0], ev.Position)
	}
	require.ErrorIs(t, err, errStop, "the handler's error is Run's")
	got := first.snapshot()
	require.Len(t, got, 3)

	second := newCollector()
	stop := run(t, tr, clk.Now, got[2].Position, events.ReplayAll, second)
	rest := second.waitFor(t, 4)
	require.ErrorIs(t, stop(), context.Canceled)
	all := append(got, rest...)
	var seen []string
	for _, ev := range all {
		seen = append(seen, ev.Change.RecordIDs[0])
		assert.Equal(t, "CREATE", ev.Change.ChangeType)
		assert.True(t, ev.Time.Equal(start.Truncate(time.Millisecond)), "stamped %s", ev.Time)
	}
	assert.Equal(t, sorted(ids), seen, "each once, in Id order, none lost at the batch or restart boundary")
}

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A poll reads only up to Lag before the trigger's clock. With Salesforce's
// clock behind this machine's by less than Lag, a record stamped after a poll
// still lands after the watermark and is delivered; with a Lag shorter than
// the skew it lands behind the watermark and is lost, which is why Lag
// exists.
func TestTriggerLagCoversClockSkew(t *testing.T) {
	for _, tc := range []struct {
		lag       time.Duration
		delivered bool
	}{{5 * time.Second, true}, {time.Second, false}} {
		t.Run(fmt.Sprint("lag=", tc.lag), func(t *testing.T) {
			orgClock := newClock()
			org := salesforcetest.NewOrg(t, salesforcetest.Config{Now: orgClock.Now})
			c := org.Client(t)
			const skew = 3 * time.Second // Salesforce's clock is behind ours
			tr := &events.Trigger{Client: c, Object: "Account", ChangeTypes: []string{"CREATE"},
				Interval: 5 * time.Millisecond, Lag: tc.lag}
			ours := func() time.Time { return orgClock.Now().Add(skew) }
			first := org.Data().Insert(t, "Account", map[string]any{"Name": "first"})[0]
			orgClock.Advance(10 * time.Second)
			col := newCollector()
			stop := run(t, tr, ours, nil, events.ReplayAll, col)
			// The poll that delivered first read up to our clock minus Lag;
			// the clock is frozen, so no poll reads further until it moves.
			col.waitFor(t, 1)

			late := org.Data().Insert(t, "Account", map[string]any{"Name": "stamped by a clock behind ours"})[0]
			orgClock.Advance(10 * time.Second)
			marker := org.Data().Insert(t, "Account", map[string]any{"Name": "marker"})[0]
			orgClock.Advance(10 * time.Second)
			evs := col.waitFor(t, 2)
			if tc.delivered {
				evs = col.waitFor(t, 3)
				assert.Equal(t, []string{"CREATE " + first, "CREATE " + late, "CREATE " + marker}, changes(evs))
			} else {
				assert.Equal(t, []string{"CREATE " + first, "CREATE " + marker}, changes(evs), "a Lag shorter than the skew loses the record")
			}
			require.ErrorIs(t, stop(), context.Canceled)
		})
	}
}

func TestTriggerConfigErrors(t *testing.T) {
	_, c, _ := triggerOrg(t)
	for name, tr := range map[string]*events.Trigger{
		"no client":  {Object: "Account"},
		"no object":  {Client: c},
		"injection":  {Client: c, Object: "Account WHERE Name != null"},
		"bad field":  {Client: c, Object: "Account", Fields: []string{"Name, (SELECT Id FROM Contacts)"}},
		"bad change": {Client: c, Object: "Account", ChangeTypes: []string{"UNDELETE"}},
		"no change":  {Client: c, Object: "Account", ChangeTypes: []string{}},
		"huge batch": {Client: c, Object: "Account", BatchSize: 5000},
	} {
		err := tr.Run(t.Context(), nil, events.ReplayNew, func(context.Context, events.Event) error { return nil })
		require.ErrorIs(t, err, errs.ErrConfig, name)
		assert.Empty(t, tr.Key(), name)
	}
	// A saved position that is not a trigger's is refused, not guessed at.
	tr := &events.Trigger{Client: c, Object: "Account"}
	err := tr.Run(t.Context(), []byte("12345"), events.ReplayNew, func(context.Context, events.Event) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a change trigger's position")
}

// A query Salesforce refuses (no such object) fails Run at once; retrying
// would fail the same way.
func TestTriggerUnknownObjectFailsAtOnce(t *testing.T) {
	_, c, _ := triggerOrg(t)
	tr := &events.Trigger{Client: c, Object: "NoSuchObject__c", Lag: time.Second, Interval: time.Millisecond}
	err := tr.Run(t.Context(), nil, events.ReplayAll, func(context.Context, events.Event) error { return nil })
	var api *client.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusBadRequest, api.StatusCode)
}

// Deleted records come from Get Deleted, which ignores seconds: they are
// delivered once the clock passes the minute of the delete (and Lag), in the
// order of their deletedDate and id, each once, and a restart from a DELETE's
// position delivers only those after it. ("sObject Get Deleted", REST API
// Developer Guide,
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getdeleted.htm)
func TestTriggerDeletes(t *testing.T) {
	org, c, clk := triggerOrg(t)
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "a"}, map[string]any{"Name": "b"}, map[string]any{"Name": "kept"})
	clk.Advance(10 * time.Second)
	tr := &events.Trigger{Client: c, Object: "Account", ChangeTypes: []string{"DELETE"}, Interval: 5 * time.Millisecond, Lag: time.Second}
	col := newCollector()
	stop := run(t, tr, clk.Now, nil, events.ReplayNew, col)
	require.NoError(t, c.Delete(t.Context(), "Account", ids[1]))
	clk.Advance(time.Second)
	require.NoError(t, c.Delete(t.Context(), "Account", ids[0]))
	clk.Advance(2 * time.Minute)
	evs := col.waitFor(t, 2)
	assert.Equal(t, []string{"DELETE " + ids[1], "DELETE " + ids[0]}, changes(evs), "in deletedDate order")
	require.ErrorIs(t, stop(), context.Canceled)
	for _, ev := range evs {
		assert.Equal(t, "trigger:Account:DELETE", ev.Channel)
		assert.JSONEq(t, `{"Id":"`+ev.Change.RecordIDs[0]+`"}`, string(ev.Data))
	}
	assert.True(t, evs[0].Time.Before(evs[1].Time))

	again := newCollector()
	stop = run(t, tr, clk.Now, evs[0].Position, events.ReplayNew, again)
	require.NoError(t, c.Delete(t.Context(), "Account", ids[2]))
	clk.Advance(2 * time.Minute)
	assert.Equal(t, []string{"DELETE " + ids[0], "DELETE " + ids[2]}, changes(again.waitFor(t, 2)),
		"after the first DELETE's position: the second, then the new one")
	require.ErrorIs(t, stop(), context.Canceled)
}

// A position older than the deleted records Get Deleted still has (its
// earliestDateAvailable; the resource answers for 15 days on its REST page)
// is ErrPositionGone, not a silent gap; ReplayAll starts at the earliest
// deletion still there instead.
func TestTriggerDeletedPositionGone(t *testing.T) {
	org, c, clk := triggerOrg(t)
	tr := &events.Trigger{Client: c, Object: "Account", Interval: 5 * time.Millisecond, Lag: time.Second}
	col := newCollector()
	stop := run(t, tr, clk.Now, nil, events.ReplayNew, col)
	clk.Advance(3 * time.Second)
	id := org.Data().Insert(t, "Account", map[string]any{"Name": "old"})[0]
	clk.Advance(2 * time.Minute)
	evs := col.waitFor(t, 1)
	require.ErrorIs(t, stop(), context.Canceled)
	assert.Equal(t, []string{"CREATE " + id}, changes(evs))

	clk.Advance(20 * 24 * time.Hour)
	err := tr.Run(t.Context(), evs[0].Position, events.ReplayNew, col.deliver)
	require.ErrorIs(t, err, events.ErrPositionGone)
	assert.Len(t, col.snapshot(), 1, "nothing delivered from a gone position")

	require.NoError(t, c.Delete(t.Context(), "Account", id))
	clk.Advance(2 * time.Minute)
	all := newCollector()
	stop = run(t, tr, clk.Now, nil, events.ReplayAll, all)
	assert.Equal(t, []string{"DELETE " + id}, changes(all.waitFor(t, 1)), "ReplayAll: the deletions still retained")
	require.ErrorIs(t, stop(), context.Canceled)
}
