package salesforcetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// orderedRecord marshals as a JSON object with its keys in order:
// "attributes" first, then the fields in schema order, as Salesforce writes records.
type orderedRecord struct {
	keys   []string
	values []any
}

func (r *orderedRecord) add(k string, v any) {
	r.keys = append(r.keys, k)
	r.values = append(r.values, v)
}

func (r *orderedRecord) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(r.values[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// view renders a record as "sObject Rows" GET answers it: every field, null
// where unset, or only the fields asked for (an unknown one is INVALID_FIELD).
// The store's lock is held.
func view(r *data.Record, fields []string, v string) (*orderedRecord, *APIError) {
	so := r.Object()
	out := &orderedRecord{}
	out.add("attributes", map[string]string{"type": so.Name, "url": recordURL(v, so.Name, r.ID())})
	if fields == nil {
		for _, f := range so.Fields {
			out.add(f.Name, r.Value(f.Name))
		}
		return out, nil
	}
	for _, name := range fields {
		f, ok := so.Field(name)
		if !ok {
			return nil, apiErr(http.StatusBadRequest, "INVALID_FIELD",
				fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", name, so.Name))
		}
		out.add(f.Name, r.Value(f.Name))
	}
	if _, ok := so.Field("Id"); ok && !containsFold(fields, "Id") {
		out.add("Id", r.ID()) // Salesforce always returns the Id
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// objectSummary is an sObject as describeGlobal and basic info list it.
func objectSummary(o *SObject, v string) map[string]any {
	base := "/services/data/v" + v + "/sobjects/" + o.Name
	return map[string]any{
		"name": o.Name, "label": o.Label, "labelPlural": data.Plural(o.Label), "keyPrefix": o.KeyPrefix,
		"custom": data.IsCustom(o), "createable": !o.NotCreateable, "updateable": !o.NotCreateable,
		"deletable": !o.NotCreateable, "queryable": true, "retrieveable": true, "searchable": true,
		"layoutable": true, "triggerable": true, "undeletable": !o.NotCreateable,
		"urls": map[string]string{"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}",
			"layouts": base + "/describe/layouts"},
	}
}

// handleDescribeGlobal: "Describe Global" — every object, with the org's
// encoding and batch size.
func (o *Org) handleDescribeGlobal(w http.ResponseWriter, v string) {
	var objs []map[string]any
	o.data.Read(func(rd *data.Reader) {
		for _, name := range rd.ObjectNames() {
			so, _ := rd.Object(name)
			objs = append(objs, objectSummary(so, v))
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})
}

// handleBasicInfo: "sObject Basic Information" — the object's summary and
// its most recently created records.
func (o *Org) handleBasicInfo(w http.ResponseWriter, v, obj string) {
	recent := []any{}
	var info map[string]any
	o.data.Read(func(rd *data.Reader) {
		so, _ := rd.Object(obj)
		for _, r := range rd.Recent(so, 25) {
			rec := &orderedRecord{}
			rec.add("attributes", map[string]string{"type": so.Name, "url": recordURL(v, so.Name, r.ID())})
			rec.add("Id", r.ID())
			if _, ok := so.Field("Name"); ok {
				rec.add("Name", r.Value("Name"))
			}
			recent = append(recent, rec)
		}
		info = objectSummary(so, v)
	})
	writeJSON(w, http.StatusOK, map[string]any{"objectDescribe": info, "recentItems": recent})
}

// handleDescribe: "sObject Describe" — the object's fields as the schema
// declares them, and its child relationships.
func (o *Org) handleDescribe(w http.ResponseWriter, r *http.Request, v, obj string) {
	if o.notModified(w, r) {
		return
	}
	var out map[string]any
	o.data.Read(func(rd *data.Reader) { out = describe(rd, v, obj) })
	writeJSON(w, http.StatusOK, out)
}

// describe builds the describe answer; the reader holds the store's lock.
func describe(rd *data.Reader, v, obj string) map[string]any {
	so, _ := rd.Object(obj)
	out := objectSummary(so, v)
	fields := make([]map[string]any, 0, len(so.Fields))
	for _, f := range so.Fields {
		d := map[string]any{
			"name": f.Name, "label": f.Label, "type": string(f.Type), "length": 0,
			"nillable": data.Nillable(&f), "createable": data.Createable(&f), "updateable": data.Updateable(&f),
			"defaultedOnCreate": data.IsSystem(&f) || f.Default != nil || f.Name == "OwnerId" || (f.ReadOnly && f.Name == "CaseNumber"),
			"externalId":        f.ExternalID, "unique": f.Unique || f.Name == "Id", "custom": strings.HasSuffix(f.Name, "__c"),
			"idLookup": f.Name == "Id" || f.ExternalID, "filterable": f.Type != TypeTextArea, "sortable": f.Type != TypeTextArea,
			"calculated": f.ReadOnly && !data.IsSystem(&f), "autoNumber": f.Name == "CaseNumber",
			"referenceTo": orEmpty(f.ReferenceTo), "relationshipName": nil, "defaultValue": f.Default,
			"picklistValues": picklistValues(f), "restrictedPicklist": f.Restricted,
			"soapType": soapType(f.Type), "caseSensitive": f.CaseSensitive,
		}
		switch f.Type {
		case TypeString, TypeTextArea, TypeEmail, TypePhone, TypeURL, TypePicklist, TypeID, TypeReference:
			d["length"] = data.MaxLength(&f)
		}
		if f.RelationshipName != "" {
			d["relationshipName"] = f.RelationshipName
		}
		fields = append(fields, d)
	}
	out["fields"] = fields
	var children []map[string]any
	for _, c := range rd.Children(so) {
		children = append(children, map[string]any{
			"childSObject": c.Object, "field": c.Field, "relationshipName": c.Name, "cascadeDelete": false,
		})
	}
	out["childRelationships"] = orEmptyMaps(children)
	out["recordTypeInfos"] = recordTypeInfos(v, so.Name)
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyMaps(s []map[string]any) []map[string]any {
	if s == nil {
		return []map[string]any{}
	}
	return s
}

func picklistValues(f Field) []map[string]any {
	out := []map[string]any{}
	for _, p := range f.PicklistValues {
		out = append(out, map[string]any{"value": p, "label": p, "active": true, "defaultValue": p == f.Default})
	}
	return out
}

func soapType(t FieldType) string {
	switch t {
	case TypeID, TypeReference:
		return "tns:ID"
	case TypeBoolean:
		return "xsd:boolean"
	case TypeInt:
		return "xsd:int"
	case TypeDouble, TypeCurrency, TypePercent:
		return "xsd:double"
	case TypeDate:
		return "xsd:date"
	case TypeDateTime:
		return "xsd:dateTime"
	}
	return "xsd:string"
}
