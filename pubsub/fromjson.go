package pubsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hamba/avro/v2"
)

// fromJSON turns a JSON object into the values hamba/avro encodes under
// schema: numbers to the field's int, long, float or double, unions to their
// first branch that takes the value. A platform event's CreatedDate and
// CreatedById, which Salesforce sets itself on publish but the schema
// requires, default to now and "" when absent ("Publish an Event Message",
// Pub/Sub API Developer Guide: the publisher supplies them, Salesforce
// overwrites them).
func fromJSON(schema avro.Schema, raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("pubsub: the event is not JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("pubsub: the event is not a JSON object")
	}
	if rec, ok := schema.(*avro.RecordSchema); ok {
		for _, f := range rec.Fields() {
			if _, set := m[f.Name()]; set {
				continue
			}
			switch f.Name() {
			case "CreatedDate":
				m[f.Name()] = json.Number(fmt.Sprint(time.Now().UnixMilli()))
			case "CreatedById":
				m[f.Name()] = ""
			}
		}
	}
	return convertJSON(schema, m, "")
}

func convertJSON(s avro.Schema, v any, path string) (any, error) {
	bad := func() (any, error) {
		return nil, fmt.Errorf("pubsub: field %s: %v does not fit %s", path, v, s.Type())
	}
	switch t := s.(type) {
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		out := make(map[string]any, len(t.Fields()))
		for _, f := range t.Fields() {
			fv, set := m[f.Name()]
			if !set && f.HasDefault() {
				out[f.Name()] = f.Default()
				continue
			}
			c, err := convertJSON(f.Type(), fv, path+"."+f.Name())
			if err != nil {
				return nil, err
			}
			out[f.Name()] = c
		}
		for k := range m {
			if t.Fields() != nil && !hasField(t, k) {
				return nil, fmt.Errorf("pubsub: field %s.%s is not in the schema", path, k)
			}
		}
		return out, nil
	case *avro.UnionSchema:
		if v == nil {
			if t.Nullable() {
				return nil, nil
			}
			return bad()
		}
		for _, u := range t.Types() {
			if u.Type() == avro.Null {
				continue
			}
			if c, err := convertJSON(u, v, path); err == nil {
				if r, ok := u.(*avro.RecordSchema); ok {
					return map[string]any{r.FullName(): c}, nil
				}
				return c, nil
			}
		}
		return bad()
	case *avro.ArraySchema:
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(a))
		for i, x := range a {
			c, err := convertJSON(t.Items(), x, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case *avro.PrimitiveSchema:
		switch t.Type() {
		case avro.String:
			if s, ok := v.(string); ok {
				return s, nil
			}
		case avro.Boolean:
			if b, ok := v.(bool); ok {
				return b, nil
			}
		case avro.Int:
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil && i == int64(int32(i)) {
					return int(i), nil
				}
			}
		case avro.Long:
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil {
					return i, nil
				}
			}
		case avro.Float, avro.Double:
			if n, ok := v.(json.Number); ok {
				if f, err := n.Float64(); err == nil {
					if t.Type() == avro.Float {
						return float32(f), nil
					}
					return f, nil
				}
			}
		case avro.Null:
			if v == nil {
				return nil, nil
			}
		}
	}
	return bad()
}

func hasField(r *avro.RecordSchema, name string) bool {
	for _, f := range r.Fields() {
		if f.Name() == name {
			return true
		}
	}
	return false
}
