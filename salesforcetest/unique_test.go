package salesforcetest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// uniqueOrg has Account.External_Id__c (unique, case-insensitive: the
// default), Account.Code__c (unique, case-sensitive) and Account.Legacy__c (an
// external id that is not unique).
func uniqueOrg(tb testing.TB) *salesforcetest.Org {
	tb.Helper()
	return salesforcetest.NewOrg(tb, salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Account", Fields: []salesforcetest.Field{
		{Name: "External_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true},
		{Name: "Code__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true, CaseSensitive: true},
		{Name: "Legacy__c", Type: salesforcetest.TypeString, ExternalID: true},
	}}}})
}

func errorCode(t *testing.T, err error) (string, []string) {
	t.Helper()
	var apiErr *salesforcetest.APIError
	require.True(t, errors.As(err, &apiErr), "want an *APIError, got %v", err)
	return apiErr.ErrorCode, apiErr.Fields
}

// Ten thousand Accounts with distinct unique external ids, then one that
// repeats an early one: the duplicate gets DUPLICATE_VALUE ("Status Codes and
// Error Responses"). With a scan of every record per write this took minutes
// under -race; the index keeps it to a lookup per write.
func TestUniqueIndexRejectsDuplicateAmongTenThousand(t *testing.T) {
	org := uniqueOrg(t)
	start := time.Now()
	var first string
	for i := range 10_000 {
		id, err := org.Data().Create("Account", map[string]any{"Name": fmt.Sprintf("A %05d", i), "External_Id__c": fmt.Sprintf("EXT-%05d", i)})
		require.NoError(t, err, i)
		if i == 0 {
			first = id
		}
	}
	_, err := org.Data().Create("Account", map[string]any{"Name": "Copy", "External_Id__c": "ext-00000"})
	code, fields := errorCode(t, err)
	assert.Equal(t, "DUPLICATE_VALUE", code, "a case-insensitive unique field: ext-00000 duplicates EXT-00000")
	assert.Equal(t, []string{"External_Id__c"}, fields)
	assert.Contains(t, err.Error(), first, "the message names the record holding the value")
	t.Logf("10,001 creates in %v", time.Since(start))
}

// The Unique attribute's two choices (Apex Developer Guide, "Upserting
// Records", names them: Treat "ABC" and "abc" as duplicate values (case
// insensitive) / as different values): the default refuses a value that
// differs only in case; CaseSensitive accepts it.
func TestUniqueCaseSensitivity(t *testing.T) {
	org := uniqueOrg(t)
	_, err := org.Data().Create("Account", map[string]any{"Name": "A", "External_Id__c": "Straße-K", "Code__c": "abc"})
	require.NoError(t, err)
	_, err = org.Data().Create("Account", map[string]any{"Name": "B", "External_Id__c": "STRASSE-K"})
	require.NoError(t, err, "ß and SS are not one value under simple case folding")
	_, err = org.Data().Create("Account", map[string]any{"Name": "C", "External_Id__c": "straße-\u212a"}) // Kelvin sign folds to k
	code, _ := errorCode(t, err)
	assert.Equal(t, "DUPLICATE_VALUE", code)

	_, err = org.Data().Create("Account", map[string]any{"Name": "D", "Code__c": "ABC"})
	require.NoError(t, err, "a case-sensitive unique field holds abc and ABC")
	_, err = org.Data().Create("Account", map[string]any{"Name": "E", "Code__c": "abc"})
	code, fields := errorCode(t, err)
	assert.Equal(t, "DUPLICATE_VALUE", code)
	assert.Equal(t, []string{"Code__c"}, fields)

	var se *salesforcetest.SchemaError
	assert.ErrorAs(t, org.Setup().DefineFields("Account", salesforcetest.Field{Name: "N__c", Type: salesforcetest.TypeInt, Unique: true, CaseSensitive: true}), &se,
		"a number has no case")
	assert.ErrorAs(t, org.Setup().DefineFields("Account", salesforcetest.Field{Name: "T__c", Type: salesforcetest.TypeString, CaseSensitive: true}), &se,
		"case sensitivity is a choice of the Unique attribute")
}

