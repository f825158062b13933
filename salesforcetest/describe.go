package salesforcetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
func (s *store) view(r *record, fields []string, v string) (*orderedRecord, *APIError) {
	out := &orderedRecord{}
	out.add("attributes", map[string]string{"type": r.object.Name, "url": recordURL(v, r.object.Name, r.id)})
	if fields == nil {
		for _, f := range r.object.Fields {
			out.add(f.Name, r.fields[f.Name])
		}
		return out, nil
	}
	for _, name := range fields {
		f, ok := r.object.Field(name)
		if !ok {
			return nil, apiErr(http.StatusBadRequest, "INVALID_FIELD",
				fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", name, r.object.Name))
		}
		out.add(f.Name, r.fields[f.Name])
	}
	if _, ok := r.object.Field("Id"); ok && !containsFold(fields, "Id") {
		out.add("Id", r.id) // Salesforce always returns the Id
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
		"name": o.Name, "label": o.Label, "labelPlural": plural(o.Label), "keyPrefix": o.KeyPrefix,
		"custom": o.custom, "createable": !o.NotCreateable, "updateable": !o.NotCreateable,
		"deletable": !o.NotCreateable, "queryable": true, "retrieveable": true, "searchable": true,
		"layoutable": true, "triggerable": true, "undeletable": !o.NotCreateable,
		"urls": map[string]string{"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"},
	}
}

func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ey"):
		return strings.TrimSuffix(s, "y") + "ies"
	case strings.HasSuffix(s, "s"):
		return s + "es"
	}
	return s + "s"
}

// handleDescribeGlobal: "Describe Global" — every object, with the org's
// encoding and batch size.
func (o *Org) handleDescribeGlobal(w http.ResponseWriter, v string) {
	o.data.mu.Lock()
	var objs []map[string]any
	for _, name := range o.data.schema.names() {
		so, _ := o.data.schema.object(name)
		objs = append(objs, objectSummary(so, v))
	}
	o.data.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})
}

// handleBasicInfo: "sObject Basic Information" — the object's summary and
// its most recently created records.
func (o *Org) handleBasicInfo(w http.ResponseWriter, v, obj string) {
	o.data.mu.Lock()
	so, _ := o.data.schema.object(obj)
	recent := []any{}
	ids := o.data.order[strings.ToLower(so.Name)]
	for i := len(ids) - 1; i >= 0 && len(recent) < 25; i-- {
		r, ok := o.data.records[ids[i]]
		if !ok || r.deleted { // purged or in the recycle bin
			continue
		}
		rec := &orderedRecord{}
		rec.add("attributes", map[string]string{"type": so.Name, "url": recordURL(v, so.Name, r.id)})
		rec.add("Id", r.id)
		if _, ok := so.Field("Name"); ok {
			rec.add("Name", r.fields["Name"])
		}
		recent = append(recent, rec)
	}
	info := objectSummary(so, v)
	o.data.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"objectDescribe": info, "recentItems": recent})
}

// handleDescribe: "sObject Describe" — the object's fields as the schema
// declares them, and its child relationships.
func (o *Org) handleDescribe(w http.ResponseWriter, v, obj string) {
	o.data.mu.Lock()
	defer o.data.mu.Unlock()
	so, _ := o.data.schema.object(obj)
	out := objectSummary(so, v)
	fields := make([]map[string]any, 0, len(so.Fields))
	for _, f := range so.Fields {
		d := map[string]any{
			"name": f.Name, "label": f.Label, "type": string(f.Type), "length": 0,
			"nillable": f.nillable(), "createable": f.createable(), "updateable": f.updateable(),
			"defaultedOnCreate": f.system || f.Default != nil || f.Name == "OwnerId" || (f.ReadOnly && f.Name == "CaseNumber"),
			"externalId":        f.ExternalID, "unique": f.Unique || f.Name == "Id", "custom": strings.HasSuffix(f.Name, "__c"),
			"idLookup": f.Name == "Id" || f.ExternalID, "filterable": f.Type != TypeTextArea, "sortable": f.Type != TypeTextArea,
			"calculated": f.ReadOnly && !f.system, "autoNumber": f.Name == "CaseNumber",
			"referenceTo": orEmpty(f.ReferenceTo), "relationshipName": nil, "defaultValue": f.Default,
			"picklistValues": picklistValues(f), "restrictedPicklist": f.Restricted,
			"soapType": soapType(f.Type), "caseSensitive": f.CaseSensitive,
		}
		switch f.Type {
		case TypeString, TypeTextArea, TypeEmail, TypePhone, TypeURL, TypePicklist, TypeID, TypeReference:
			d["length"] = f.maxLength()
		}
		if f.RelationshipName != "" {
			d["relationshipName"] = f.RelationshipName
		}
		fields = append(fields, d)
	}
	out["fields"] = fields
	var children []map[string]any
	for _, c := range o.data.schema.children(so) {
		children = append(children, map[string]any{
			"childSObject": c.object, "field": c.field, "relationshipName": c.name, "cascadeDelete": false,
		})
	}
	out["childRelationships"] = orEmptyMaps(children)
	writeJSON(w, http.StatusOK, out)
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

// childRel is a child relationship: child object, its reference field, name.
type childRel struct{ object, field, name string }

// children lists the relationships whose reference fields point to parent.
func (s *schema) children(parent *SObject) []childRel {
	var out []childRel
	for _, name := range s.names() {
		child, _ := s.object(name)
		for _, f := range child.Fields {
			if f.Type != TypeReference || f.system || f.Name == "OwnerId" || !containsFold(f.ReferenceTo, parent.Name) {
				continue
			}
			out = append(out, childRel{object: child.Name, field: f.Name, name: childRelationshipName(child, &f)})
		}
	}
	return out
}

// childRelationshipName names a child relationship as Salesforce's standard
// ones are named (Account.Contacts, Account.ChildAccounts), and custom
// lookups by their child object's plural with __r (Invoices__r).
func childRelationshipName(child *SObject, f *Field) string {
	if f.ChildRelationshipName != "" {
		return f.ChildRelationshipName
	}
	if child.Name == "Account" && f.Name == "ParentId" {
		return "ChildAccounts"
	}
	if child.Name == "Contact" && f.Name == "ReportsToId" {
		return "DirectReports"
	}
	if child.custom || strings.HasSuffix(f.Name, "__c") {
		return plural(strings.TrimSuffix(child.Name, "__c")) + "__r"
	}
	return plural(child.Name)
}
