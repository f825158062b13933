package salesforcetest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// invoiceOrg is an org with a custom object and an external id on Account,
// declared as a test would.
func invoiceOrg(t *testing.T, cfg salesforcetest.Config) *salesforcetest.Org {
	t.Helper()
	cfg.Objects = append(cfg.Objects,
		salesforcetest.SObject{Name: "Account", Fields: []salesforcetest.Field{
			{Name: "External_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true},
			{Name: "Legacy_Code__c", Type: salesforcetest.TypeString, ExternalID: true}, // external id, not unique
		}},
		salesforcetest.SObject{Name: "Invoice__c", Fields: []salesforcetest.Field{
			{Name: "Amount__c", Type: salesforcetest.TypeCurrency, Required: true},
			{Name: "Account__c", Type: salesforcetest.TypeReference, ReferenceTo: []string{"Account"}},
			{Name: "Due__c", Type: salesforcetest.TypeDate},
			{Name: "Number__c", Type: salesforcetest.TypeInt, ExternalID: true, Unique: true},
		}})
	return start(t, cfg)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) errorCode(t *testing.T) (string, []string) {
	t.Helper()
	var errs []struct {
		ErrorCode string   `json:"errorCode"`
		Message   string   `json:"message"`
		Fields    []string `json:"fields"`
	}
	require.NoError(t, json.Unmarshal(a.body, &errs), "not the REST error array: %s", a.body)
	require.Len(t, errs, 1)
	assert.NotEmpty(t, errs[0].Message)
	return errs[0].ErrorCode, errs[0].Fields
}

func do(t *testing.T, c *http.Client, token, method, u, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header, b}
}

func createdID(t *testing.T, a answer) string {
	t.Helper()
	require.Equal(t, http.StatusCreated, a.status, string(a.body))
	var res struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	require.NoError(t, json.Unmarshal(a.body, &res))
	require.True(t, res.Success)
	return res.ID
}

// REST API Developer Guide, "sObject Describe": fields come from the schema
// with their types and properties, not from the data seen.
func TestDescribeAnswersFromTheSchema(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/"
	a := do(t, c, token, http.MethodGet, base+"Account/describe", "")
	require.Equal(t, http.StatusOK, a.status)
	var d struct {
		Name, KeyPrefix string
		Custom          bool
		Fields          []struct {
			Name, Type                               string
			Nillable, Createable, Updateable, Unique bool
			ExternalID                               bool `json:"externalId"`
			ReferenceTo                              []string
			RelationshipName                         *string
		}
		ChildRelationships []struct{ ChildSObject, Field, RelationshipName string }
	}
	require.NoError(t, json.Unmarshal(a.body, &d))
	assert.Equal(t, "001", d.KeyPrefix)
	byName := map[string]int{}
	for i, f := range d.Fields {
		byName[f.Name] = i
	}
	name := d.Fields[byName["Name"]]
	assert.Equal(t, "string", name.Type)
	assert.False(t, name.Nillable, "Name is required")
	assert.True(t, name.Createable)
	emp := d.Fields[byName["NumberOfEmployees"]]
	assert.Equal(t, "int", emp.Type)
	created := d.Fields[byName["CreatedDate"]]
	assert.Equal(t, "datetime", created.Type)
	assert.False(t, created.Createable || created.Updateable, "system fields are read-only")
	ext := d.Fields[byName["External_Id__c"]]
	assert.True(t, ext.ExternalID && ext.Unique)
	owner := d.Fields[byName["OwnerId"]]
	assert.Equal(t, []string{"User"}, owner.ReferenceTo)
	children := map[string]string{}
	for _, r := range d.ChildRelationships {
		children[r.RelationshipName] = r.ChildSObject + "." + r.Field
	}
	assert.Equal(t, "Contact.AccountId", children["Contacts"])
	assert.Equal(t, "Invoice__c.Account__c", children["Invoices__r"])

	a = do(t, c, token, http.MethodGet, base+"Invoice__c/describe/", "")
	require.Equal(t, http.StatusOK, a.status)
	require.NoError(t, json.Unmarshal(a.body, &d))
	assert.True(t, d.Custom)
	assert.Regexp(t, `^a[0-9A-Za-z]{2}$`, d.KeyPrefix)
	assert.Contains(t, string(a.body), `"name":"Amount__c"`)

	a = do(t, c, token, http.MethodGet, base+"Acount/describe", "")
	assert.Equal(t, http.StatusNotFound, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "NOT_FOUND", code)
}

