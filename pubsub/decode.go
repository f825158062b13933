package pubsub

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sfmtls/sfmtls/events"
)

// decodeConfig bounds what a payload can make the decoder allocate: an
// event is at most 1 MB, so no string or array in it is longer.
var decodeConfig = avro.Config{MaxByteSliceSize: 1 << 20, MaxSliceAllocSize: 1 << 20}.Freeze()

// decodeEvent decodes an Avro payload under schema into an events.Event:
// Data is the record as JSON; a change event (a record with a
// ChangeEventHeader field) gets Change, its bitmap fields turned into field
// names.
func decodeEvent(topic string, schema avro.Schema, payload, replayID []byte) (events.Event, error) {
	// avro.Unmarshal takes a payload cut short for a whole one (it ignores
	// io.EOF), and ignores bytes past the record: a Reader reports both.
	var m map[string]any
	r := avro.NewReader(nil, 0, avro.WithReaderConfig(decodeConfig)).Reset(payload)
	r.ReadVal(schema, &m)
	if r.Error != nil {
		return events.Event{}, fmt.Errorf("the payload is cut short or malformed: %w", r.Error)
	}
	if r.Peek(); r.Error == nil {
		return events.Event{}, errors.New("the payload has bytes past the record")
	}
	ev := events.Event{Channel: topic, Position: replayID}
	rec, _ := schema.(*avro.RecordSchema)
	if h, ok := m["ChangeEventHeader"].(map[string]any); ok && rec != nil {
		ch, err := changeHeader(rec, h)
		if err != nil {
			return events.Event{}, err
		}
		// Data shows the field names, as the Streaming API does, not the bitmaps.
		h["changedFields"], h["diffFields"], h["nulledFields"] = ch.ChangedFields, ch.DiffFields, ch.NulledFields
		ev.Change = ch
		ev.Time = time.UnixMilli(ch.CommitTimestamp).UTC()
	} else if ms, ok := m["CreatedDate"].(int64); ok {
		ev.Time = time.UnixMilli(ms).UTC()
	}
	data, err := json.Marshal(m)
	if err != nil {
		return events.Event{}, err
	}
	ev.Data = data
	return ev, nil
}

func changeHeader(rec *avro.RecordSchema, h map[string]any) (*events.ChangeHeader, error) {
	ch := &events.ChangeHeader{
		EntityName: str(h["entityName"]), ChangeType: str(h["changeType"]), ChangeOrigin: str(h["changeOrigin"]),
		TransactionKey: str(h["transactionKey"]), CommitUser: str(h["commitUser"]),
		SequenceNumber: int(num(h["sequenceNumber"])), CommitTimestamp: num(h["commitTimestamp"]), CommitNumber: num(h["commitNumber"]),
		RecordIDs: strs(h["recordIds"]),
	}
	var err error
	if ch.ChangedFields, err = BitmapFields(rec, strs(h["changedFields"])); err != nil {
		return nil, err
	}
	if ch.DiffFields, err = BitmapFields(rec, strs(h["diffFields"])); err != nil {
		return nil, err
	}
	if ch.NulledFields, err = BitmapFields(rec, strs(h["nulledFields"])); err != nil {
		return nil, err
	}
	return ch, nil
}

// BitmapFields turns a change event's bitmap field (changedFields,
// diffFields or nulledFields as the Pub/Sub API sends them) into field
// names. The first element, "0x…", is a bitmap over the fields of rec: bit
// i (counting from the least significant) set means the field at position
// i. Further elements, "<pos>-0x…", are bitmaps over the fields of the
// compound field at position pos (such as Name), named "Name.FirstName"
// ("Event Deserialization Considerations",
// https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html).
func BitmapFields(rec *avro.RecordSchema, bitmaps []string) ([]string, error) {
	names := []string{}
	for _, b := range bitmaps {
		if hex, ok := strings.CutPrefix(b, "0x"); ok {
			got, err := bitNames(rec, hex, "")
			if err != nil {
				return nil, err
			}
			names = append(names, got...)
			continue
		}
		pos, hex, ok := strings.Cut(b, "-")
		hex, ok2 := strings.CutPrefix(hex, "0x")
		i, err := strconv.Atoi(pos)
		fields := rec.Fields()
		if !ok || !ok2 || err != nil || i < 0 || i >= len(fields) {
			return nil, fmt.Errorf("pubsub: bitmap %q is neither 0x… nor <position>-0x…", b)
		}
		inner := recordOf(fields[i].Type())
		if inner == nil {
			return nil, fmt.Errorf("pubsub: bitmap %q names field %s, which is not compound", b, fields[i].Name())
		}
		got, err := bitNames(inner, hex, fields[i].Name()+".")
		if err != nil {
			return nil, err
		}
		names = append(names, got...)
	}
	return names, nil
}

// maxBitmapDigits bounds a bitmap's length: one bit per field, and an object
// has at most a few thousand fields.
const maxBitmapDigits = 4096

func bitNames(rec *avro.RecordSchema, hex, prefix string) ([]string, error) {
	if hex == "" || len(hex) > maxBitmapDigits {
		return nil, fmt.Errorf("pubsub: bitmap 0x%.16s is empty or too long", hex)
	}
	fields := rec.Fields()
	var names []string
	// The last digit holds fields 0-3, the one before 4-7, and so on: the
	// names come out in the schema's order.
	for i := len(hex) - 1; i >= 0; i-- {
		d, ok := hexDigit(hex[i])
		if !ok {
			return nil, fmt.Errorf("pubsub: bitmap 0x%.16s is not hexadecimal", hex)
		}
		for bit := range 4 {
			if d&(1<<bit) == 0 {
				continue
			}
			pos := (len(hex)-1-i)*4 + bit
			if pos >= len(fields) {
				return nil, errors.New("pubsub: a bitmap names a field position past the schema's fields")
			}
			names = append(names, prefix+fields[pos].Name())
		}
	}
	return names, nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// recordOf returns the record of a field's type: the record itself, or the
// record in an optional union.
func recordOf(s avro.Schema) *avro.RecordSchema {
	switch t := s.(type) {
	case *avro.RecordSchema:
		return t
	case *avro.UnionSchema:
		for _, u := range t.Types() {
			if r, ok := u.(*avro.RecordSchema); ok {
				return r
			}
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	}
	return 0
}

func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
