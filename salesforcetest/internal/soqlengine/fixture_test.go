package soqlengine

import (
	"sort"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// testObject is a small in-memory sObject description.
type testObject struct {
	name     string
	fields   []Field
	children map[string][2]string // relationship -> child object, child field
}

func (o *testObject) Name() string { return o.name }

func (o *testObject) Field(name string) (Field, bool) {
	for _, f := range o.fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// Fields lists the fields in declaration order, for FIELDS().
func (o *testObject) Fields() []Field { return o.fields }

func (o *testObject) ChildRelationship(name string) (string, string, bool) {
	for k, v := range o.children {
		if strings.EqualFold(k, name) {
			return v[0], v[1], true
		}
	}
	return "", "", false
}

func (o *testObject) ChildRelationshipName(name string) string {
	for k := range o.children {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

type testSchema map[string]*testObject

func (s testSchema) Object(name string) (Object, bool) {
	for k, o := range s {
		if strings.EqualFold(k, name) {
			return o, true
		}
	}
	return nil, false
}

// Objects lists the objects a SOSL search without RETURNING covers.
func (s testSchema) Objects() []string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// testData keeps records per object in insertion order.
type testData map[string][]map[string]any

func (d testData) Records(object string, includeDeleted bool) []map[string]any {
	var out []map[string]any
	for _, r := range d[object] {
		if r["IsDeleted"] == true && !includeDeleted {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (d testData) Get(object, id string) (map[string]any, bool) {
	for _, r := range d[object] {
		if r["Id"] == id {
			return r, true
		}
	}
	return nil, false
}

func base(extra ...Field) []Field {
	return append([]Field{
		{Name: "Id", Type: data.TypeID},
		{Name: "IsDeleted", Type: data.TypeBoolean},
		{Name: "CreatedDate", Type: data.TypeDateTime},
	}, extra...)
}

func newSchema() testSchema {
	return testSchema{
		"User": {name: "User", fields: base(
			Field{Name: "Name", Type: data.TypeString},
			Field{Name: "ManagerId", Type: data.TypeReference, ReferenceTo: "User", RelationshipName: "Manager"},
		)},
		"Account": {name: "Account", fields: base(
			Field{Name: "Name", Type: data.TypeString},
			Field{Name: "Industry", Type: data.TypePicklist},
			Field{Name: "NumberOfEmployees", Type: data.TypeInt},
			Field{Name: "AnnualRevenue", Type: data.TypeCurrency},
			Field{Name: "Active__c", Type: data.TypeBoolean},
			Field{Name: "Website", Type: data.TypeURL},
			Field{Name: "OwnerId", Type: data.TypeReference, ReferenceTo: "User", RelationshipName: "Owner"},
			Field{Name: "ParentId", Type: data.TypeReference, ReferenceTo: "Account", RelationshipName: "Parent"},
		), children: map[string][2]string{
			"Contacts":      {"Contact", "AccountId"},
			"Opportunities": {"Opportunity", "AccountId"},
			"ChildAccounts": {"Account", "ParentId"},
		}},
		"Contact": {name: "Contact", fields: base(
			Field{Name: "FirstName", Type: data.TypeString},
			Field{Name: "LastName", Type: data.TypeString},
			Field{Name: "Name", Type: data.TypeString},
			Field{Name: "Email", Type: data.TypeEmail},
			Field{Name: "Phone", Type: data.TypePhone},
			Field{Name: "Birthdate", Type: data.TypeDate},
			Field{Name: "AccountId", Type: data.TypeReference, ReferenceTo: "Account", RelationshipName: "Account"},
		)},
		"Opportunity": {name: "Opportunity", fields: base(
			Field{Name: "Name", Type: data.TypeString},
			Field{Name: "Amount", Type: data.TypeCurrency},
			Field{Name: "Probability", Type: data.TypePercent},
			Field{Name: "StageName", Type: data.TypePicklist},
			Field{Name: "CloseDate", Type: data.TypeDate},
			Field{Name: "AccountId", Type: data.TypeReference, ReferenceTo: "Account", RelationshipName: "Account"},
		)},
	}
}

// Ids are 18 characters, as the REST API returns them.
const (
	user1 = "005000000000001AAA"
	user2 = "005000000000002AAA"
	acc1  = "001000000000001AAA" // Acme
	acc2  = "001000000000002AAA" // Globex
	acc3  = "001000000000003AAA" // Initech, no owner
	acc4  = "001000000000004AAA" // deleted
	con1  = "003000000000001AAA"
	con2  = "003000000000002AAA"
	con3  = "003000000000003AAA"
	con4  = "003000000000004AAA"
	opp1  = "006000000000001AAA"
	opp2  = "006000000000002AAA"
	opp3  = "006000000000003AAA"
)

// now is Friday 2024-03-15 12:00 UTC.
var now = time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)

func newData() testData {
	return testData{
		"User": {
			{"Id": user1, "IsDeleted": false, "Name": "Ada Boss", "ManagerId": nil},
			{"Id": user2, "IsDeleted": false, "Name": "Bob Rep", "ManagerId": user1},
		},
		"Account": {
			{"Id": acc1, "IsDeleted": false, "Name": "Acme", "Industry": "Manufacturing", "NumberOfEmployees": 100.0, "AnnualRevenue": 5e6, "Active__c": true, "OwnerId": user2, "ParentId": nil, "CreatedDate": "2024-03-15T08:00:00.000+0000", "Website": "https://acme.example"},
			{"Id": acc2, "IsDeleted": false, "Name": "Globex 100% _real_", "Industry": "Energy", "NumberOfEmployees": 9.0, "AnnualRevenue": nil, "Active__c": false, "OwnerId": user1, "ParentId": acc1, "CreatedDate": "2024-03-14T23:30:00.000+0000"},
			{"Id": acc3, "IsDeleted": false, "Name": "initech", "Industry": nil, "NumberOfEmployees": 10.0, "AnnualRevenue": 1e6, "Active__c": true, "OwnerId": nil, "ParentId": acc2, "CreatedDate": "2024-02-01T00:00:00.000+0000"},
			{"Id": acc4, "IsDeleted": true, "Name": "Gone Ltd", "Industry": "Energy", "NumberOfEmployees": 1.0, "Active__c": false, "OwnerId": user1, "CreatedDate": "2023-12-31T12:00:00.000+0000"},
		},
		"Contact": {
			{"Id": con1, "IsDeleted": false, "FirstName": "Ann", "LastName": "O'Neil", "Name": "Ann O'Neil", "Email": "ann@acme.example", "Phone": "+1 555 0100", "Birthdate": "1990-03-14", "AccountId": acc1, "CreatedDate": "2024-03-10T10:00:00.000+0000"},
			{"Id": con2, "IsDeleted": false, "FirstName": "Ben", "LastName": "Back\\slash", "Name": "Ben Back\\slash", "Email": "ben@acme.example", "Birthdate": "1985-12-01", "AccountId": acc1, "CreatedDate": "2024-03-16T01:00:00.000+0000"},
			{"Id": con3, "IsDeleted": false, "FirstName": "Cy", "LastName": "Lone", "Name": "Cy Lone", "Email": nil, "Birthdate": nil, "AccountId": nil, "CreatedDate": "2024-01-01T00:00:00.000+0000"},
			{"Id": con4, "IsDeleted": true, "FirstName": "Del", "LastName": "Eted", "Name": "Del Eted", "AccountId": acc1, "CreatedDate": "2024-01-01T00:00:00.000+0000"},
		},
		"Opportunity": {
			{"Id": opp1, "IsDeleted": false, "Name": "Big deal", "Amount": 100000.0, "Probability": 50.0, "StageName": "Prospecting", "CloseDate": "2024-03-15", "AccountId": acc1},
			{"Id": opp2, "IsDeleted": false, "Name": "Small deal", "Amount": 20.5, "Probability": 90.0, "StageName": "Closed Won", "CloseDate": "2024-02-29", "AccountId": acc1},
			{"Id": opp3, "IsDeleted": false, "Name": "Energy deal", "Amount": nil, "Probability": 10.0, "StageName": "Prospecting", "CloseDate": "2024-04-20", "AccountId": acc2},
		},
	}
}
