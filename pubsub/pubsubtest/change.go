package pubsubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
)

// Change events come from the org's own record changes: the fake listens to
// the org's Streaming API channel /data/ChangeEvents (the org's one change
// feed, which its CometD serves) and re-encodes each event in Avro, as
// Salesforce delivers the same change on both APIs ("Differences Between
// Change Events Received with Streaming API vs. Pub/Sub API",
// https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/cdc_event_diff_pubsub_cometd.htm):
// every record field is present (null when unchanged), dates are epoch
// milliseconds, and changedFields/nulledFields are bitmaps over the schema's
// field positions.

// changeSchema is the Avro schema of one object's change events.
type changeSchema struct {
	id     string
	schema *avro.RecordSchema
	types  map[string]string // field → describe type
}

// EnableChangeEvents selects objects for Change Data Capture in the org
// (Setup().EnableChangeEvents) and serves their change events on
// /data/<Object>ChangeEvent (/data/<Name>__ChangeEvent for a custom object)
// and /data/ChangeEvents.
func (s *Server) EnableChangeEvents(ctx context.Context, objects ...string) error {
	if err := s.org.Setup().EnableChangeEvents(objects...); err != nil {
		return err
	}
	for _, obj := range objects {
		d, err := s.sf.Describe(ctx, obj)
		if err != nil {
			return err
		}
		cs, js, err := buildChangeSchema(d.Name, d.Fields)
		if err != nil {
			return err
		}
		s.mu.Lock()
		cs.id = s.addTopicLocked(changeTopic(d.Name), js)
		s.changeSchemas[d.Name] = cs
		if _, ok := s.topics["/data/ChangeEvents"]; !ok {
			s.topics["/data/ChangeEvents"] = &topic{name: "/data/ChangeEvents", schemaID: cs.id}
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.feeding {
		s.feeding = true
		fctx, cancel := context.WithCancel(context.Background())
		s.feed, s.feedDone = cancel, make(chan struct{})
		sub := &events.Subscription{Source: &events.Streaming{Client: s.sf, Channel: "/data/ChangeEvents"}, Start: events.ReplayAll,
			LeaseTTL: time.Minute}
		go func() {
			defer close(s.feedDone)
			_ = sub.Run(fctx, s.onChange)
		}()
	}
	return nil
}

func changeTopic(object string) string {
	if name, ok := strings.CutSuffix(object, "__c"); ok {
		return "/data/" + name + "__ChangeEvent"
	}
	return "/data/" + object + "ChangeEvent"
}

func avroType(describe string) string {
	switch describe {
	case "boolean":
		return "boolean"
	case "int":
		return "int"
	case "double", "currency", "percent":
		return "double"
	case "date", "datetime":
		return "long"
	}
	return "string"
}

func buildChangeSchema(object string, fields []client.DescribeField) (*changeSchema, string, error) {
	arr := map[string]any{"type": "array", "items": "string"}
	header := map[string]any{"type": "record", "name": "ChangeEventHeader", "fields": []any{
		map[string]any{"name": "entityName", "type": "string"}, map[string]any{"name": "recordIds", "type": arr},
		map[string]any{"name": "changeType", "type": "string"}, map[string]any{"name": "changeOrigin", "type": "string"},
		map[string]any{"name": "transactionKey", "type": "string"}, map[string]any{"name": "sequenceNumber", "type": "int"},
		map[string]any{"name": "commitTimestamp", "type": "long"}, map[string]any{"name": "commitNumber", "type": "long"},
		map[string]any{"name": "commitUser", "type": "string"}, map[string]any{"name": "nulledFields", "type": arr},
		map[string]any{"name": "diffFields", "type": arr}, map[string]any{"name": "changedFields", "type": arr},
	}}
	fs := []any{map[string]any{"name": "ChangeEventHeader", "type": header}}
	types := map[string]string{}
	for _, f := range fields {
		if f.Name == "Id" || f.Type == "address" || f.Type == "location" || f.Type == "base64" {
			continue
		}
		types[f.Name] = f.Type
		fs = append(fs, map[string]any{"name": f.Name, "type": []any{"null", avroType(f.Type)}, "default": nil})
	}
	name := strings.TrimSuffix(object, "__c")
	if name != object {
		name += "__ChangeEvent"
	} else {
		name += "ChangeEvent"
	}
	js, err := json.Marshal(map[string]any{"type": "record", "name": name, "namespace": "com.sforce.eventbus", "fields": fs})
	if err != nil {
		return nil, "", err
	}
	sch, err := avro.Parse(string(js))
	if err != nil {
		return nil, "", fmt.Errorf("pubsubtest: the change schema of %s: %w", object, err)
	}
	return &changeSchema{schema: sch.(*avro.RecordSchema), types: types}, string(js), nil
}

// onChange re-encodes one change event from the org's CometD in Avro and
// stores it on its object's topic and on /data/ChangeEvents.
func (s *Server) onChange(_ context.Context, ev events.Event) error {
	if ev.Change == nil {
		return nil
	}
	s.mu.Lock()
	cs := s.changeSchemas[ev.Change.EntityName]
	s.mu.Unlock()
	if cs == nil {
		return nil // an object selected in the org, but not through this server
	}
	var data map[string]any
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return nil
	}
	h := ev.Change
	rec := map[string]any{"ChangeEventHeader": map[string]any{
		"entityName": h.EntityName, "recordIds": nonNil(h.RecordIDs), "changeType": h.ChangeType, "changeOrigin": h.ChangeOrigin,
		"transactionKey": h.TransactionKey, "sequenceNumber": h.SequenceNumber, "commitTimestamp": h.CommitTimestamp,
		"commitNumber": h.CommitNumber, "commitUser": h.CommitUser,
		"changedFields": bitmap(cs.schema, h.ChangedFields), "diffFields": []string{}, "nulledFields": bitmap(cs.schema, h.NulledFields),
	}}
	for _, f := range cs.schema.Fields()[1:] {
		rec[f.Name()] = convert(data[f.Name()], cs.types[f.Name()])
	}
	payload, err := avro.Marshal(cs.schema, rec)
	if err != nil {
		return nil // a value the fake cannot encode: the event is not served
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pe := &pb.ProducerEvent{Id: fmt.Sprint(ev.ReplayID), SchemaId: cs.id, Payload: payload}
	for _, name := range []string{changeTopic(h.EntityName), "/data/ChangeEvents"} {
		if t, ok := s.topics[name]; ok {
			s.storeLocked(t, pe)
		}
	}
	return nil
}

func nonNil(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}

// bitmap encodes field names as a Pub/Sub bitmap: "0x…", bit i for the
// field at position i.
func bitmap(rec *avro.RecordSchema, names []string) []string {
	if len(names) == 0 {
		return []string{}
	}
	var n big.Int
	for i, f := range rec.Fields() {
		if slices.Contains(names, f.Name()) {
			n.SetBit(&n, i, 1)
		}
	}
	if n.BitLen() == 0 {
		return []string{}
	}
	return []string{"0x" + strings.ToUpper(n.Text(16))}
}

// convert turns a CometD JSON value into the Avro field's value.
func convert(v any, typ string) any {
	if v == nil {
		return nil
	}
	switch avroType(typ) {
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil
		}
		return b
	case "int":
		f, ok := v.(float64)
		if !ok {
			return nil
		}
		return int(f)
	case "double":
		f, ok := v.(float64)
		if !ok {
			return nil
		}
		return f
	case "long":
		str, ok := v.(string)
		if !ok {
			return nil
		}
		for _, layout := range []string{"2006-01-02T15:04:05.000Z0700", time.RFC3339Nano, "2006-01-02"} {
			if t, err := time.Parse(layout, str); err == nil {
				return t.UnixMilli()
			}
		}
		return nil
	}
	switch x := v.(type) {
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