// REST API Developer Guide, "sObject Basic Information" (POST creates) and
// "Status Codes and Error Responses": a create Salesforce refuses is refused
// here with the same status and errorCode. The messages follow Salesforce's
// answers; the Guide documents the codes, not every message.
func TestCreateRejectsWhatSalesforceRejects(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/"
	contactID := createdID(t, do(t, c, token, http.MethodPost, base+"Contact", `{"LastName":"Doe"}`))
	gone := createdID(t, do(t, c, token, http.MethodPost, base+"Account", `{"Name":"Gone"}`))
	require.Equal(t, http.StatusNoContent, do(t, c, token, http.MethodDelete, base+"Account/"+gone, "").status)
	createdID(t, do(t, c, token, http.MethodPost, base+"Account", `{"Name":"First","External_Id__c":"E-1"}`))

	for _, tc := range []struct {
		name, object, body string
		status             int
		code               string
		fields             []string
	}{
		{"unknown sObject", "Acount", `{"Name":"Acme"}`, 404, "NOT_FOUND", nil},
		{"unknown field", "Account", `{"Name":"Acme","Colour__c":"red"}`, 400, "INVALID_FIELD", []string{"Colour__c"}},
		{"int field given words", "Account", `{"Name":"Acme","NumberOfEmployees":"many"}`, 400, "JSON_PARSER_ERROR", nil},
		{"date field given garbage", "Invoice__c", `{"Name":"I","Amount__c":1,"Due__c":"tomorrow"}`, 400, "JSON_PARSER_ERROR", nil},
		{"required Name missing", "Account", `{"Industry":"Energy"}`, 400, "REQUIRED_FIELD_MISSING", []string{"Name"}},
		{"required Name null", "Account", `{"Name":null}`, 400, "REQUIRED_FIELD_MISSING", []string{"Name"}},
		{"custom required field missing", "Invoice__c", `{"Name":"I"}`, 400, "REQUIRED_FIELD_MISSING", []string{"Amount__c"}},
		{"read-only CreatedDate", "Account", `{"Name":"Acme","CreatedDate":"2024-01-01T00:00:00.000+0000"}`, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"CreatedDate"}},
		{"compound Name of a Contact", "Contact", `{"LastName":"Doe","Name":"John Doe"}`, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Name"}},
		{"not JSON", "Account", `{"Name":`, 400, "JSON_PARSER_ERROR", nil},
		{"a JSON array, not an object", "Account", `[{"Name":"Acme"}]`, 400, "JSON_PARSER_ERROR", nil},
		{"too long", "Account", `{"Name":"` + strings.Repeat("x", 256) + `"}`, 400, "STRING_TOO_LONG", []string{"Name"}},
		{"bad email", "Contact", `{"LastName":"Doe","Email":"not-an-address"}`, 400, "INVALID_EMAIL_ADDRESS", []string{"Email"}},
		{"malformed reference", "Contact", `{"LastName":"Doe","AccountId":"nope"}`, 400, "MALFORMED_ID", []string{"AccountId"}},
		{"reference to the wrong object", "Contact", `{"LastName":"Doe","AccountId":"` + contactID + `"}`, 400, "INVALID_CROSS_REFERENCE_KEY", []string{"AccountId"}},
		{"reference to a deleted record", "Contact", `{"LastName":"Doe","AccountId":"` + gone + `"}`, 400, "ENTITY_IS_DELETED", []string{"AccountId"}},
		{"duplicate unique external id", "Account", `{"Name":"Second","External_Id__c":"e-1"}`, 400, "DUPLICATE_VALUE", []string{"External_Id__c"}},
		{"User through REST", "User", `{"LastName":"X"}`, 400, "INVALID_TYPE_FOR_OPERATION", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, c, token, http.MethodPost, base+tc.object, tc.body)
			assert.Equal(t, tc.status, a.status, string(a.body))
			code, fields := a.errorCode(t)
			assert.Equal(t, tc.code, code)
			if tc.fields != nil {
				assert.Equal(t, tc.fields, fields)
			}
		})
	}
	var count struct{ TotalSize int }
	q := do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/query?q="+url.QueryEscape("SELECT COUNT() FROM Account"), "")
	require.NoError(t, json.Unmarshal(q.body, &count))
	assert.Equal(t, 1, count.TotalSize, "no refused create left a record")

	// What Salesforce accepts: numeric text for a number, a number for text,
	// a 15-character reference, the attributes annotation.
	acct := createdID(t, do(t, c, token, http.MethodPost, base+"account",
		`{"attributes":{"type":"Account"},"name":"Lower Case Names","NumberOfEmployees":"42","AccountNumber":1234}`))
	createdID(t, do(t, c, token, http.MethodPost, base+"Contact", `{"LastName":"Roe","AccountId":"`+acct[:15]+`"}`))
	rec, ok := org.Data().Record("Account", acct)
	require.True(t, ok)
	assert.Equal(t, "Lower Case Names", rec["Name"], "field names are case-insensitive; stored under the API name")
	assert.Equal(t, 42.0, rec["NumberOfEmployees"])
	assert.Equal(t, "1234", rec["AccountNumber"])
}

