package soqlengine

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runSearch(q string) ([]Record, error) {
	s, err := ParseSearch(q)
	if err != nil {
		return nil, err
	}
	return ExecuteSearch(s, newSchema(), newData(), Options{Now: now, APIVersion: "65.0"})
}

// TestSearch follows "SOSL Syntax", "FIND {SearchQuery}", "IN
// SearchGroup", "RETURNING FieldSpec" and "LIMIT n" of the SOQL and SOSL
// Reference.
func TestSearch(t *testing.T) {
	tests := []struct {
		name string
		q    string
		want []string
	}{
		{"FIND: whole word, case-insensitive, all fields", "FIND {acme} RETURNING Account(Id), Contact(Id)", []string{acc1, con1, con2}},
		{"FIND: a word is not a prefix", "FIND {acm} RETURNING Account(Id)", []string{}},
		{"FIND: * wildcard", "FIND {acm*} RETURNING Account(Id)", []string{acc1}},
		{"FIND: ? wildcard", "FIND {ini?ech} RETURNING Account(Id)", []string{acc3}},
		{"FIND: implicit AND", "FIND {ann acme} RETURNING Contact(Id)", []string{con1}},
		{"FIND: OR", "FIND {initech OR globex} RETURNING Account(Id ORDER BY Name)", []string{acc2, acc3}},
		{"FIND: AND NOT", "FIND {acme AND NOT ann} RETURNING Contact(Id)", []string{con2}},
		{"FIND: quoted phrase", `FIND {"ann o neil"} RETURNING Contact(Id)`, []string{con1}},
		{"FIND: phrase order matters", `FIND {"neil ann"} RETURNING Contact(Id)`, []string{}},
		{"FIND: escaped reserved character", `FIND {O\'Neil} RETURNING Contact(Id)`, []string{con1}},
		{"IN NAME FIELDS: only Name", "FIND {acme} IN NAME FIELDS RETURNING Account(Id), Contact(Id)", []string{acc1}},
		{"IN EMAIL FIELDS", "FIND {ben@acme.example} IN EMAIL FIELDS RETURNING Contact(Id)", []string{con2}},
		{"IN PHONE FIELDS", "FIND {555} IN PHONE FIELDS RETURNING Contact(Id)", []string{con1}},
		{"RETURNING: WHERE", "FIND {acme} RETURNING Contact(Id WHERE FirstName = 'Ben')", []string{con2}},
		{"RETURNING: ORDER BY DESC and LIMIT", "FIND {acme} RETURNING Contact(Id ORDER BY Name DESC LIMIT 1)", []string{con2}},
		{"RETURNING: no field list returns Id", "FIND {globex} RETURNING Account", []string{acc2}},
		{"LIMIT n: across objects", "FIND {acme} RETURNING Account(Id), Contact(Id) LIMIT 2", []string{acc1, con1}},
		{"FIND: deleted records are not found", "FIND {gone} RETURNING Account(Id)", []string{}},
		// "RETURNING FieldSpec": "If unspecified, then the search results
		// contain the IDs of all objects found."
		{"RETURNING omitted: every object, Ids", "FIND {acme}", []string{acc1, con1, con2}},
		{"RETURNING omitted: with IN and LIMIT", "FIND {acme} IN NAME FIELDS LIMIT 5", []string{acc1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := runSearch(tc.q)
			require.NoError(t, err, tc.q)
			got := []string{}
			for _, r := range recs {
				id, ok := r.Get("Id")
				require.True(t, ok)
				got = append(got, id.(string))
			}
			assert.Equal(t, tc.want, got, tc.q)
		})
	}
}

// TestSearchJSON: "searchRecords" hold records shaped like query records.
func TestSearchJSON(t *testing.T) {
	recs, err := runSearch("FIND {globex}")
	require.NoError(t, err)
	got, err := json.Marshal(recs)
	require.NoError(t, err)
	assert.Equal(t, `[{"attributes":{"type":"Account","url":"/services/data/v65.0/sobjects/Account/001000000000002AAA"},"Id":"001000000000002AAA"}]`, string(got))

	recs, err = runSearch("FIND {lone} RETURNING Contact(Name, Account.Name)")
	require.NoError(t, err)
	got, err = json.Marshal(recs)
	require.NoError(t, err)
	assert.Equal(t, `[{"attributes":{"type":"Contact","url":"/services/data/v65.0/sobjects/Contact/003000000000003AAA"},"Name":"Cy Lone","Account":null}]`, string(got))
}

func TestSearchErrors(t *testing.T) {
	tests := []struct{ name, q, code string }{
		// "FIND {SearchQuery}": terms of one character are refused.
		{"FIND: one character", "FIND {a} RETURNING Account", CodeMalformedSearch},
		{"FIND: only wildcards", "FIND {*} RETURNING Account", CodeMalformedSearch},
		{"FIND: unterminated braces", "FIND {acme RETURNING Account", CodeMalformedSearch},
		{"FIND: unterminated phrase", `FIND {"acme} RETURNING Account`, CodeMalformedSearch},
		{"FIND: dangling OR", "FIND {acme OR} RETURNING Account", CodeMalformedSearch},
		{"FIND: no braces", "FIND acme RETURNING Account", CodeMalformedSearch},
		{"IN: unknown group", "FIND {acme} IN SOME FIELDS RETURNING Account", CodeMalformedSearch},
		{"RETURNING: unclosed field list", "FIND {acme} RETURNING Account(Id", CodeMalformedSearch},
		{"RETURNING: aggregate", "FIND {acme} RETURNING Account(COUNT())", CodeMalformedSearch},
		{"RETURNING: unknown object", "FIND {acme} RETURNING Acount(Id)", CodeInvalidType},
		{"RETURNING: unknown field", "FIND {acme} RETURNING Account(Nmae)", CodeInvalidField},
		{"RETURNING: WHERE type error", "FIND {acme} RETURNING Account(Id WHERE NumberOfEmployees = '1')", CodeInvalidField},
		{"RETURNING: OFFSET over 2000", "FIND {acme} RETURNING Account(Id OFFSET 2001)", CodeNumberOutsideValidRange},
		{"trailing token", "FIND {acme} RETURNING Account junk", CodeMalformedSearch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runSearch(tc.q)
			var e *Error
			require.ErrorAs(t, err, &e, tc.q)
			assert.Equal(t, tc.code, e.Code, e.Message)
		})
	}
}
