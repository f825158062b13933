package salesforcetest

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
)

// collect listens to channel from the earliest retained event until the
// test ends.
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

// The change feed's writes become change events on /data/<Object>ChangeEvent
// and /data/ChangeEvents, with ChangeEventHeader's changed and nulled
// fields (Change Data Capture Developer Guide, "Change Event Message
// Structure",
// https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm),
// and notify the PushTopics whose query they match, for the fields the topic
// references (Streaming API Developer Guide, "Event Notification Rules",
// https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/notifications.htm).
func TestStreamingChangeFeed(t *testing.T) {
	org := NewOrg(t, Config{})
	c := org.Client(t)
	var res client.SaveResult
	require.NoError(t, c.Do(t.Context(), http.MethodPost, "/services/data/v"+APIVersion+"/sobjects/PushTopic",
		map[string]any{"Name": "BigAccounts", "Query": "SELECT Id, Name, AnnualRevenue FROM Account WHERE AnnualRevenue > 1000"}, &res))
	require.True(t, res.Success)

	acme := map[string]any{"Id": "001000000000001AAA", "Name": "Acme", "AnnualRevenue": 5000.0, "Phone": "555"}
	org.streamChange(recordChange{Object: "Account", ID: "001000000000001AAA", Type: "CREATE", Record: acme, Txn: "t1", Seq: 1})
	acme["Phone"] = nil
	org.streamChange(recordChange{Object: "Account", ID: "001000000000001AAA", Type: "UPDATE", Record: acme, Changed: []string{"Phone"}, Txn: "t2", Seq: 1})
	acme["AnnualRevenue"] = 2000.0
	org.streamChange(recordChange{Object: "Account", ID: "001000000000001AAA", Type: "UPDATE", Record: acme, Changed: []string{"AnnualRevenue"}, Txn: "t3", Seq: 1})
	org.streamChange(recordChange{Object: "Contact", ID: "003000000000001AAA", Type: "CREATE",
		Record: map[string]any{"Id": "003000000000001AAA", "LastName": "Doe"}, Txn: "t4", Seq: 1})
	org.streamChange(recordChange{Object: "Account", ID: "001000000000002AAA", Type: "CREATE",
		Record: map[string]any{"Id": "001000000000002AAA", "Name": "Small", "AnnualRevenue": 10.0}, Txn: "t5", Seq: 1})
	org.streamChange(recordChange{Object: "Account", ID: "001000000000001AAA", Type: "DELETE", Record: acme, Txn: "t6", Seq: 1})

	accounts := collect(t, c, "/data/AccountChangeEvent")(5)
	var types []string
	for _, ev := range accounts {
		types = append(types, ev.Change.ChangeType)
		assert.Equal(t, "Account", ev.Change.EntityName)
	}
	assert.Equal(t, []string{"CREATE", "UPDATE", "UPDATE", "CREATE", "DELETE"}, types)
	assert.Equal(t, []string{"Phone"}, accounts[1].Change.NulledFields)
	assert.Contains(t, accounts[1].Change.ChangedFields, "Phone")
	assert.Equal(t, []string{"001000000000001AAA"}, accounts[1].Change.RecordIDs)
	assert.Equal(t, "t2", accounts[1].Change.TransactionKey)
	assert.JSONEq(t, `5000`, string(jsonField(t, accounts[0].Data, "AnnualRevenue")))

	all := collect(t, c, "/data/ChangeEvents")(6)
	assert.Equal(t, "Contact", all[3].Change.EntityName)

	topic := collect(t, c, "/topic/BigAccounts")(3)
	require.Len(t, topic, 3, "the create, the update of a referenced field and the delete; not the Phone update, not the small account")
	assert.Equal(t, "CREATE", topic[0].Change.ChangeType)
	assert.Equal(t, "UPDATE", topic[1].Change.ChangeType)
	assert.Equal(t, "DELETE", topic[2].Change.ChangeType)
	assert.JSONEq(t, `{"Id":"001000000000001AAA","Name":"Acme","AnnualRevenue":2000}`, string(topic[1].Data))
}

func jsonField(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &m))
	return m[name]
}