// Object Reference, "System Fields": the org sets CreatedDate,
// LastModifiedDate, SystemModstamp, IsDeleted, CreatedById and OwnerId; an
// update moves LastModifiedDate and SystemModstamp only.
func TestSystemFieldsAreMaintainedByTheOrg(t *testing.T) {
	clock := &testClock{}
	org := invoiceOrg(t, salesforcetest.Config{Now: clock.Now})
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/"
	id := createdID(t, do(t, c, token, http.MethodPost, base+"Account", `{"Name":"Acme"}`))
	var rec map[string]any
	a := do(t, c, token, http.MethodGet, base+"Account/"+id, "")
	require.Equal(t, http.StatusOK, a.status)
	require.NoError(t, json.Unmarshal(a.body, &rec))
	assert.Equal(t, id, rec["Id"])
	assert.Equal(t, false, rec["IsDeleted"])
	assert.Nil(t, rec["Industry"], "unset fields come as null")
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`, rec["CreatedDate"])
	assert.Equal(t, rec["CreatedDate"], rec["SystemModstamp"])
	assert.Regexp(t, `^005`, rec["OwnerId"])
	assert.Equal(t, rec["OwnerId"], rec["CreatedById"], "the integration user owns what it creates")

	clock.Advance(time.Second) // the org's clock stamps LastModifiedDate
	require.Equal(t, http.StatusNoContent, do(t, c, token, http.MethodPatch, base+"Account/"+id, `{"Industry":"Energy"}`).status)
	after, _ := org.Data().Record("Account", id)
	assert.Equal(t, rec["CreatedDate"], after["CreatedDate"])
	assert.Greater(t, after["LastModifiedDate"], rec["LastModifiedDate"])
	assert.Equal(t, after["LastModifiedDate"], after["SystemModstamp"])

	c2 := createdID(t, do(t, c, token, http.MethodPost, base+"Contact", `{"FirstName":"Jane","LastName":"Doe"}`))
	contact, _ := org.Data().Record("Contact", c2)
	assert.Equal(t, "Jane Doe", contact["Name"], "a Contact's Name is composed from its parts")
	cs := createdID(t, do(t, c, token, http.MethodPost, base+"Case", `{"Subject":"Broken"}`))
	kase, _ := org.Data().Record("Case", cs)
	assert.Equal(t, "New", kase["Status"], "picklist default on create")
	assert.Regexp(t, `^\d{8}$`, kase["CaseNumber"])
}

// REST API Developer Guide, "sObject Rows" (GET, PATCH, DELETE) and "Status
// Codes and Error Responses".
func TestRowsUpdateAndDeleteAnswers(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/Account/"
	id := createdID(t, do(t, c, token, http.MethodPost, base, `{"Name":"Acme"}`))

	for _, tc := range []struct {
		name, body string
		code       string
	}{
		{"read-only field", `{"LastModifiedDate":"2024-01-01T00:00:00Z"}`, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"Id in the body", `{"Id":"` + id + `"}`, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"required field cleared", `{"Name":null}`, "REQUIRED_FIELD_MISSING"},
		{"unknown field", `{"Nope":1}`, "INVALID_FIELD"},
		{"wrong type", `{"AnnualRevenue":"lots"}`, "JSON_PARSER_ERROR"},
	} {
		a := do(t, c, token, http.MethodPatch, base+id, tc.body)
		assert.Equal(t, http.StatusBadRequest, a.status, tc.name)
		code, _ := a.errorCode(t)
		assert.Equal(t, tc.code, code, tc.name)
	}
	a := do(t, c, token, http.MethodGet, base+id+"?fields=Name,Nope", "")
	assert.Equal(t, http.StatusBadRequest, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "INVALID_FIELD", code)

	// 15- and 18-character ids name the same record; the 18-character one
	// ends in the case-safe suffix of the first 15.
	a = do(t, c, token, http.MethodGet, base+id[:15]+"?fields=Name", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, string(a.body), `"Id":"`+id+`"`)
	assert.Equal(t, http.StatusNotFound, do(t, c, token, http.MethodGet, base+"001000000000000AAA", "").status)
	wrongSuffix := id[:15] + "ZZZ"
	assert.Equal(t, http.StatusNotFound, do(t, c, token, http.MethodGet, base+wrongSuffix, "").status)

	require.Equal(t, http.StatusNoContent, do(t, c, token, http.MethodDelete, base+id[:15], "").status)
	a = do(t, c, token, http.MethodGet, base+id, "")
	assert.Equal(t, http.StatusNotFound, a.status)
	code, _ = a.errorCode(t)
	assert.Equal(t, "NOT_FOUND", code)
	for _, method := range []string{http.MethodPatch, http.MethodDelete} {
		a = do(t, c, token, method, base+id, `{"Name":"x"}`)
		assert.Equal(t, http.StatusNotFound, a.status, method)
		code, _ = a.errorCode(t)
		assert.Equal(t, "ENTITY_IS_DELETED", code, method)
	}
}

// REST API Developer Guide, "Upsert Records Using sObject Rows by External
// ID" and "Insert or Update (Upsert) a Record Using an External ID": no match
// creates (201), one match updates (200), several answer 300 with the
// matching records; updateOnly prevents the create; the body must not set Id
// or the external id field.
func TestUpsertByExternalID(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/Account/"
	type result struct {
		ID      string `json:"id"`
		Created bool   `json:"created"`
		Success bool   `json:"success"`
	}
	var r1, r2 result
	a := do(t, c, token, http.MethodPatch, base+"External_Id__c/E-1", `{"Name":"Acme"}`)
	require.Equal(t, http.StatusCreated, a.status, string(a.body))
	require.NoError(t, json.Unmarshal(a.body, &r1))
	assert.True(t, r1.Created && r1.Success)
	a = do(t, c, token, http.MethodPatch, base+"External_Id__c/E-1/", `{"Industry":"Energy"}`)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	require.NoError(t, json.Unmarshal(a.body, &r2))
	assert.Equal(t, r1.ID, r2.ID)
	assert.False(t, r2.Created)
	rec, _ := org.Data().Record("Account", r1.ID)
	assert.Equal(t, "E-1", rec["External_Id__c"])
	assert.Equal(t, "Energy", rec["Industry"])

	a = do(t, c, token, http.MethodPatch, base+"External_Id__c/E-2?updateOnly=true", `{"Name":"Never"}`)
	assert.Equal(t, http.StatusNotFound, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "NOT_FOUND", code)

	a = do(t, c, token, http.MethodPatch, base+"Name/Acme", `{"Industry":"Retail"}`)
	assert.Equal(t, http.StatusNotFound, a.status, "Name is not an external id")
	code, _ = a.errorCode(t)
	assert.Equal(t, "NOT_FOUND", code)
	a = do(t, c, token, http.MethodPatch, base+"External_Id__c/E-3", `{"Name":"X","External_Id__c":"E-3"}`)
	assert.Equal(t, http.StatusBadRequest, a.status, "the external id belongs in the URL only")
	a = do(t, c, token, http.MethodPatch, base+"External_Id__c/E-3", `{"Industry":"Retail"}`)
	assert.Equal(t, http.StatusBadRequest, a.status, "a create by upsert needs the required fields too")
	code, _ = a.errorCode(t)
	assert.Equal(t, "REQUIRED_FIELD_MISSING", code)

	// An int external id arrives in the URL as text and is stored as a number.
	a = do(t, c, token, http.MethodPatch, org.URL+"/services/data/v65.0/sobjects/Invoice__c/Number__c/42", `{"Name":"I-42","Amount__c":1}`)
	require.Equal(t, http.StatusCreated, a.status, string(a.body))
	a = do(t, c, token, http.MethodPatch, org.URL+"/services/data/v65.0/sobjects/Invoice__c/Number__c/42", `{"Amount__c":2}`)
	require.Equal(t, http.StatusOK, a.status, string(a.body))

	org.Data().Insert(t, "Account", map[string]any{"Name": "One", "Legacy_Code__c": "L-9"}, map[string]any{"Name": "Two", "Legacy_Code__c": "L-9"})
	a = do(t, c, token, http.MethodPatch, base+"Legacy_Code__c/L-9", `{"Industry":"Retail"}`)
	require.Equal(t, http.StatusMultipleChoices, a.status)
	var urls []string
	require.NoError(t, json.Unmarshal(a.body, &urls))
	require.Len(t, urls, 2)
	for _, u := range urls {
		assert.Regexp(t, `^/services/data/v65\.0/sobjects/Account/001\w{15}$`, u)
		id := u[strings.LastIndex(u, "/")+1:]
		rec, _ := org.Data().Record("Account", id)
		assert.Nil(t, rec["Industry"], "an ambiguous upsert changes nothing")
	}

	// GET and DELETE by external id ("sObject Rows by External ID").
	a = do(t, c, token, http.MethodGet, base+"External_Id__c/E-1", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, string(a.body), `"Id":"`+r1.ID+`"`)
	assert.Equal(t, http.StatusMultipleChoices, do(t, c, token, http.MethodGet, base+"Legacy_Code__c/L-9", "").status)
	assert.Equal(t, http.StatusNotFound, do(t, c, token, http.MethodGet, base+"External_Id__c/none", "").status)
	assert.Equal(t, http.StatusNoContent, do(t, c, token, http.MethodDelete, base+"External_Id__c/E-1", "").status)
	assert.Equal(t, http.StatusNotFound, do(t, c, token, http.MethodGet, base+"External_Id__c/E-1", "").status)
}

// REST API Developer Guide, "Versions" (no session needed; the only call
// without Sforce-Limit-Info), "API End-of-Life Policy" (31.0 and later are
// served, older ones answer 410), the curl examples' trailing slashes, and
// the error array for everything unrouted. For the body of the 410 and of
// 405, the Guide gives the status only; the fake sends the usual error array.
func TestRoutingAsSalesforceRoutes(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})

	a := do(t, c, "", http.MethodGet, org.URL+"/services/data/", "")
	require.Equal(t, http.StatusOK, a.status, "the versions list needs no token")
	assert.Empty(t, a.header.Get("Sforce-Limit-Info"))
	var versions []struct{ Version, URL, Label string }
	require.NoError(t, json.Unmarshal(a.body, &versions))
	assert.Equal(t, "31.0", versions[0].Version)
	assert.Equal(t, salesforcetest.APIVersion, versions[len(versions)-1].Version)
	assert.Equal(t, "Winter '27", versions[len(versions)-1].Label)
	assert.Equal(t, http.StatusOK, do(t, c, "", http.MethodGet, org.URL+"/services/data", "").status)

	for _, path := range []string{
		"/services/data/v65.0/", "/services/data/v65.0/limits/", "/services/data/v65.0/sobjects/",
		"/services/data/v65.0/sobjects/Account/", "/services/data/v65.0/sobjects/Account/describe/",
		"/services/data/v65.0/query/?q=" + url.QueryEscape("SELECT Id FROM Account"),
		"/services/data/v31.0/limits", "/services/data/v50.0/sobjects/Account",
	} {
		a := do(t, c, token, http.MethodGet, org.URL+path, "")
		assert.Equal(t, http.StatusOK, a.status, "%s: %s", path, a.body)
		assert.Equal(t, "application/json;charset=UTF-8", a.header.Get("Content-Type"), path)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/services/data/v30.0/limits", http.StatusGone, "GONE"},
		{http.MethodGet, "/services/data/v20.0/sobjects/Account", http.StatusGone, "GONE"},
		{http.MethodGet, "/services/data/v99.0/limits", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodGet, "/services/data/65.0/limits", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodGet, "/services/data/v65.0/nope", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodGet, "/services/data/v65.0/sobjects/Account/001/extra/segments", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodGet, "/services/nothing-here", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodGet, "/", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodPut, "/services/data/v65.0/sobjects/Account", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
		{http.MethodPost, "/services/data/v65.0/limits", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
		{http.MethodPost, "/services/data/v65.0/query", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
		{http.MethodDelete, "/services/data/", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
	} {
		a := do(t, c, token, tc.method, org.URL+tc.path, "")
		assert.Equal(t, tc.status, a.status, "%s %s: %s", tc.method, tc.path, a.body)
		code, _ := a.errorCode(t)
		assert.Equal(t, tc.code, code, "%s %s", tc.method, tc.path)
	}
	a = do(t, c, token, http.MethodPut, org.URL+"/services/data/v65.0/sobjects/Account", "")
	assert.Equal(t, "GET, POST", a.header.Get("Allow"))
}

// REST API Developer Guide, "Describe Global" and "sObject Basic Information".
func TestDescribeGlobalAndBasicInformation(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "Older"}, map[string]any{"Name": "Newer"})
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/sobjects", "")
	require.Equal(t, http.StatusOK, a.status)
	var global struct {
		Encoding     string
		MaxBatchSize int
		Sobjects     []struct {
			Name, KeyPrefix string
			Custom          bool
			URLs            map[string]string `json:"urls"`
		}
	}
	require.NoError(t, json.Unmarshal(a.body, &global))
	assert.Equal(t, "UTF-8", global.Encoding)
	assert.Equal(t, 200, global.MaxBatchSize)
	names := map[string]string{}
	for _, o := range global.Sobjects {
		names[o.Name] = o.KeyPrefix
	}
	for name, prefix := range map[string]string{"Account": "001", "Contact": "003", "Opportunity": "006", "Lead": "00Q", "Case": "500", "User": "005"} {
		assert.Equal(t, prefix, names[name], name)
	}
	assert.Contains(t, names, "Invoice__c")

	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/sobjects/Account", "")
	require.Equal(t, http.StatusOK, a.status)
	var info struct {
		ObjectDescribe struct{ Name string }
		RecentItems    []struct{ ID, Name string } `json:"recentItems"`
	}
	require.NoError(t, json.Unmarshal(a.body, &info))
	assert.Equal(t, "Account", info.ObjectDescribe.Name)
	require.Len(t, info.RecentItems, 2)
	assert.Equal(t, ids[1], info.RecentItems[0].ID, "most recent first")
}

// REST API Developer Guide, "Limit Info Header" (api-usage=N/M on every
// answer but the versions list), "Limits" (the documented keys), and "Status
// Codes and Error Responses" (403 REQUEST_LIMIT_EXCEEDED past the allocation).
func TestLimitsAllocationAndLimitInfoHeader(t *testing.T) {
	org := start(t, salesforcetest.Config{DailyAPIRequests: 5})
	c, token := login(t, org)
	header := regexp.MustCompile(`^api-usage=(\d+)/5$`)
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "api-usage=1/5", a.header.Get("Sforce-Limit-Info"))
	var lim map[string]struct{ Max, Remaining int64 }
	require.NoError(t, json.Unmarshal(a.body, &lim))
	assert.Equal(t, int64(5), lim["DailyApiRequests"].Max)
	assert.Equal(t, int64(4), lim["DailyApiRequests"].Remaining)
	for _, key := range []string{"DailyAsyncApexExecutions", "DailyBulkApiBatches", "DailyBulkV2QueryJobs",
		"DailyStreamingApiEvents", "DataStorageMB", "FileStorageMB", "HourlyODataCallout", "MassEmail", "SingleEmail"} {
		assert.Contains(t, lim, key)
	}
	assert.GreaterOrEqual(t, len(lim), 40)

	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/sobjects/Nope", "")
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Regexp(t, header, a.header.Get("Sforce-Limit-Info"), "errors carry the header too")
	a = do(t, c, token, http.MethodGet, org.URL+"/services/apexrest/anything", "")
	assert.Equal(t, "api-usage=3/5", a.header.Get("Sforce-Limit-Info"), "Apex REST calls count too")
	for range 2 {
		require.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/", "").status)
	}
	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "")
	assert.Equal(t, http.StatusForbidden, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "REQUEST_LIMIT_EXCEEDED", code)
	assert.Equal(t, "api-usage=5/5", a.header.Get("Sforce-Limit-Info"))
	assert.Equal(t, http.StatusOK, do(t, c, "", http.MethodGet, org.URL+"/services/data/", "").status, "the versions list does not count")

	org.Faults().SetAPIUsage(0)
	assert.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "").status)
}

// "Status Codes and Error Responses": 403 REQUEST_LIMIT_EXCEEDED for the
// concurrent request limit. Salesforce counts only calls running 20 s or
// more; the fake counts every call in flight (Config.MaxConcurrentAPIRequests).
func TestConcurrentRequestLimit(t *testing.T) {
	org := start(t, salesforcetest.Config{MaxConcurrentAPIRequests: 1})
	c, token := login(t, org)
	entered, release := make(chan struct{}), make(chan struct{})
	org.Setup().Handle("/services/apexrest/slow", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		assert.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, org.URL+"/services/apexrest/slow", "").status)
	}()
	<-entered
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "")
	assert.Equal(t, http.StatusForbidden, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "REQUEST_LIMIT_EXCEEDED", code)
	close(release)
	wg.Wait()
	assert.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "").status)
}

// REST API Developer Guide, "Query" and "QueryAll" with "Query Options
// Header": pages of 2,000 by default, batchSize honoured within 200–2,000,
// nextRecordsUrl until done; queryAll includes deleted records; a query
// Salesforce refuses is a 400 error array with the soql package's code.
func TestQueryPagingBatchSizeAndErrors(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	recs := make([]map[string]any, 2450)
	for i := range recs {
		recs[i] = map[string]any{"Name": fmt.Sprintf("A%04d", i)}
	}
	ids := org.Data().Insert(t, "Account", recs...)
	base := org.URL + "/services/data/v65.0/"
	pages := func(path string, headers ...string) []int {
		var sizes []int
		next := base + path
		for next != "" {
			a := do(t, c, token, http.MethodGet, next, "", headers...)
			require.Equal(t, http.StatusOK, a.status, string(a.body))
			var page struct {
				TotalSize      int
				Done           bool
				NextRecordsURL string `json:"nextRecordsUrl"`
				Records        []json.RawMessage
			}
			require.NoError(t, json.Unmarshal(a.body, &page))
			sizes = append(sizes, len(page.Records))
			next = ""
			if !page.Done {
				next = org.URL + page.NextRecordsURL
			}
			require.Less(t, len(sizes), 50)
		}
		return sizes
	}
	q := "query?q=" + url.QueryEscape("SELECT Id, Name FROM Account ORDER BY Name")
	assert.Equal(t, []int{2000, 450}, pages(q))
	assert.Equal(t, []int{1000, 1000, 450}, pages(q, "Sforce-Query-Options", "batchSize=1000"))
	assert.Equal(t, append(slices.Repeat([]int{200}, 12), 50), pages(q, "Sforce-Query-Options", "batchSize=50"), "below the minimum: 200")
	assert.Equal(t, []int{2000, 450}, pages(q, "Sforce-Query-Options", "batchSize=5000"), "above the maximum: 2000")

	require.Equal(t, http.StatusNoContent, do(t, c, token, http.MethodDelete, base+"sobjects/Account/"+ids[0], "").status)
	assert.Equal(t, []int{2000, 449}, pages(q))
	assert.Equal(t, []int{2000, 450}, pages("queryAll?q="+url.QueryEscape("SELECT Id FROM Account")))

	for _, tc := range []struct{ q, code string }{
		{"SELECT Id FROM Acount", "INVALID_TYPE"},
		{"SELECT Id, Nmae FROM Account", "INVALID_FIELD"},
		{"SELEKT Id FROM Account", "MALFORMED_QUERY"},
		{"", "MALFORMED_QUERY"},
	} {
		a := do(t, c, token, http.MethodGet, base+"query?q="+url.QueryEscape(tc.q), "")
		assert.Equal(t, http.StatusBadRequest, a.status, tc.q)
		code, _ := a.errorCode(t)
		assert.Equal(t, tc.code, code, tc.q)
	}
	a := do(t, c, token, http.MethodGet, base+"query/01gnotalocator-2000", "")
	assert.Equal(t, http.StatusBadRequest, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "INVALID_QUERY_LOCATOR", code)
}

// Salesforce Help, "Identity URLs" and "UserInfo Endpoint": the token's id
// URL and /services/oauth2/userinfo describe the session's user; a call
// without a valid session gets 403 Bad_OAuth_Token (the identity service's
// text answer; the pages do not list errors).
func TestIdentityURLAndUserinfo(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	ids := regexp.MustCompile(`^` + regexp.QuoteMeta(org.URL) + `/id/(00D\w{15})/(005\w{15})$`)
	var identityURL string
	{
		a := do(t, c, token, http.MethodGet, org.URL+"/services/oauth2/userinfo", "")
		require.Equal(t, http.StatusOK, a.status, string(a.body))
		var ui map[string]any
		require.NoError(t, json.Unmarshal(a.body, &ui))
		assert.Equal(t, org.Username, ui["preferred_username"])
		identityURL, _ = ui["sub"].(string)
		require.Regexp(t, ids, identityURL)
	}
	a := do(t, c, token, http.MethodGet, identityURL, "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var id map[string]any
	require.NoError(t, json.Unmarshal(a.body, &id))
	m := ids.FindStringSubmatch(identityURL)
	assert.Equal(t, m[1], id["organization_id"])
	assert.Equal(t, m[2], id["user_id"])
	assert.Equal(t, org.Username, id["username"])
	urls, _ := id["urls"].(map[string]any)
	assert.Equal(t, org.StandardURL+"/services/data/v{version}/", urls["rest"], "the identity's URLs start with the token's instance_url")

	a = do(t, c, "not-a-session", http.MethodGet, identityURL, "")
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "Bad_OAuth_Token", string(a.body))
	a = do(t, c, token, http.MethodGet, org.URL+"/id/"+m[1]+"/005000000000000AAA", "")
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "Bad_Id", string(a.body))
}

// The fake's own control endpoint (not a Salesforce resource): counters and
// session expiry for tests in other languages.
func TestControlEndpoint(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	require.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "").status)
	a := do(t, c, "", http.MethodGet, org.URL+"/__sfmtls/stats", "")
	require.Equal(t, http.StatusOK, a.status)
	var st map[string]int64
	require.NoError(t, json.Unmarshal(a.body, &st))
	assert.Equal(t, int64(1), st["tokensIssued"])
	assert.Equal(t, int64(1), st["apiRequests"])
	assert.Equal(t, int64(1), st["apiUsage"])
	assert.Equal(t, int64(salesforcetest.DefaultDailyAPIRequests), st["apiAllocation"])
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, c, "", http.MethodGet, org.URL+"/__sfmtls/expire-sessions", "").status)
	assert.Equal(t, http.StatusNoContent, do(t, c, "", http.MethodPost, org.URL+"/__sfmtls/expire-sessions", "").status)
	assert.Equal(t, http.StatusUnauthorized, do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "").status)
}

// Declarations the org refuses say why.
func TestSchemaDeclarationErrors(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	var se *salesforcetest.SchemaError
	for _, obj := range []salesforcetest.SObject{
		{Name: "Invoice"}, {Name: "Account"}, {Name: "Bad__c", KeyPrefix: "001"},
		{Name: "Ok__c", Fields: []salesforcetest.Field{{Name: "Plain", Type: salesforcetest.TypeString}}},
		{Name: "Ok2__c", Fields: []salesforcetest.Field{{Name: "X__c", Type: "blob"}}},
		{Name: "Ok3__c", Fields: []salesforcetest.Field{{Name: "Ref__c", Type: salesforcetest.TypeReference}}},
	} {
		assert.ErrorAs(t, org.Setup().DefineObject(obj), &se, obj.Name)
	}
	assert.ErrorAs(t, org.Setup().DefineFields("Account", salesforcetest.Field{Name: "Name", Type: salesforcetest.TypeString}), &se)
	assert.ErrorAs(t, org.Setup().DefineFields("Nope", salesforcetest.Field{Name: "A__c", Type: salesforcetest.TypeString}), &se)
	_, err := salesforcetest.Start(salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Invoice"}}})
	assert.ErrorAs(t, err, &se)

	var apiErr *salesforcetest.APIError
	_, err = org.Data().Create("Account", map[string]any{"Industry": "Energy"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "REQUIRED_FIELD_MISSING", apiErr.ErrorCode)
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as FailNow does, without failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Insert is for test setup: a record Salesforce would refuse fails the test
// with Salesforce's error code and message (no panic), after the records
// before it were created.
func TestInsertFailsTheTestWithTheSalesforceError(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	rec := &fatalRecorder{TB: t}
	done := make(chan []string)
	go func() {
		var ids []string
		defer func() { done <- ids }()
		ids = org.Data().Insert(rec, "Account", map[string]any{"Name": "Kept"}, map[string]any{"Industry": "Energy"}, map[string]any{"Name": "Never"})
	}()
	assert.Nil(t, <-done, "Insert ended at Fatalf")
	assert.Equal(t, "salesforcetest: Insert Account record 1: salesforcetest: 400 REQUIRED_FIELD_MISSING: Required fields are missing: [Name]", rec.msg)
	c, token := login(t, org)
	ans := do(t, c, token, "GET", org.URL+"/services/data/v65.0/query?q="+url.QueryEscape("SELECT Name FROM Account"), "")
	require.Equal(t, 200, ans.status)
	var page struct {
		TotalSize int `json:"totalSize"`
		Records   []struct{ Name string }
	}
	require.NoError(t, json.Unmarshal(ans.body, &page))
	require.Equal(t, 1, page.TotalSize)
	assert.Equal(t, "Kept", page.Records[0].Name)

	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "A"}, map[string]any{"Name": "B"})
	assert.Len(t, ids, 2)
}

// REST API Developer Guide, "Create Records Using sObject Rows by External ID":
// "As a special case, in API version 37.0 and later, you can create a record
// with a POST request to /services/data/vXX.X/sobjects/sObjectName/Id", the
// same URI for each new record, and "Do not specify Id or an external ID field
// in the request body or an error is generated". The Guide does not say what
// versions before 37.0 answer; the fake keeps its 405 there.
func TestCreateByPostToSObjectRowsByExternalIDWithId(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	byID := org.URL + "/services/data/v65.0/sobjects/Account/Id"

	first := createdID(t, do(t, c, token, http.MethodPost, byID, `{"Name":"Acme"}`))
	second := createdID(t, do(t, c, token, http.MethodPost, byID, `{"Name":"Globex"}`))
	assert.NotEqual(t, first, second, "each POST to the same URI creates a record")
	rec, ok := org.Data().Record("Account", second)
	require.True(t, ok)
	assert.Equal(t, "Globex", rec["Name"])

	withID := do(t, c, token, http.MethodPost, byID, `{"Id":"`+first+`","Name":"Again"}`)
	assert.Equal(t, http.StatusBadRequest, withID.status, string(withID.body))

	old := do(t, c, token, http.MethodPost, org.URL+"/services/data/v36.0/sobjects/Account/Id", `{"Name":"Acme"}`)
	assert.Equal(t, http.StatusMethodNotAllowed, old.status, string(old.body))
}
