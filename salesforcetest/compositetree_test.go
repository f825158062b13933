package salesforcetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

type treeAnswer struct {
	HasErrors bool `json:"hasErrors"`
	Results   []struct {
		ReferenceID string `json:"referenceId"`
		ID          string `json:"id"`
		Errors      []struct {
			StatusCode string   `json:"statusCode"`
			Message    string   `json:"message"`
			Fields     []string `json:"fields"`
		} `json:"errors"`
	} `json:"results"`
}

func postTree(t *testing.T, org *salesforcetest.Org, object, body string) (int, treeAnswer) {
	t.Helper()
	c, token := login(t, org)
	a := do(t, c, token, http.MethodPost, org.URL+"/services/data/v68.0/composite/tree/"+object, body)
	var out treeAnswer
	require.NoError(t, json.Unmarshal(a.body, &out), string(a.body))
	return a.status, out
}

// REST API Developer Guide, "sObject Tree" and "sObject Tree Response Body"
// (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobject-tree.html):
// nested records are created with their parent's lookup set, root records
// first across all trees, then the next level; 201 with each reference id's
// record id.
func TestCompositeTreeCreatesNestedRecords(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	status, out := postTree(t, org, "Account", `{"records":[
		{"attributes":{"type":"Account","referenceId":"ref1"},"Name":"SampleAccount1","Industry":"Banking",
		 "Contacts":{"records":[
			{"attributes":{"type":"Contact","referenceId":"ref2"},"LastName":"Smith","Email":"smith@example.com"},
			{"attributes":{"type":"Contact","referenceId":"ref3"},"LastName":"Evans"}]}},
		{"attributes":{"type":"Account","referenceId":"ref4"},"Name":"SampleAccount2"}]}`)
	require.Equal(t, http.StatusCreated, status)
	assert.False(t, out.HasErrors)
	var refs []string
	ids := map[string]string{}
	for _, r := range out.Results {
		refs = append(refs, r.ReferenceID)
		ids[r.ReferenceID] = r.ID
	}
	assert.Equal(t, []string{"ref1", "ref4", "ref2", "ref3"}, refs, "root records first, as the guide's example answers")
	contact, ok := org.Data().Record("Contact", ids["ref2"])
	require.True(t, ok)
	assert.Equal(t, ids["ref1"], contact["AccountId"], "a child's lookup is its parent's new id")
	assert.Equal(t, 2, countRecords(t, org, "Account"))
	assert.Equal(t, 2, countRecords(t, org, "Contact"))
}

