package salesforcetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Object Reference for the Salesforce Platform, "Field Types: ID": the
// 18-character id adds a case-safe suffix to the 15-character one. The pair
// below is the one Salesforce's help articles on CASESAFEID show.
func TestIDSuffixMatchesSalesforce(t *testing.T) {
	assert.Equal(t, "IAC", idSuffix("001A0000006Vm9r"))
	id, ok := normalizeID("001A0000006Vm9r")
	require.True(t, ok)
	assert.Equal(t, "001A0000006Vm9rIAC", id)
	id, ok = normalizeID("001A0000006Vm9riac")
	require.True(t, ok, "the suffix is case-insensitive")
	assert.Equal(t, "001A0000006Vm9rIAC", id)
	for _, bad := range []string{"", "001", "001A0000006Vm9rIAD", "001A0000006Vm9!", "001A0000006Vm9rIA"} {
		_, ok := normalizeID(bad)
		assert.False(t, ok, bad)
	}
	seen := map[string]bool{}
	for n := range int64(5000) {
		id := newID("001", n)
		require.Len(t, id, 18)
		got, ok := normalizeID(id[:15])
		require.True(t, ok)
		require.Equal(t, id, got)
		require.False(t, seen[strings.ToLower(id)], "ids differ even without case")
		seen[strings.ToLower(id)] = true
	}
}

// The transaction hook sObject Collections (allOrNone), Composite and Bulk
// build on: an error undoes every write of the transaction.
func TestTransactionIsAllOrNone(t *testing.T) {
	s := newStore()
	s.userID = "005000000000001AAA"
	var first string
	err := s.transaction(func(tx *txn) *APIError {
		var e *APIError
		if first, e = tx.Create("Account", map[string]any{"Name": "Kept?"}); e != nil {
			return e
		}
		if e := tx.Update("Account", first, map[string]any{"Name": "Renamed"}); e != nil {
			return e
		}
		if e := tx.Delete("Account", first); e != nil {
			return e
		}
		_, e = tx.Create("Account", map[string]any{"Industry": "no Name"})
		return e
	})
	require.NotNil(t, err)
	assert.Equal(t, "REQUIRED_FIELD_MISSING", err.ErrorCode)
	assert.Empty(t, s.records, "the whole transaction was undone")
	assert.Empty(t, s.order["account"])

	require.Nil(t, s.transaction(func(tx *txn) *APIError {
		var e *APIError
		first, e = tx.Create("Account", map[string]any{"Name": "Kept"})
		return e
	}))
	err = s.transaction(func(tx *txn) *APIError {
		if e := tx.Update("Account", first, map[string]any{"Name": "Changed"}); e != nil {
			return e
		}
		if e := tx.Delete("Account", first); e != nil {
			return e
		}
		return tx.Update("Account", first, map[string]any{"Name": "After delete"})
	})
	require.NotNil(t, err)
	assert.Equal(t, "ENTITY_IS_DELETED", err.ErrorCode)
	r := s.records[first]
	assert.False(t, r.deleted)
	assert.Equal(t, "Kept", r.fields["Name"])
	assert.Equal(t, false, r.fields["IsDeleted"])
}

// FuzzCreateBody: any request body a client sends to create gets a REST answer
// — a created record or an error array — and never a panic.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []string{`{"Name":"Acme"}`, `{"Name":null}`, `{"NumberOfEmployees":"many","Name":"x"}`,
		`[1,2]`, `{"ParentId":"001A0000006Vm9r"}`, `{"Name":"a","AnnualRevenue":1e999}`, `{"Name":{"x":1}}`, ``} {
		f.Add(seed)
	}
	s := newStore()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		fields, err := readFields(req)
		if err != nil {
			require.Equal(t, "JSON_PARSER_ERROR", err.ErrorCode)
			return
		}
		e := s.transaction(func(tx *txn) *APIError {
			_, e := tx.Create("Account", fields)
			return e
		})
		if e != nil {
			require.NotEmpty(t, e.ErrorCode)
			require.GreaterOrEqual(t, e.StatusCode, 400)
			_, mErr := json.Marshal([]restError{{Message: e.Message, ErrorCode: e.ErrorCode}})
			require.NoError(t, mErr)
		}
	})
}
