package salesforcetest_test

import (
	"context"
	"encoding/json"
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

// collect listens to channel from the earliest retained event until the
// test ends; the function it returns waits for n events.
func collect(t *testing.T, c *client.Client, channel string) func(n int) []events.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	var got []events.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = (&events.Subscription{Source: &events.Streaming{Client: c, Channel: channel}, Start: events.ReplayAll}).Run(ctx,
			func(_ context.Context, ev events.Event) error {
				mu.Lock()
				got = append(got, ev)
				mu.Unlock()
				return nil
			})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func(n int) []events.Event {
		t.Helper()
		require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n }, 20*time.Second, 5*time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return append([]events.Event(nil), got...)
	}
}

type account struct {
	Name          string  `json:"Name"`
	AnnualRevenue float64 `json:"AnnualRevenue,omitempty"`
}

// The org's own writes, through REST and sObject Collections, become change
// events on /data/<Object>ChangeEvent and /data/ChangeEvents for the
// objects selected for Change Data Capture, with ChangeEventHeader's changed
// and nulled fields (Change Data Capture Developer Guide, "Change Event
// Message Structure",
// https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm);
// and they notify the PushTopics whose query they match, for the fields the
// topic references (Streaming API Developer Guide, "Event Notification
// Rules",
// https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/notifications.htm).
func TestStreamingChangesOfTheOrgsRecords(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	c := org.Client(t)
	ctx := t.Context()
	require.NoError(t, org.Setup().EnableChangeEvents("Account"))
	var res client.SaveResult
	require.NoError(t, c.Do(ctx, http.MethodPost, "/services/data/v"+salesforcetest.APIVersion+"/sobjects/PushTopic",
		map[string]any{"Name": "BigAccounts", "Query": "SELECT Id, Name, AnnualRevenue FROM Account WHERE AnnualRevenue > 1000"}, &res))
	require.True(t, res.Success)

	id, err := c.Create(ctx, "Account", map[string]any{"Name": "Acme", "AnnualRevenue": 5000, "Phone": "555"})
	require.NoError(t, err)
	require.NoError(t, c.Update(ctx, "Account", id, map[string]any{"Phone": nil}))
	require.NoError(t, c.Update(ctx, "Account", id, map[string]any{"AnnualRevenue": 2000}))
	_, err = c.Create(ctx, "Contact", map[string]any{"LastName": "Doe"}) // not selected: no change event
	require.NoError(t, err)
	saved, err := client.CreateRecords(ctx, c, "Account", []account{{Name: "Small", AnnualRevenue: 10}}, client.CollectionOptions{})
	require.NoError(t, err)
	require.True(t, saved[0].Success)
	require.NoError(t, c.Delete(ctx, "Account", id))

	accounts := collect(t, c, "/data/AccountChangeEvent")(5)
	var types []string
	for _, ev := range accounts {
		types = append(types, ev.Change.ChangeType)
		assert.Equal(t, "Account", ev.Change.EntityName)
	}
	assert.Equal(t, []string{"CREATE", "UPDATE", "UPDATE", "CREATE", "DELETE"}, types)
	assert.Equal(t, []string{"Phone"}, accounts[1].Change.NulledFields)
	assert.Contains(t, accounts[1].Change.ChangedFields, "Phone")
	assert.Contains(t, accounts[1].Change.ChangedFields, "LastModifiedDate")
	assert.Equal(t, []string{id}, accounts[1].Change.RecordIDs)
	assert.NotEmpty(t, accounts[1].Change.TransactionKey)
	assert.NotEqual(t, accounts[0].Change.TransactionKey, accounts[1].Change.TransactionKey)
	var created map[string]any
	require.NoError(t, json.Unmarshal(accounts[0].Data, &created))
	assert.Equal(t, "Acme", created["Name"])

	all := collect(t, c, "/data/ChangeEvents")(5)
	assert.Len(t, all, 5, "the Contact is not selected")

	topic := collect(t, c, "/topic/BigAccounts")(3)
	require.Len(t, topic, 3, "the create, the update of a referenced field and the delete; not the Phone update, not the small account")
	assert.Equal(t, "CREATE", topic[0].Change.ChangeType)
	assert.Equal(t, "UPDATE", topic[1].Change.ChangeType)
	assert.Equal(t, "DELETE", topic[2].Change.ChangeType)
	assert.JSONEq(t, `{"Id":"`+id+`","Name":"Acme","AnnualRevenue":2000}`, string(topic[1].Data))

	// A channel of an object not selected does not exist.
	err = (&events.Subscription{Source: &events.Streaming{Client: c, Channel: "/data/ContactChangeEvent"}}).Run(ctx,
		func(context.Context, events.Event) error { return nil })
	var serr *events.StreamingError
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, 400, serr.Code)
}