// "If an error occurs while creating a record, the entire request fails. In
// this case, the response contains only the reference ID of the record that
// caused the error and the error information" ("sObject Tree"): 400, and no
// record of the request is kept.
func TestCompositeTreeIsAllOrNothing(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	status, out := postTree(t, org, "Account", `{"records":[
		{"attributes":{"type":"Account","referenceId":"ref1"},"Name":"Kept?",
		 "Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"ref2"},"LastName":"Smith","Email":"123"}]}}]}`)
	require.Equal(t, http.StatusBadRequest, status)
	assert.True(t, out.HasErrors)
	require.Len(t, out.Results, 1)
	assert.Equal(t, "ref2", out.Results[0].ReferenceID)
	require.Len(t, out.Results[0].Errors, 1)
	assert.Equal(t, "INVALID_EMAIL_ADDRESS", out.Results[0].Errors[0].StatusCode)
	assert.Equal(t, []string{"Email"}, out.Results[0].Errors[0].Fields)
	assert.Equal(t, 0, countRecords(t, org, "Account"), "the account created before the failure is undone")
	assert.Equal(t, 0, countRecords(t, org, "Contact"))

	// Duplicate reference ids: one result per instance ("sObject Tree Response Body").
	status, out = postTree(t, org, "Account", `{"records":[
		{"attributes":{"type":"Account","referenceId":"dup"},"Name":"A"},
		{"attributes":{"type":"Account","referenceId":"dup"},"Name":"B"}]}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Len(t, out.Results, 2)
	assert.Equal(t, 0, countRecords(t, org, "Account"))
}

// "Up to a total of 200 records across all trees" ("sObject Tree"): 200
// records are created, 201 are refused whole.
func TestCompositeTreeLimitOf200Records(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	body := func(n int) string {
		recs := make([]string, n)
		for i := range recs {
			recs[i] = fmt.Sprintf(`{"attributes":{"type":"Account","referenceId":"r%d"},"Name":"A%d"}`, i, i)
		}
		return `{"records":[` + strings.Join(recs, ",") + `]}`
	}
	status, out := postTree(t, org, "Account", body(201))
	require.Equal(t, http.StatusBadRequest, status)
	assert.True(t, out.HasErrors)
	assert.Equal(t, "LIMIT_EXCEEDED", out.Results[0].Errors[0].StatusCode)
	assert.Equal(t, 0, countRecords(t, org, "Account"))

	status, out = postTree(t, org, "Account", body(200))
	require.Equal(t, http.StatusCreated, status)
	assert.Len(t, out.Results, 200)
	assert.Equal(t, 200, countRecords(t, org, "Account"))
}

// REST API Developer Guide, "Composite Batch" and "Batch Request Body"
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/requests_composite_batch.htm):
// subrequests run in order, each on its own, each answering its status and
// result; a failure does not undo the others; with haltOnError the rest
// answer 412 BATCH_PROCESSING_HALTED; the top level is 200 with hasErrors.
func TestCompositeBatch(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	id := createdID(t, do(t, c, token, http.MethodPost, org.URL+"/services/data/v68.0/sobjects/Account", `{"Name":"Old"}`))
	batch := func(body string) (int, struct {
		HasErrors bool
		Results   []struct {
			StatusCode int             `json:"statusCode"`
			Result     json.RawMessage `json:"result"`
		}
	}) {
		a := do(t, c, token, http.MethodPost, org.URL+"/services/data/v68.0/composite/batch", body)
		var out struct {
			HasErrors bool
			Results   []struct {
				StatusCode int             `json:"statusCode"`
				Result     json.RawMessage `json:"result"`
			}
		}
		if a.status == http.StatusOK {
			require.NoError(t, json.Unmarshal(a.body, &out), string(a.body))
		}
		return a.status, out
	}

	status, out := batch(`{"batchRequests":[
		{"method":"PATCH","url":"v68.0/sobjects/account/` + id + `","richInput":{"Name":"NewName"}},
		{"method":"GET","url":"v68.0/sobjects/account/` + id + `?fields=Name"},
		{"method":"POST","url":"v68.0/sobjects/Account","richInput":{"Industry":"no name"}},
		{"method":"GET","url":"v68.0/query?q=SELECT+Name+FROM+Account"}]}`)
	require.Equal(t, http.StatusOK, status)
	assert.True(t, out.HasErrors)
	require.Len(t, out.Results, 4)
	assert.Equal(t, 204, out.Results[0].StatusCode)
	assert.JSONEq(t, `null`, string(out.Results[0].Result))
	assert.Equal(t, 200, out.Results[1].StatusCode)
	assert.Contains(t, string(out.Results[1].Result), `"Name":"NewName"`, "a later subrequest sees an earlier one's commit")
	assert.Equal(t, 400, out.Results[2].StatusCode)
	assert.Contains(t, string(out.Results[2].Result), "REQUIRED_FIELD_MISSING")
	assert.Equal(t, 200, out.Results[3].StatusCode, "the batch goes on after a failure")
	assert.Contains(t, string(out.Results[3].Result), `"totalSize":1`)

	status, out = batch(`{"haltOnError":true,"batchRequests":[
		{"method":"POST","url":"v68.0/sobjects/Account","richInput":{"Name":"Committed"}},
		{"method":"GET","url":"v68.0/sobjects/Account/001000000000000AAA"},
		{"method":"POST","url":"v68.0/sobjects/Account","richInput":{"Name":"Never"}}]}`)
	require.Equal(t, http.StatusOK, status)
	assert.True(t, out.HasErrors)
	assert.Equal(t, 201, out.Results[0].StatusCode)
	assert.Equal(t, 404, out.Results[1].StatusCode)
	assert.Equal(t, 412, out.Results[2].StatusCode)
	assert.Contains(t, string(out.Results[2].Result), "BATCH_PROCESSING_HALTED")
	assert.Equal(t, 2, countRecords(t, org, "Account"), "the first subrequest stays committed; the third never ran")

	// Malformed: 400 before anything runs, whatever haltOnError says.
	status, _ = batch(`{"batchRequests":[{"method":"POST","url":"v68.0/sobjects/Account","richInput":{"Name":"X"}},{"method":"FETCH","url":"v68.0/limits"}]}`)
	assert.Equal(t, http.StatusBadRequest, status)
	subs := make([]string, 26)
	for i := range subs {
		subs[i] = `{"method":"GET","url":"v68.0/limits"}`
	}
	status, _ = batch(`{"batchRequests":[` + strings.Join(subs, ",") + `]}`)
	assert.Equal(t, http.StatusBadRequest, status, "up to 25 subrequests")
	// A subrequest's version is 34.0 to the batch's own.
	for _, u := range []string{"v33.0/limits", "v69.0/limits", "sobjects/Account"} {
		status, _ = batch(`{"batchRequests":[{"method":"GET","url":"` + u + `"}]}`)
		assert.Equal(t, http.StatusBadRequest, status, u)
	}
	status, out = batch(`{"batchRequests":[{"method":"GET","url":"/services/data/v34.0/limits"}]}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, 200, out.Results[0].StatusCode)
	assert.Equal(t, 2, countRecords(t, org, "Account"))

	// "Each subrequest counts against rate limits": the call and its two subrequests.
	usage := func() int64 {
		var st map[string]int64
		require.NoError(t, json.Unmarshal(do(t, c, "", http.MethodGet, org.URL+"/__sfmtls/stats", "").body, &st))
		return st["apiUsage"]
	}
	before := usage()
	status, _ = batch(`{"batchRequests":[{"method":"GET","url":"v68.0/limits"},{"method":"GET","url":"v68.0/limits"}]}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, before+3, usage())

	// The composite resources list ("Get a List of Composite Resources").
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/composite/", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, string(a.body), `"batch":"/services/data/v68.0/composite/batch"`)
	assert.Contains(t, string(a.body), `"tree":"/services/data/v68.0/composite/tree"`)
}
