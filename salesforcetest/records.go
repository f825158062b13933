package salesforcetest

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// declare adds a custom object, or custom fields to an existing object when
// obj names one.
func (o *Org) declare(obj SObject) error { return o.data.Declare(obj) }

// DefineObject declares a custom object, e.g.
//
//	org.Setup().DefineObject(salesforcetest.SObject{Name: "Invoice__c", Fields: []salesforcetest.Field{
//		{Name: "Amount__c", Type: salesforcetest.TypeCurrency, Required: true},
//		{Name: "Account__c", Type: salesforcetest.TypeReference, ReferenceTo: []string{"Account"}},
//	}})
//
// The object gets the system fields, OwnerId and a required Name (unless
// Fields declares Name), and a generated key prefix unless KeyPrefix is set.
func (s Setup) DefineObject(obj SObject) error {
	err := s.o.data.DefineObject(obj)
	if err == nil {
		s.o.schemaChanged.touch(s.o.now())
	}
	return err
}

// DefineFields adds custom fields (names ending in __c) to an object, e.g. an
// external id on Account:
//
//	org.Setup().DefineFields("Account", salesforcetest.Field{Name: "External_Id__c",
//		Type: salesforcetest.TypeString, ExternalID: true, Unique: true})
func (s Setup) DefineFields(object string, fields ...Field) error {
	err := s.o.data.DefineFields(object, fields...)
	if err == nil {
		s.o.schemaChanged.touch(s.o.now())
	}
	return err
}

// Create validates and inserts one record as the REST API's create does,
// returning its id, or an *APIError with Salesforce's error code.
func (d Data) Create(object string, fields map[string]any) (string, error) {
	o := d.o
	var id string
	if err := o.data.Transaction(func(t *data.Txn) *APIError {
		var e *APIError
		id, e = t.Create(object, jsonValues(fields))
		return e
	}); err != nil {
		return "", err
	}
	return id, nil
}

// Insert creates records of an object for test setup and returns their ids,
// e.g. org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"}). Each record
// is validated as a REST create would be; one Salesforce would refuse is a
// mistake in the test, so Insert fails tb with the Salesforce error
// (tb.Fatalf, after the records before it were created), as Client(tb) does.
// Call it from the goroutine running the test or benchmark tb belongs to, as
// testing's FailNow requires; in a subtest pass the subtest's tb. Code
// without a testing.TB (an example, a program) calls Create and handles the error.
func (d Data) Insert(tb testing.TB, object string, records ...map[string]any) []string {
	o := d.o
	tb.Helper()
	ids := make([]string, len(records))
	for i, r := range records {
		id, err := o.Data().Create(object, r)
		if err != nil {
			tb.Fatalf("salesforcetest: Insert %s record %d: %v", object, i, err)
			return nil // FailNow does not return; a TB that does gets no ids
		}
		ids[i] = id
	}
	return ids
}

// Record returns a copy of a record's fields (deleted ones too, with
// IsDeleted true), for tests that check what a client wrote.
func (d Data) Record(object, id string) (map[string]any, bool) {
	o := d.o
	return o.data.Snapshot(object, id)
}

// jsonValues turns Go numbers into json.Number, the form a decoded request
// body has, so Create and Insert accept the values a test writes naturally.
func jsonValues(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		switch x := v.(type) {
		case int:
			v = json.Number(fmt.Sprint(x))
		case int32:
			v = json.Number(fmt.Sprint(x))
		case int64:
			v = json.Number(fmt.Sprint(x))
		case float32:
			v = json.Number(fmt.Sprint(x))
		case float64:
			v = json.Number(fmt.Sprint(x))
		}
		out[k] = v
	}
	return out
}

// seed is the JSON a seed file holds; see LoadSeed.
type seed struct {
	Objects []SObject     `json:"objects"`
	Records []seedRecords `json:"records"`
}

// seedRecords are records of one object in a seed.
type seedRecords struct {
	Object  string           `json:"object"`
	Records []map[string]any `json:"records"`
}

// maxSeed bounds a seed file.
const maxSeed = 64 << 20

// LoadSeed reads a seed file (sfmtls fake-org --seed) from r and applies it:
// it declares the custom objects and fields, then creates the records, object
// by object in the order given, stopping at the first one the org refuses.
// The JSON holds SObject values (with their JSON field names) and records:
//
//	{"objects": [{"name": "Invoice__c", "fields": [{"name": "Amount__c", "type": "currency"}]}],
//	 "records": [{"object": "Account", "records": [{"Name": "Acme"}]}]}
func (s Setup) LoadSeed(r io.Reader) error {
	o := s.o
	dec := json.NewDecoder(io.LimitReader(r, maxSeed))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var sd seed
	if err := dec.Decode(&sd); err != nil {
		return fmt.Errorf("salesforcetest: seed: not the expected JSON ({\"objects\": [...], \"records\": [{\"object\": \"Account\", \"records\": [...]}]}): %w", err)
	}
	for _, obj := range sd.Objects {
		if err := o.declare(obj); err != nil {
			return fmt.Errorf("salesforcetest: seed: %w", err)
		}
	}
	for _, group := range sd.Records {
		for i, rec := range group.Records {
			if _, err := o.Data().Create(group.Object, rec); err != nil {
				return fmt.Errorf("salesforcetest: seed: %s record %d: %w", group.Object, i, err)
			}
		}
	}
	return nil
}
