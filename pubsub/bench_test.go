package pubsub

import (
	"testing"

	"github.com/hamba/avro/v2"
)

// BenchmarkDecode compares the subscriber's decoding of a change event (Avro
// to a map, the header's bitmaps to names, the record to JSON) with
// hamba/avro's plain decoding of the same payload into a map, the floor any
// decoding pays. Figures in README.md.
func BenchmarkDecode(b *testing.B) {
	schema := avro.MustParse(contactChange)
	payload, err := avro.Marshal(schema, map[string]any{"ChangeEventHeader": map[string]any{
		"entityName": "Contact", "recordIds": []string{"003000000000001AAA"}, "changeType": "UPDATE",
		"changeOrigin": "com/salesforce/api/rest/62.0", "transactionKey": "0002b0e2-5d3b-4e0f-a4b1-2b8c9f1e9d11",
		"sequenceNumber": 1, "commitTimestamp": int64(1733530000000), "commitNumber": int64(11712345678),
		"commitUser": "005000000000001AAA", "nulledFields": []string{"0x08"}, "diffFields": []string{},
		"changedFields": []string{"0x1C", "1-0x02"}},
		"Name":  map[string]any{"Switchable_PersonName": map[string]any{"Salutation": nil, "FirstName": "Ada", "LastName": "Lovelace"}},
		"Email": "ada@example.com", "Phone": nil, "LastModifiedDate": int64(1733530000000)})
	if err != nil {
		b.Fatal(err)
	}
	replay := []byte{0, 0, 0, 0, 0, 0, 0, 1}
	b.Run("hamba-plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := avro.Unmarshal(schema, payload, &m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("subscriber", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeEvent("/data/ContactChangeEvent", schema, payload, replay); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
