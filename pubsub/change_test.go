package pubsub_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub"
)

// Change events come from the org's own record changes (any API), with the
// ChangeEventHeader's bitmap fields decoded to field names ("Event
// Deserialization Considerations",
// https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html).
func TestChangeEventsFromOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.srv.EnableChangeEvents(t.Context(), "Account"))
	c := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: "/data/AccountChangeEvent"}, Start: events.ReplayAll}, nil)
	id, err := e.sf.Create(t.Context(), "Account", map[string]any{"Name": "Acme", "Industry": "Energy"})
	require.NoError(t, err)
	require.NoError(t, e.sf.Update(t.Context(), "Account", id, map[string]any{"Industry": nil, "Name": "Acme 2"}))
	evs := c.wait(t, 2)

	create := evs[0]
	require.NotNil(t, create.Change)
	assert.Equal(t, "CREATE", create.Change.ChangeType)
	assert.Equal(t, "Account", create.Change.EntityName)
	assert.Equal(t, []string{id}, create.Change.RecordIDs)
	assert.WithinDuration(t, time.Now(), create.Time, time.Minute)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(create.Data, &rec))
	assert.Equal(t, "Acme", rec["Name"])
	assert.Contains(t, rec, "ChangeEventHeader")

	update := evs[1]
	assert.Equal(t, "UPDATE", update.Change.ChangeType)
	assert.ElementsMatch(t, []string{"Industry", "Name", "LastModifiedDate"}, update.Change.ChangedFields)
	assert.Equal(t, []string{"Industry"}, update.Change.NulledFields)
	assert.Empty(t, update.Change.DiffFields)
	require.NoError(t, json.Unmarshal(update.Data, &rec))
	assert.Equal(t, "Acme 2", rec["Name"])
	// Data shows names, not bitmaps.
	assert.Contains(t, string(update.Data), `"nulledFields":["Industry"]`)

	// The same changes on /data/ChangeEvents.
	all := run(t, &events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: "/data/ChangeEvents"}, Start: events.ReplayAll}, nil)
	assert.Len(t, all.wait(t, 2), 2)
}
