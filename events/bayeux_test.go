package events

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Answers in the shapes the Streaming API Developer Guide shows: "Message
// Durability" (generic and PushTopic events), "Handling Streaming API
// Errors" (401 on connect, 403 on handshake), and a change event with its
// ChangeEventHeader (Change Data Capture Developer Guide, "Change Event
// Message Structure").
var bayeuxSeeds = []string{
	`[{"clientId":"a1ps4wpe52qytvcvbsko09tapc","data":{"event":{"createdDate":"2016-03-29T19:05:28.334Z","replayId":55},"payload":"This is a message."},"channel":"/u/TestStreaming"}]`,
	`[{"clientId":"2t80j2hcog29sdh9ihjd9643a","data":{"event":{"createdDate":"2016-03-29T16:40:08.208Z","replayId":13,"type":"created"},"sobject":{"Website":null,"Id":"001D000000KnaXjIAJ","Name":"TicTacToe"}},"channel":"/topic/TestAccountStreaming"}]`,
	`[{"clientId":"1q1ib66fvm7kli1gfoauu95i78g","advice":{"reconnect":"none","interval":0},"channel":"/meta/connect","id":7,"error":"401::Authentication invalid","successful":false}]`,
	`{"ext":{"sfdc":{"failureReason":"401::Authentication invalid"}},"advice":{"reconnect":"none"},"channel":"/meta/handshake","error":"403::Handshake denied","successful":false}`,
	`[{"data":{"schema":"IeRuaY6cbI_HsV8Rv1Mc5g","payload":{"ChangeEventHeader":{"entityName":"Account","recordIds":["001xx000003DGb2AAG"],"changeType":"UPDATE","changeOrigin":"com/salesforce/api/rest/65.0","transactionKey":"0002343d-9d90-e395-ed20-cf416ba652ad","sequenceNumber":1,"commitTimestamp":1501010206653,"commitNumber":92847272780,"commitUser":"005xx000001SyD7AAK","changedFields":["Name","LastModifiedDate"],"diffFields":[],"nulledFields":["Phone"]},"Name":"Acme","LastModifiedDate":"2017-07-25T19:16:46.000Z"},"event":{"replayId":6}},"channel":"/data/AccountChangeEvent"}]`,
	`[]`, `{}`, `[{"channel":"/meta/connect","successful":true,"advice":{"timeout":110000,"interval":0,"reconnect":"retry"}}]`,
}

func TestParseExamplesFromTheGuide(t *testing.T) {
	ms, err := parseMessages([]byte(bayeuxSeeds[4]))
	require.NoError(t, err)
	ev, err := parseEvent(ms[0].Channel, ms[0].Data)
	require.NoError(t, err)
	assert.Equal(t, int64(6), ev.ReplayID)
	require.NotNil(t, ev.Change)
	assert.Equal(t, "UPDATE", ev.Change.ChangeType)
	assert.Equal(t, []string{"Name", "LastModifiedDate"}, ev.Change.ChangedFields)
	assert.Equal(t, []string{"Phone"}, ev.Change.NulledFields)
	assert.Equal(t, int64(1501010206653), ev.Time.UnixMilli())

	ms, err = parseMessages([]byte(bayeuxSeeds[1]))
	require.NoError(t, err)
	ev, err = parseEvent(ms[0].Channel, ms[0].Data)
	require.NoError(t, err)
	assert.Equal(t, &ChangeHeader{ChangeType: "CREATE", RecordIDs: []string{"001D000000KnaXjIAJ"}}, ev.Change)
	assert.JSONEq(t, `{"Website":null,"Id":"001D000000KnaXjIAJ","Name":"TicTacToe"}`, string(ev.Data))

	ms, err = parseMessages([]byte(bayeuxSeeds[3]))
	require.NoError(t, err)
	code, msg := bayeuxCode(ms[0].Error)
	assert.Equal(t, 403, code)
	assert.Equal(t, "Handshake denied", msg)
	assert.Equal(t, 401, handshakeFailure(ms[0].Ext))

	for field, want := range map[string]int{"403::Unknown client": 403, "400::The replayId {5} you provided was invalid.": 400,
		"": 0, "4000::x": 0, "abc::x": 0, "403": 0, "099::x": 0} {
		code, _ := bayeuxCode(field)
		assert.Equal(t, want, code, field)
	}
}

// FuzzParseAnswer: no answer from the server makes the parsers panic, and
// an event they accept always has a position naming its replay id.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range bayeuxSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ms, err := parseMessages(body)
		if err != nil {
			return
		}
		for _, m := range ms {
			bayeuxCode(m.Error)
			handshakeFailure(m.Ext)
			for _, ch := range []string{m.Channel, "/data/X", "/topic/X", "/event/X", "/u/X"} {
				ev, err := parseEvent(ch, m.Data)
				if err == nil && string(ev.Position) == "" {
					t.Fatalf("an event without a position: %+v", ev)
				}
			}
		}
	})
}

// An answer past the bound is refused whole, never half-read into memory.
func TestParseAnswerBound(t *testing.T) {
	big := make([]byte, maxAnswer+1)
	for i := range big {
		big[i] = ' '
	}
	big[0], big[len(big)-1] = '[', ']'
	_, err := parseMessages(big)
	require.ErrorIs(t, err, errAnswerTooLarge)
}
