package client

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzAppendRecord: whatever object a record marshals to, the body holds it
// as valid JSON with the same fields, the attributes map added unless it has
// its own, and a create's empty Id (any case, "" or null) left out.
func FuzzAppendRecord(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"Name":"a"}`, `{"Id":"","Name":"a"}`, `{"Name":"a","id":null}`, `{"ID":"001"}`,
		`{"attributes":{"type":"X"},"Id":""}`, `{"a":[1,{"Id":""}],"Id":"","b":"\"}"}`,
		`{"\u0049d":""}`, `{"Id":"","ID":""}`, `{"Id":5}`, `{"x":{"y":[[]]},"Id":"0"}`,
	} {
		f.Add(seed)
	}
	attrs := []byte(`{"attributes":{"type":"Account"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var fields map[string]json.RawMessage
		if json.Unmarshal([]byte(in), &fields) != nil || fields == nil {
			return
		}
		var obj bytes.Buffer
		if json.Compact(&obj, []byte(in)) != nil {
			return
		}
		out, id, err := appendRecord([]byte("["), obj.Bytes(), attrs, recordCreate)
		if err != nil {
			return // a non-string Id, or two: refused
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out[1:], &got); err != nil {
			t.Fatalf("%s → %s: %v", in, out, err)
		}
		want := fields
		for k, v := range fields {
			if !strings.EqualFold(k, "Id") {
				continue
			}
			var s string
			if id == "" {
				delete(want, k)
			} else if json.Unmarshal(v, &s) != nil || s != id {
				t.Fatalf("%s: id %q", in, id)
			}
		}
		if _, ok := want["attributes"]; !ok {
			want["attributes"] = json.RawMessage(`{"type":"Account"}`)
		}
		if len(got) != len(want) {
			t.Fatalf("%s → %s: %d fields, want %d", in, out, len(got), len(want))
		}
		for k, v := range want {
			var a, b any
			_ = json.Unmarshal(v, &a)
			_ = json.Unmarshal(got[k], &b)
			if !jsonEqual(a, b) {
				t.Fatalf("%s → %s: field %s is %s, want %s", in, out, k, got[k], v)
			}
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