// A value is free again once its record is deleted or changes it, and an
// update may keep its own value (REST API Developer Guide, "Update a Record"
// and "Delete a Record").
func TestUniqueValueFreedByUpdateAndDelete(t *testing.T) {
	org := uniqueOrg(t)
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/Account/"
	create := func(body string) answer { return do(t, c, token, "POST", base, body) }
	patch := func(id, body string) answer { return do(t, c, token, "PATCH", base+id, body) }
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "A", "External_Id__c": "E-1"}, map[string]any{"Name": "B", "External_Id__c": "E-2"})
	a, b := ids[0], ids[1]

	ans := patch(b, `{"External_Id__c":"e-1"}`)
	require.Equal(t, 400, ans.status)
	code, fields := ans.errorCode(t)
	assert.Equal(t, "DUPLICATE_VALUE", code)
	assert.Equal(t, []string{"External_Id__c"}, fields)
	rec, _ := org.Data().Record("Account", b)
	assert.Equal(t, "E-2", rec["External_Id__c"], "a refused update changes nothing")

	require.Equal(t, 204, patch(a, `{"Name":"A2","External_Id__c":"E-1"}`).status, "a record keeps its own value")
	require.Equal(t, 204, patch(a, `{"External_Id__c":"E-3"}`).status)
	require.Equal(t, 204, patch(b, `{"External_Id__c":"E-1"}`).status, "E-1 was freed by the update")
	ans = create(`{"Name":"C","External_Id__c":"E-3"}`)
	require.Equal(t, 400, ans.status)
	code, _ = ans.errorCode(t)
	assert.Equal(t, "DUPLICATE_VALUE", code)

	require.Equal(t, 204, do(t, c, token, "DELETE", base+a, "").status)
	assert.Equal(t, 201, create(`{"Name":"C","External_Id__c":"E-3"}`).status, "a deleted record's value is free")
	require.Equal(t, 204, patch(b, `{"External_Id__c":null}`).status)
	assert.Equal(t, 201, create(`{"Name":"D","External_Id__c":"E-1"}`).status, "a null frees the value")
}

// Apex Developer Guide, "Upserting Records": "Custom field matching is
// case-insensitive only if the custom field has the Unique and Treat "ABC"
// and "abc" as duplicate values (case insensitive) attributes selected." The
// REST API Developer Guide's upsert pages say nothing of case; the fake
// follows the Apex guide.
func TestUpsertMatchesCaseAsTheFieldIsDeclared(t *testing.T) {
	org := uniqueOrg(t)
	a, err := org.Data().Create("Account", map[string]any{"Name": "A", "External_Id__c": "Ext-1", "Code__c": "Code-1", "Legacy__c": "Leg-1"})
	require.NoError(t, err)
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/Account/"

	ans := do(t, c, token, "PATCH", base+"External_Id__c/EXT-1", `{"Industry":"Energy"}`)
	assert.Equal(t, 200, ans.status, "case-insensitive unique: EXT-1 matches Ext-1: %s", ans.body)
	ans = do(t, c, token, "PATCH", base+"Code__c/CODE-1", `{"Name":"New by code"}`)
	assert.Equal(t, 201, ans.status, "case-sensitive unique: CODE-1 does not match Code-1: %s", ans.body)
	ans = do(t, c, token, "PATCH", base+"Code__c/Code-1", `{"Industry":"Retail"}`)
	assert.Equal(t, 200, ans.status, string(ans.body))
	ans = do(t, c, token, "PATCH", base+"Legacy__c/LEG-1", `{"Name":"New by legacy"}`)
	assert.Equal(t, 201, ans.status, "not unique: matched with case: %s", ans.body)
	rec, _ := org.Data().Record("Account", a)
	assert.Equal(t, "Retail", rec["Industry"])
}

// BenchmarkCreateUnique measures one create on an object with a unique
// external id when the org already holds 1,000 or 10,000 such records: with
// the index the cost per create does not grow with the records held.
func BenchmarkCreateUnique(b *testing.B) {
	for _, held := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			org := uniqueOrg(b)
			for i := range held {
				if _, err := org.Data().Create("Account", map[string]any{"Name": "Seed", "External_Id__c": fmt.Sprintf("S-%07d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; b.Loop(); i++ {
				if _, err := org.Data().Create("Account", map[string]any{"Name": "New", "External_Id__c": fmt.Sprintf("N-%07d", i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Get by an external id that is not unique follows creates, updates and
// deletes ("Retrieve Records Using sObject Rows by External ID": 300 for
// several matches, 404 for none), from an index rather than a scan.
func TestNonUniqueExternalIDFollowsWrites(t *testing.T) {
	org := uniqueOrg(t)
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/Account/"
	get := func(value string) int { return do(t, c, token, "GET", base+"Legacy__c/"+value, "").status }
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "A", "Legacy__c": "L-1"}, map[string]any{"Name": "B", "Legacy__c": "L-1"})
	assert.Equal(t, 300, get("L-1"))
	assert.Equal(t, 404, get("l-1"), "a non-unique external id matches with case")
	require.Equal(t, 204, do(t, c, token, "DELETE", base+ids[0], "").status)
	assert.Equal(t, 200, get("L-1"), "the deleted record no longer matches")
	require.Equal(t, 204, do(t, c, token, "PATCH", base+ids[1], `{"Legacy__c":"L-2"}`).status)
	assert.Equal(t, 404, get("L-1"))
	assert.Equal(t, 200, get("L-2"))
}
