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
	org.Insert(t, "Account", map[string]any{"Name": "Acme Rockets"}, map[string]any{"Name": "Globex"})
	org.Insert(t, "Contact", map[string]any{"FirstName": "Wile", "LastName": "Acme"})
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
	acct := org.Insert(t, "Account", map[string]any{"Name": "Acme"})[0]
	org.Insert(t, "Contact", map[string]any{"LastName": "Doe", "AccountId": acct})
	org.Insert(t, "Invoice__c", map[string]any{"Name": "INV-1", "Amount__c": 10, "Account__c": acct})
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
