package soqlengine

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Record is one row of a result. It keeps its fields in SELECT order and
// marshals to JSON as the REST API does:
//
//	{"attributes":{"type":"Contact","url":"/services/data/v65.0/sobjects/Contact/003..."},
//	 "Id":"003...","Account":{"attributes":{...},"Name":"Acme"},"Cases":null}
type Record struct {
	// Type is attributes.type: the sObject name, or "AggregateResult".
	Type string
	// URL is attributes.url; empty leaves it out (aggregate rows).
	URL string
	// Fields are the selected values in SELECT order.
	Fields []Value
}

// Value is one selected item of a Record.
type Value struct {
	// Name is the JSON key: the canonical field name, the relationship name
	// of a parent or child, or exprN / an alias for an aggregate.
	Name string
	// Value is string, float64, bool or nil for a field; *Record for a
	// parent reached through a relationship (nil when the reference is
	// empty); *Result for a child subquery (nil when it found no rows, as
	// Salesforce returns null then).
	Value any
}

// Get returns the value stored under name (case-insensitive).
func (r Record) Get(name string) (any, bool) {
	for _, f := range r.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the record with "attributes" first and the fields in
// SELECT order.
func (r Record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"attributes":{"type":`)
	if err := writeJSON(&b, r.Type); err != nil {
		return nil, err
	}
	if r.URL != "" {
		b.WriteString(`,"url":`)
		if err := writeJSON(&b, r.URL); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	for _, f := range r.Fields {
		b.WriteByte(',')
		if err := writeJSON(&b, f.Name); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := writeJSON(&b, f.Value); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalJSON writes the result as one complete page of the query resource:
// {"totalSize":n,"done":true,"records":[...]}. The org pages large results
// itself (nextRecordsUrl) and writes its own envelope then.
func (res Result) MarshalJSON() ([]byte, error) {
	records := res.Records
	if records == nil {
		records = []Record{}
	}
	return json.Marshal(struct {
		TotalSize int      `json:"totalSize"`
		Done      bool     `json:"done"`
		Records   []Record `json:"records"`
	}{res.TotalSize, true, records})
}

func writeJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case *Record:
		if v == nil {
			b.WriteString("null")
			return nil
		}
	case *Result:
		if v == nil {
			b.WriteString("null")
			return nil
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}
