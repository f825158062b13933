package salesforcetest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// An empty string in a text field is a null. The REST API Developer Guide
// says nothing of "" in a request body; the Apex Developer Guide, "Primitive
// Data Types", says sObject String field values follow the SOAP API's rules
// and "can never be empty (only null)", and Object Reference, "Required
// Fields", says required fields "must have a non-null value" on create and
// "cannot be set to null" on update. So "" for a required field answers
// REQUIRED_FIELD_MISSING on create, update and upsert, and "" for an optional
// text field clears it (as salesforce.stackexchange.com/questions/333174
// observed: FirstName and Email set to "" read back as null).
func TestEmptyStringIsNullForRequiredFields(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/"
	missing := func(a answer, field, why string) {
		t.Helper()
		require.Equal(t, http.StatusBadRequest, a.status, "%s: %s", why, a.body)
		code, fields := a.errorCode(t)
		assert.Equal(t, "REQUIRED_FIELD_MISSING", code, why)
		assert.Equal(t, []string{field}, fields, why)
	}

	missing(do(t, c, token, http.MethodPost, base+"Account/", `{"Name":""}`), "Name", "create")
	missing(do(t, c, token, http.MethodPost, base+"Contact/", `{"FirstName":"Ada","LastName":""}`), "LastName", "create")

	id := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme", "Site": "HQ", "External_Id__c": "E-1"})[0]
	missing(do(t, c, token, http.MethodPatch, base+"Account/"+id, `{"Name":""}`), "Name", "update")
	missing(do(t, c, token, http.MethodPatch, base+"Account/External_Id__c/E-1", `{"Name":""}`), "Name", "upsert that updates")
	missing(do(t, c, token, http.MethodPatch, base+"Account/External_Id__c/E-2", `{"Name":""}`), "Name", "upsert that creates")
	rec, _ := org.Data().Record("Account", id)
	assert.Equal(t, "Acme", rec["Name"], "a refused write changes nothing")

	require.Equal(t, http.StatusNoContent, do(t, c, token, http.MethodPatch, base+"Account/"+id, `{"Site":""}`).status)
	rec, _ = org.Data().Record("Account", id)
	assert.Nil(t, rec["Site"], "an optional text field set to \"\" is null")
	assert.Contains(t, rec, "Site")

	contact := org.Data().Insert(t, "Contact", map[string]any{"LastName": "Doe", "Email": "doe@example.com"})[0]
	require.Equal(t, http.StatusNoContent, do(t, c, token, http.MethodPatch, base+"Contact/"+contact, `{"Email":""}`).status,
		"\"\" clears an email field rather than being an invalid address")
	rec, _ = org.Data().Record("Contact", contact)
	assert.Nil(t, rec["Email"])
}
