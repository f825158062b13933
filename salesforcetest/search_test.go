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

// REST API Developer Guide, "Search": a SOSL FIND … RETURNING … answers
// searchRecords; a malformed search is a 400 error array.
func TestSearchRunsSOSL(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	org.Data().Insert(t, "Account", map[string]any{"Name": "Acme Rockets"}, map[string]any{"Name": "Globex"})
	org.Data().Insert(t, "Contact", map[string]any{"FirstName": "Wile", "LastName": "Acme"})
	base := org.URL + "/services/data/v65.0/search/?q="
	a := do(t, c, token, http.MethodGet, base+url.QueryEscape("FIND {Acme} RETURNING Account(Name), Contact(LastName)"), "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var res struct {
		SearchRecords []struct {
			Attributes struct{ Type string }
			Name       string
			LastName   string
		} `json:"searchRecords"`
	}
	require.NoError(t, json.Unmarshal(a.body, &res))
	require.Len(t, res.SearchRecords, 2)
	assert.Equal(t, "Account", res.SearchRecords[0].Attributes.Type)
	assert.Equal(t, "Acme Rockets", res.SearchRecords[0].Name)
	assert.Equal(t, "Contact", res.SearchRecords[1].Attributes.Type)

	a = do(t, c, token, http.MethodGet, base+url.QueryEscape("FIND Acme RETURNING"), "")
	assert.Equal(t, http.StatusBadRequest, a.status)
	code, _ := a.errorCode(t)
	assert.Equal(t, "MALFORMED_SEARCH", code)
}

// SOQL and SOSL Reference, "Relationship Queries": parent fields through the
// relationship name and child subqueries through the child relationship name,
// both as the schema declares them (standard and custom).
func TestQueryFollowsSchemaRelationships(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	acct := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})[0]
	org.Data().Insert(t, "Contact", map[string]any{"LastName": "Doe", "AccountId": acct})
	org.Data().Insert(t, "Invoice__c", map[string]any{"Name": "INV-1", "Amount__c": 10, "Account__c": acct})
	q := "SELECT Name, Owner.Username, (SELECT LastName FROM contacts), (SELECT Name, Amount__c FROM Invoices__r) FROM Account"
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/query?q="+url.QueryEscape(q), "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var page struct {
		Records []struct {
			Name     string
			Owner    struct{ Username string }
			Contacts struct {
				TotalSize int
				Records   []struct{ LastName string }
			}
			Invoices struct {
				Records []struct {
					Name   string
					Amount float64 `json:"Amount__c"`
				}
			} `json:"Invoices__r"`
		}
	}
	require.NoError(t, json.Unmarshal(a.body, &page))
	require.Len(t, page.Records, 1)
	r := page.Records[0]
	assert.Equal(t, org.Username, r.Owner.Username)
	assert.Equal(t, 1, r.Contacts.TotalSize)
	assert.Contains(t, string(a.body), `"Contacts":{`, "the key is the relationship's own spelling")
	require.Len(t, r.Invoices.Records, 1)
	assert.Equal(t, 10.0, r.Invoices.Records[0].Amount)

	q = "SELECT LastName, Account.Name FROM Contact WHERE Account.Name = 'Acme'"
	a = do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/query?q="+url.QueryEscape(q), "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Contains(t, string(a.body), `"Account":{"attributes":{"type":"Account"`)
}

// SOQL and SOSL Reference, "RETURNING FieldSpec": without RETURNING a
// search covers every searchable object and returns the Ids it finds.
func TestSearchWithoutReturning(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	acct := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme Rockets"})[0]
	contact := org.Data().Insert(t, "Contact", map[string]any{"FirstName": "Wile", "LastName": "Acme"})[0]
	a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/search/?q="+url.QueryEscape("FIND {acme}"), "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.ElementsMatch(t, []string{acct, contact}, searchIDs(t, a))
}

func searchIDs(t *testing.T, a answer) []string {
	t.Helper()
	var res struct {
		SearchRecords []struct {
			Attributes struct{ Type string }
			ID         string `json:"Id"`
		} `json:"searchRecords"`
	}
	require.NoError(t, json.Unmarshal(a.body, &res), string(a.body))
	ids := []string{}
	for _, r := range res.SearchRecords {
		assert.NotEmpty(t, r.Attributes.Type)
		ids = append(ids, r.ID)
	}
	return ids
}

// REST API Developer Guide, "Search with Parameters in the URI" (GET) and
// "Search with Parameters in the Request Body" (POST)
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_search_parameterized.htm),
// from API 36.0: q alone searches every object; sobject, fields, in, where
// and the limits narrow it; the answer is searchRecords.
func TestParameterizedSearch(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme Rockets", "Industry": "Energy"}, map[string]any{"Name": "Acme Anvils", "Industry": "Media"})
	contact := org.Data().Insert(t, "Contact", map[string]any{"FirstName": "Wile", "LastName": "Coyote", "Email": "wile@acme.example"})[0]
	base := org.URL + "/services/data/v65.0/parameterizedSearch/"

	a := do(t, c, token, http.MethodGet, base+"?q=acme", "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.ElementsMatch(t, []string{ids[0], ids[1], contact}, searchIDs(t, a))

	a = do(t, c, token, http.MethodGet, base+"?q=acme&sobject=Account&Account.fields=Id,Name&Account.where="+url.QueryEscape("Industry = 'Media'"), "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Equal(t, []string{ids[1]}, searchIDs(t, a))
	assert.Contains(t, string(a.body), `"Name":"Acme Anvils"`)

	a = do(t, c, token, http.MethodGet, base+"?q=acme&in=EMAIL&sobject=Account&sobject=Contact&fields=Id", "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Equal(t, []string{contact}, searchIDs(t, a))

	a = do(t, c, token, http.MethodPost, base, `{"q":"acme","fields":["Id","Name"],"sobjects":[{"name":"Account","limit":1},{"name":"Contact"}],"in":"ALL","overallLimit":10}`)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Len(t, searchIDs(t, a), 2, "one Account (its limit) and the Contact")

	for _, tc := range []struct {
		method, url, body, code string
		status                  int
	}{
		{http.MethodGet, base, "", "MALFORMED_SEARCH", http.StatusBadRequest},
		{http.MethodGet, base + "?q=a", "", "MALFORMED_SEARCH", http.StatusBadRequest},
		{http.MethodGet, base + "?q=acme&overallLimit=2001", "", "NUMBER_OUTSIDE_VALID_RANGE", http.StatusBadRequest},
		{http.MethodGet, base + "?q=acme&sobject=Nope__c", "", "INVALID_TYPE", http.StatusBadRequest},
		{http.MethodGet, base + "?q=acme&sobject=Account&Account.where=" + url.QueryEscape("Name != null), Contact(Id"), "", "MALFORMED_SEARCH", http.StatusBadRequest},
		{http.MethodPost, base, `{"q":`, "JSON_PARSER_ERROR", http.StatusBadRequest},
		{http.MethodGet, org.URL + "/services/data/v35.0/parameterizedSearch/?q=acme", "", "NOT_FOUND", http.StatusNotFound},
		{http.MethodDelete, base + "?q=acme", "", "METHOD_NOT_ALLOWED", http.StatusMethodNotAllowed},
	} {
		a := do(t, c, token, tc.method, tc.url, tc.body)
		require.Equal(t, tc.status, a.status, "%s %s: %s", tc.method, tc.url, a.body)
		code, _ := a.errorCode(t)
		assert.Equal(t, tc.code, code, tc.url)
	}
}
