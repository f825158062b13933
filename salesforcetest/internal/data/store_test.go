package data

import (
	"maps"
	"net/http"
	"slices"
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
	id, ok := NormalizeID("001A0000006Vm9r")
	require.True(t, ok)
	assert.Equal(t, "001A0000006Vm9rIAC", id)
	id, ok = NormalizeID("001A0000006Vm9riac")
	require.True(t, ok, "the suffix is case-insensitive")
	assert.Equal(t, "001A0000006Vm9rIAC", id)
	for _, bad := range []string{"", "001", "001A0000006Vm9rIAD", "001A0000006Vm9!", "001A0000006Vm9rIA"} {
		_, ok := NormalizeID(bad)
		assert.False(t, ok, bad)
	}
	seen := map[string]bool{}
	for n := range int64(5000) {
		id := NewID("001", n)
		require.Len(t, id, 18)
		got, ok := NormalizeID(id[:15])
		require.True(t, ok)
		require.Equal(t, id, got)
		require.False(t, seen[strings.ToLower(id)], "ids differ even without case")
		seen[strings.ToLower(id)] = true
	}
}

// The transaction hook sObject Collections (allOrNone), Composite and Bulk
// build on: an error undoes every write of the transaction.
func TestTransactionIsAllOrNone(t *testing.T) {
	s := NewStore(nil)
	s.userID = "005000000000001AAA"
	var first string
	err := s.Transaction(func(tx *Txn) *APIError {
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

	require.Nil(t, s.Transaction(func(tx *Txn) *APIError {
		var e *APIError
		first, e = tx.Create("Account", map[string]any{"Name": "Kept"})
		return e
	}))
	err = s.Transaction(func(tx *Txn) *APIError {
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

// An undone transaction leaves the unique and external id indexes as they
// were: values the writes took are free, values they freed are held again.
func TestTransactionUndoRestoresIndexes(t *testing.T) {
	s := NewStore(nil)
	s.userID = "005000000000001AAA"
	o, _ := s.schema.object("Account")
	require.NoError(t, s.schema.addFields(o, []Field{
		{Name: "Ext__c", Type: TypeString, ExternalID: true, Unique: true},
		{Name: "Legacy__c", Type: TypeString, ExternalID: true},
	}, false))
	var kept string
	require.Nil(t, s.Transaction(func(tx *Txn) *APIError {
		var e *APIError
		kept, e = tx.Create("Account", map[string]any{"Name": "Kept", "Ext__c": "K-1", "Legacy__c": "L-1"})
		return e
	}))
	external := map[uniqueSlot][]string{}
	for k, ids := range s.external {
		external[k] = slices.Clone(ids)
	}
	before := map[string]any{"unique": maps.Clone(s.unique), "external": external}
	err := s.Transaction(func(tx *Txn) *APIError {
		if _, e := tx.Create("Account", map[string]any{"Name": "New", "Ext__c": "N-1", "Legacy__c": "L-1"}); e != nil {
			return e
		}
		if e := tx.Update("Account", kept, map[string]any{"Ext__c": "K-2", "Legacy__c": "L-2"}); e != nil {
			return e
		}
		if e := tx.Delete("Account", kept); e != nil {
			return e
		}
		_, e := tx.Create("Account", map[string]any{"Name": "Reuses K-1", "Ext__c": "K-1"})
		if e != nil {
			return e
		}
		return apiErr(http.StatusBadRequest, "ALL_OR_NONE_OPERATION_ROLLED_BACK", "undo everything")
	})
	require.NotNil(t, err)
	assert.Equal(t, before, map[string]any{"unique": s.unique, "external": s.external})
	assert.Equal(t, kept, s.unique[uniqueSlot{"account", "Ext__c", foldCase("K-1")}])
	assert.Equal(t, []string{kept}, s.external[uniqueSlot{"account", "Legacy__c", "L-1"}])
}
