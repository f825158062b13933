package salesforcetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// What real clients call (issue 21): each behaviour cites its page.

// The Salesforce CLI stores the instance URL with a trailing slash and calls
// //services/data/...; Salesforce serves the resource (no page documents it;
// the CLI works against real orgs so, and forcedotcom/sfdx-core pull request
// 1310 fixed one such URL long in use). Go's ServeMux would answer 307 to a
// relative Location, which jsforce follows as a GET.
func TestDoubleSlashPathsServeTheResource(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	a := do(t, c, token, http.MethodGet, org.URL+"//services/data/v65.0/limits", "")
	require.Equal(t, http.StatusOK, a.status, "%s %s", a.header, a.body)
	assert.Contains(t, string(a.body), "DailyApiRequests")

	a = do(t, c, "", http.MethodGet, org.URL+"//services/data/", "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Contains(t, string(a.body), `"version":"65.0"`)

	// A write, which a redirect followed as a GET would lose.
	id := createdID(t, do(t, c, token, http.MethodPost, org.URL+"//services/data/v65.0//sobjects/Account/", `{"Name":"Slashes"}`))
	rec, ok := org.Data().Record("Account", id)
	require.True(t, ok)
	assert.Equal(t, "Slashes", rec["Name"])
}

// REST API Developer Guide, "Create a Record"
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api/dome_sobject_create.htm):
// a body with an Id ("id" in the page's example) answers
// [{"message":"The Id field should not be specified in the sobject data.","errorCode":"INVALID_FIELD"}].
func TestCreateWithIdAnswersAsTheGuideShows(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	for _, body := range []string{`{"id":"001D000000IqhSLIAZ","Name":"Express Donuts and Pies"}`, `{"Name":"Acme","Id":"001000000000001"}`} {
		a := do(t, c, token, http.MethodPost, org.URL+"/services/data/v65.0/sobjects/Account/", body)
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.JSONEq(t, `[{"message":"The Id field should not be specified in the sobject data.","errorCode":"INVALID_FIELD"}]`, string(a.body))
	}
	assert.Equal(t, 0, countRecords(t, org, "Account"))
}

// REST API Developer Guide, "Versions" and "List Available REST Resources"
// (https://developer.salesforce.com/docs/platform/api-rest/guide/dome-discoveryresource.html):
// the current release is Winter '27, 68.0, which the guide's examples call;
// the resources of a version include identity (the session user's identity
// URL) and composite, which jsforce's identity() and composite calls read.
func TestVersionsUpToTheCurrentReleaseAndTheResourcesList(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	a := do(t, c, "", http.MethodGet, org.URL+"/services/data/", "")
	require.Equal(t, http.StatusOK, a.status)
	var versions []struct{ Version, URL, Label string }
	require.NoError(t, json.Unmarshal(a.body, &versions))
	got := map[string]string{}
	for _, v := range versions {
		got[v.Version] = v.Label
	}
	assert.Equal(t, "Spring '26", got["66.0"])
	assert.Equal(t, "Summer '26", got["67.0"])
	assert.Equal(t, "Winter '27", got["68.0"])
	assert.Equal(t, "68.0", versions[len(versions)-1].Version)
	assert.Equal(t, "68.0", salesforcetest.APIVersion)

	for _, v := range []string{"66.0", "67.0", "68.0"} {
		a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v"+v+"/limits", "")
		assert.Equal(t, http.StatusOK, a.status, "%s: %s", v, a.body)
	}
	assert.Equal(t, http.StatusNotFound, do(t, c, token, http.MethodGet, org.URL+"/services/data/v69.0/limits", "").status)

	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/", "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var resources map[string]string
	require.NoError(t, json.Unmarshal(a.body, &resources))
	for name, want := range map[string]string{
		"composite": "/services/data/v68.0/composite", "sobjects": "/services/data/v68.0/sobjects",
		"query": "/services/data/v68.0/query", "tooling": "/services/data/v68.0/tooling",
		"parameterizedSearch": "/services/data/v68.0/parameterizedSearch",
	} {
		assert.Equal(t, want, resources[name], name)
	}
	require.Contains(t, resources, "identity")
	id := do(t, c, token, http.MethodGet, resources["identity"], "")
	require.Equal(t, http.StatusOK, id.status, "the identity URL answers: %s", id.body)
	assert.Contains(t, string(id.body), `"username":"`+org.Username+`"`)
}

// The query resource with columns=true answers columnMetadata, not rows: the
// Salesforce CLI's `sf data query` asks for it after the query to lay out its
// table, reading columnName, displayName, aggregate and joinColumns
// (salesforcecli/plugin-data, src/commands/data/query.ts, retrieveColumns).
// Salesforce does not document the parameter; the shape is what the CLI
// reads from real orgs.
func TestQueryColumnsTrueAnswersColumnMetadata(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})
	q := func(soql string) map[string]any {
		t.Helper()
		a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/query?q="+url.QueryEscape(soql)+"&columns=true", "")
		require.Equal(t, http.StatusOK, a.status, string(a.body))
		var out map[string]any
		require.NoError(t, json.Unmarshal(a.body, &out))
		assert.NotContains(t, out, "records")
		return out
	}
	out := q("SELECT Id, Name, NumberOfEmployees, Owner.Name, (SELECT LastName FROM Contacts) FROM Account")
	assert.Equal(t, "Account", out["entityName"])
	assert.Equal(t, "001", out["keyPrefix"])
	assert.Equal(t, true, out["idSelected"])
	cols, _ := out["columnMetadata"].([]any)
	require.Len(t, cols, 5)
	col := func(i int) map[string]any { return cols[i].(map[string]any) }
	assert.Equal(t, "Id", col(0)["columnName"])
	assert.Equal(t, "Id", col(0)["apexType"])
	assert.Equal(t, "Name", col(1)["columnName"])
	assert.Equal(t, true, col(1)["textType"])
	assert.Equal(t, true, col(1)["insertable"])
	assert.Equal(t, true, col(2)["numberType"])
	assert.Equal(t, "Owner", col(3)["columnName"], "a parent field nests under its relationship")
	assert.Equal(t, false, col(3)["aggregate"])
	owner := col(3)["joinColumns"].([]any)
	require.Len(t, owner, 1)
	assert.Equal(t, "Name", owner[0].(map[string]any)["columnName"])
	assert.Equal(t, "Contacts", col(4)["columnName"], "a subquery is an aggregate column of its fields")
	assert.Equal(t, true, col(4)["aggregate"])
	sub := col(4)["joinColumns"].([]any)
	require.Len(t, sub, 1)
	assert.Equal(t, "LastName", sub[0].(map[string]any)["columnName"])

	out = q("SELECT COUNT(Id) FROM Account")
	cols, _ = out["columnMetadata"].([]any)
	require.Len(t, cols, 1)
	assert.Equal(t, "expr0", col(0)["columnName"])
	assert.Equal(t, "COUNT(Id)", col(0)["displayName"])
	assert.Equal(t, true, col(0)["aggregate"])

	// Without columns=true the same query answers rows.
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/query?q="+url.QueryEscape("SELECT Name FROM Account"), "")
	assert.Contains(t, string(a.body), `"records"`)
	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/query?q="+url.QueryEscape("SELECT Nope FROM Account")+"&columns=true", "")
	assert.Equal(t, http.StatusBadRequest, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "INVALID_FIELD", code)
}
