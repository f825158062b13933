package salesforcetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

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

// REST API Developer Guide, "sObject Describe": recordTypeInfos lists the
// Master record type (012000000000000AAA) of an object without record
// types, with its layout URL; "Get Layouts and Descriptions for a Specified
// Object" answers layouts, recordTypeMappings and recordTypeSelectorRequired,
// and a layout by record type id.
func TestDescribeRecordTypeInfosAndLayouts(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/sobjects/Account/describe", "")
	require.Equal(t, http.StatusOK, a.status)
	var d struct {
		URLs            map[string]string `json:"urls"`
		RecordTypeInfos []struct {
			Master, Available, DefaultRecordTypeMapping bool
			Name                                        string
			RecordTypeID                                string `json:"recordTypeId"`
			URLs                                        map[string]string
		} `json:"recordTypeInfos"`
	}
	require.NoError(t, json.Unmarshal(a.body, &d))
	assert.Equal(t, "/services/data/v68.0/sobjects/Account/describe/layouts", d.URLs["layouts"])
	require.Len(t, d.RecordTypeInfos, 1)
	rt := d.RecordTypeInfos[0]
	assert.True(t, rt.Master && rt.Available && rt.DefaultRecordTypeMapping)
	assert.Equal(t, "Master", rt.Name)
	assert.Equal(t, "012000000000000AAA", rt.RecordTypeID)
	require.Equal(t, "/services/data/v68.0/sobjects/Account/describe/layouts/012000000000000AAA", rt.URLs["layout"])

	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/sobjects/Account/describe/layouts/", "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var all struct {
		Layouts []struct {
			ID                   string `json:"id"`
			DetailLayoutSections []struct {
				LayoutRows []struct {
					LayoutItems []struct {
						Label            string `json:"label"`
						LayoutComponents []struct{ Type, Value string }
					}
				}
			}
			RelatedLists []struct{ Name, Sobject string }
		}
		RecordTypeMappings []struct {
			LayoutID     string `json:"layoutId"`
			RecordTypeID string `json:"recordTypeId"`
		}
		RecordTypeSelectorRequired []bool
	}
	require.NoError(t, json.Unmarshal(a.body, &all))
	require.Len(t, all.Layouts, 1)
	require.Len(t, all.RecordTypeMappings, 1)
	assert.Equal(t, all.Layouts[0].ID, all.RecordTypeMappings[0].LayoutID)
	assert.Equal(t, []bool{false}, all.RecordTypeSelectorRequired)
	var fields []string
	for _, row := range all.Layouts[0].DetailLayoutSections[0].LayoutRows {
		for _, item := range row.LayoutItems {
			fields = append(fields, item.LayoutComponents[0].Value)
		}
	}
	assert.Contains(t, fields, "Name")
	assert.Contains(t, fields, "Industry")
	var related []string
	for _, rl := range all.Layouts[0].RelatedLists {
		related = append(related, rl.Name)
	}
	assert.Contains(t, related, "Contacts")

	one := do(t, c, token, http.MethodGet, org.URL+rt.URLs["layout"], "")
	require.Equal(t, http.StatusOK, one.status)
	assert.Contains(t, string(one.body), `"id":"`+all.Layouts[0].ID+`"`)
	assert.Equal(t, http.StatusNotFound, do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/sobjects/Account/describe/layouts/0125c000000oIN9AAM", "").status)
}

// REST API Developer Guide, "sObject Describe" and "Get a List of Objects If
// Metadata Has Changed": with If-Modified-Since ("EEE, dd MMM yyyy HH:mm:ss
// z") and no metadata changed since, 304 Not Modified with no body; after a
// change, the describe.
func TestDescribeIfModifiedSince(t *testing.T) {
	clock := &testClock{}
	org := start(t, salesforcetest.Config{Now: clock.Now})
	c, token := login(t, org)
	describe := org.URL + "/services/data/v68.0/sobjects/Account/describe"
	global := org.URL + "/services/data/v68.0/sobjects/"
	later := clock.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	earlier := clock.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)

	for _, u := range []string{describe, global, describe + "/layouts"} {
		a := do(t, c, token, http.MethodGet, u, "", "If-Modified-Since", later)
		assert.Equal(t, http.StatusNotModified, a.status, u)
		assert.Empty(t, a.body, u)
		assert.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, u, "", "If-Modified-Since", earlier).status, u)
		assert.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, u, "").status, u)
	}
	// The zone as a name, as in the guide's example (MST).
	assert.Equal(t, http.StatusNotModified, do(t, c, token, http.MethodGet, describe, "",
		"If-Modified-Since", clock.Now().Add(time.Hour).In(time.FixedZone("MST", -7*3600)).Format(time.RFC1123)).status)
	assert.Equal(t, http.StatusOK, do(t, c, token, http.MethodGet, describe, "", "If-Modified-Since", "not a date").status)

	// A field added two hours on: metadata changed after "later".
	clock.Advance(2 * time.Hour)
	require.NoError(t, org.Setup().DefineFields("Account", salesforcetest.Field{Name: "Tier__c", Type: salesforcetest.TypeString}))
	a := do(t, c, token, http.MethodGet, describe, "", "If-Modified-Since", later)
	require.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, string(a.body), `"Tier__c"`)
}

// Tooling API Developer Guide, "query"
// (https://developer.salesforce.com/docs/atlas.en-us.api_tooling.meta/api_tooling/intro_rest_resources.htm):
// /tooling/query answers over the Tooling objects — ApexClass, ApexTrigger,
// ApexPage, ApexLog and SourceMember, which jsforce, the VS Code extensions
// and the Salesforce CLI's source tracking query at start-up — and refuses
// an object that is not one (Account) with INVALID_TYPE.
func TestToolingQuery(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	for _, soql := range []string{
		"SELECT Id, Name, ApiVersion, Status FROM ApexClass WHERE NamespacePrefix = null ORDER BY Name",
		"SELECT Id, Name, TableEnumOrId FROM ApexTrigger",
		"SELECT Id, MemberName, MemberType, RevisionCounter, IsNameObsolete FROM SourceMember WHERE RevisionCounter > 0",
		"SELECT Id, LogLength, Operation, StartTime FROM ApexLog ORDER BY StartTime DESC LIMIT 10",
		"SELECT COUNT() FROM ApexPage",
	} {
		a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/tooling/query/?q="+url.QueryEscape(soql), "")
		require.Equal(t, http.StatusOK, a.status, "%s: %s", soql, a.body)
		var page struct {
			Size, TotalSize int
			Done            bool
			Records         []any
		}
		require.NoError(t, json.Unmarshal(a.body, &page), soql)
		assert.True(t, page.Done, soql)
		assert.Equal(t, 0, page.TotalSize, soql)
		assert.NotNil(t, page.Records, soql)
	}
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/tooling/query/?q="+url.QueryEscape("SELECT Id FROM Account"), "")
	assert.Equal(t, http.StatusBadRequest, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "INVALID_TYPE", code)
	// The data API does not see Tooling objects.
	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/query/?q="+url.QueryEscape("SELECT Id FROM ApexClass"), "")
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, http.StatusNotFound, do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/tooling/sobjects/ApexClass/01p000000000001", "").status)
}
