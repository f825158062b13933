package pubsub

import (
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const contactChange = `{"type":"record","name":"ContactChangeEvent","fields":[
{"name":"ChangeEventHeader","type":{"type":"record","name":"ChangeEventHeader","fields":[
 {"name":"entityName","type":"string"},{"name":"recordIds","type":{"type":"array","items":"string"}},
 {"name":"changeType","type":"string"},{"name":"changeOrigin","type":"string"},{"name":"transactionKey","type":"string"},
 {"name":"sequenceNumber","type":"int"},{"name":"commitTimestamp","type":"long"},{"name":"commitNumber","type":"long"},
 {"name":"commitUser","type":"string"},{"name":"nulledFields","type":{"type":"array","items":"string"}},
 {"name":"diffFields","type":{"type":"array","items":"string"}},{"name":"changedFields","type":{"type":"array","items":"string"}}]}},
{"name":"Name","type":["null",{"type":"record","name":"Switchable_PersonName","fields":[
 {"name":"Salutation","type":["null","string"],"default":null},{"name":"FirstName","type":["null","string"],"default":null},
 {"name":"LastName","type":["null","string"],"default":null}]}],"default":null},
{"name":"Email","type":["null","string"],"default":null},
{"name":"Phone","type":["null","string"],"default":null},
{"name":"LastModifiedDate","type":["null","long"],"default":null}]}`

// The bitmap format of "Event Deserialization Considerations"
// (https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html):
// "0x…" over the top-level fields, bit i for position i; "<pos>-0x…" over
// the fields of the compound field at pos.
func TestBitmapFields(t *testing.T) {
	rec := avro.MustParse(contactChange).(*avro.RecordSchema)
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{nil, []string{}},
		{[]string{"0x14"}, []string{"Email", "LastModifiedDate"}}, // bits 2 and 4
		{[]string{"0x02", "1-0x06"}, []string{"Name", "Name.FirstName", "Name.LastName"}},
		{[]string{"0x0008"}, []string{"Phone"}},
	} {
		got, err := BitmapFields(rec, tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range [][]string{{"0x"}, {"0xZZ"}, {"0x40"}, {"9-0x1"}, {"2-0x1"}, {"x-0x1"}, {"1-0x10"}, {"1-nothex"}} {
		_, err := BitmapFields(rec, bad)
		assert.Error(t, err, bad)
	}
}

// Untrusted payloads and bitmaps never panic.
func FuzzDecodeEvent(f *testing.F) {
	schema := avro.MustParse(contactChange)
	good, err := avro.Marshal(schema, map[string]any{"ChangeEventHeader": map[string]any{
		"entityName": "Contact", "recordIds": []string{"003"}, "changeType": "UPDATE", "changeOrigin": "", "transactionKey": "t",
		"sequenceNumber": 1, "commitTimestamp": int64(1), "commitNumber": int64(1), "commitUser": "005",
		"nulledFields": []string{"0x04"}, "diffFields": []string{}, "changedFields": []string{"0x06", "1-0x02"}},
		"Name": map[string]any{"Switchable_PersonName": map[string]any{"Salutation": nil, "FirstName": "Ada", "LastName": nil}}, "Email": nil, "Phone": "1", "LastModifiedDate": int64(5)})
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte{})
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 1<<16 {
			return
		}
		ev, err := decodeEvent("/data/ContactChangeEvent", schema, payload, []byte{1})
		if err == nil && ev.Change == nil {
			t.Fatal("a decoded change event without its header")
		}
	})
}
