package salesforcetest_test

import (
	"net/http"
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
	rec, ok := org.Record("Account", id)
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
