package salesforcetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// SOQL and SOSL Reference, "GROUP BY" and "Considerations for GROUP BY"
// (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_group_by_considerations.htm):
// the query resource answers AggregateResult records; an aggregate query is
// not paged ("if a query includes a GROUP BY clause, you can't use
// queryMore()"), so up to 2,000 rows come in one page whatever the batch
// size, and more are refused.
func TestQueryGroupByOverREST(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	recs := make([]map[string]any, 0, 2001)
	for i := range 2001 {
		recs = append(recs, map[string]any{"Name": fmt.Sprintf("Acct %04d", i), "Industry": []string{"Energy", "Media"}[i%2]})
	}
	org.Data().Insert(t, "Account", recs...)
	query := func(q string, headers ...string) answer {
		return do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/query?q="+url.QueryEscape(q), "", headers...)
	}

	a := query("SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry ORDER BY COUNT(Id) DESC")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.JSONEq(t, `{"totalSize":2,"done":true,"records":[
		{"attributes":{"type":"AggregateResult"},"Industry":"Energy","n":1001},
		{"attributes":{"type":"AggregateResult"},"Industry":"Media","n":1000}]}`, string(a.body))

	a = query("SELECT Name, COUNT(Id) FROM Account GROUP BY Name LIMIT 2000", "Sforce-Query-Options", "batchSize=200")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var page struct {
		TotalSize      int
		Done           bool
		NextRecordsURL string `json:"nextRecordsUrl"`
		Records        []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(a.body, &page))
	assert.Equal(t, 2000, page.TotalSize)
	assert.True(t, page.Done)
	assert.Empty(t, page.NextRecordsURL)
	assert.Len(t, page.Records, 2000)

	a = query("SELECT Name, COUNT(Id) FROM Account GROUP BY Name")
	require.Equal(t, http.StatusBadRequest, a.status, string(a.body))
	code, _ := a.errorCode(t)
	assert.Equal(t, "EXCEEDED_ID_LIMIT", code)

	// The same in a Composite query subrequest.
	sub := do(t, c, token, http.MethodPost, org.URL+"/services/data/v65.0/composite",
		`{"compositeRequest":[{"method":"GET","referenceId":"q","url":"/services/data/v65.0/query?q=`+
			url.QueryEscape("SELECT Name, COUNT(Id) FROM Account GROUP BY Name")+`"}]}`)
	require.Equal(t, http.StatusOK, sub.status, string(sub.body))
	assert.Contains(t, string(sub.body), `"httpStatusCode":400`)
	assert.Contains(t, string(sub.body), "EXCEEDED_ID_LIMIT")

	a = query("SELECT Name, Industry, COUNT(Id) FROM Account GROUP BY Industry")
	require.Equal(t, http.StatusBadRequest, a.status, string(a.body))
	code, _ = a.errorCode(t)
	assert.Equal(t, "MALFORMED_QUERY", code)
}

// SOQL and SOSL Reference, "SELECT", the FIELDS() keyword
// (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_fields.htm):
// FIELDS(CUSTOM) selects the schema's custom fields; FIELDS(ALL) needs a
// LIMIT of at most 200; a duplicate is INVALID_FIELD.
func TestQueryFieldsFunctionOverREST(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme", "External_Id__c": "A-1"})
	query := func(q string) answer {
		return do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/query?q="+url.QueryEscape(q), "")
	}
	a := query("SELECT Name, FIELDS(CUSTOM) FROM Account LIMIT 200")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var page struct{ Records []map[string]any }
	require.NoError(t, json.Unmarshal(a.body, &page))
	require.Len(t, page.Records, 1)
	assert.Equal(t, "A-1", page.Records[0]["External_Id__c"])
	assert.Contains(t, page.Records[0], "Legacy_Code__c")
	assert.NotContains(t, page.Records[0], "Industry")

	a = query("SELECT FIELDS(STANDARD) FROM Account")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Contains(t, string(a.body), `"Industry":null`)
	assert.NotContains(t, string(a.body), "External_Id__c")

	for q, want := range map[string]string{
		"SELECT FIELDS(ALL) FROM Account":                "MALFORMED_QUERY",
		"SELECT FIELDS(ALL) FROM Account LIMIT 500":      "MALFORMED_QUERY",
		"SELECT Name, FIELDS(ALL) FROM Account LIMIT 10": "INVALID_FIELD",
	} {
		a := query(q)
		require.Equal(t, http.StatusBadRequest, a.status, q)
		code, _ := a.errorCode(t)
		assert.Equal(t, want, code, q)
	}
}
