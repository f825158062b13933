package main

import (
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queryOrg is a fake org with two contacts under an account and one without,
// and the SF_* settings to reach it.
func queryOrg(t *testing.T) map[string]string {
	t.Helper()
	org, vars := orgEnv(t)
	acct := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme, Inc."})[0]
	org.Data().Insert(t, "Contact",
		map[string]any{"LastName": "Doe", "AccountId": acct, "Email": "doe@example.com"},
		map[string]any{"LastName": "Moe", "Email": nil},
		map[string]any{"LastName": "Roe", "AccountId": acct, "Email": "roe@example.com"})
	return vars
}

const contactsSOQL = "SELECT LastName, Email, Account.Name FROM Contact ORDER BY LastName"

func TestQueryOutputCSV(t *testing.T) {
	vars := queryOrg(t)
	r := sfmtls(t, vars, nil, "query", "-o", "csv", contactsSOQL)
	require.Equal(t, 0, r.code, r.stderr)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	require.NoError(t, err, r.stdout)
	// A lookup's fields are columns Account.Name; a null lookup (Moe, first
	// seen as "Account": null) and a null field are empty cells; no attributes.
	assert.Equal(t, [][]string{
		{"LastName", "Email", "Account.Name"},
		{"Doe", "doe@example.com", "Acme, Inc."},
		{"Moe", "", ""},
		{"Roe", "roe@example.com", "Acme, Inc."},
	}, rows)
}

func TestQueryOutputTable(t *testing.T) {
	vars := queryOrg(t)
	r := sfmtls(t, vars, nil, "query", "--output", "table", contactsSOQL)
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 4, r.stdout)
	assert.Regexp(t, `^LastName\s+Email\s+Account\.Name$`, lines[0])
	assert.Regexp(t, `^Doe\s+doe@example\.com\s+Acme, Inc\.$`, lines[1])
	assert.Regexp(t, `^Moe\s*$`, lines[2])
	// The columns are aligned: each starts at the same offset on every line.
	col := strings.Index(lines[0], "Account.Name")
	assert.Equal(t, col, strings.Index(lines[1], "Acme"))
	assert.Equal(t, col, strings.Index(lines[3], "Acme"))
	assert.NotContains(t, r.stdout, "attributes")
}

// The default stays JSON lines, one record as Salesforce sent it a line, and
// -o json is the same.
func TestQueryOutputJSONIsTheDefault(t *testing.T) {
	vars := queryOrg(t)
	def := sfmtls(t, vars, nil, "query", contactsSOQL)
	require.Equal(t, 0, def.code, def.stderr)
	r := sfmtls(t, vars, nil, "query", "-o", "json", contactsSOQL)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, def.stdout, r.stdout)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3)
	var rec struct {
		LastName string
		Account  struct{ Name string }
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	assert.Equal(t, "Doe", rec.LastName)
	assert.Equal(t, "Acme, Inc.", rec.Account.Name)
}

func TestQueryOutputUsage(t *testing.T) {
	r := sfmtls(t, nil, nil, "query", "-o", "xml", "SELECT Id FROM Account")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--output/-o must be json, csv or table")
}

// SELECT COUNT() is answered with the count in totalSize and no records
// (SOQL and SOSL Reference, "COUNT() and COUNT(fieldName)": "For COUNT(), the
// size field of the QueryResult object returns the number of rows retrieved in
// the query. The records field returns null."; REST API Developer Guide,
// "Query": totalSize). query prints it, as a one-field record in each format,
// also when it is 0.
func TestQueryPrintsTheCountOfACountQuery(t *testing.T) {
	vars := queryOrg(t)
	r := sfmtls(t, vars, nil, "query", "SELECT COUNT() FROM Contact")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, `{"totalSize":3}`+"\n", r.stdout)

	r = sfmtls(t, vars, nil, "query", "-o", "csv", "select count() from Contact where LastName != 'Moe'")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "totalSize\n2\n", r.stdout)

	r = sfmtls(t, vars, nil, "query", "-o", "table", "SELECT COUNT ( ) FROM Contact WHERE LastName = 'Nobody'")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, regexp.MustCompile(`^totalSize\n0\s*\n$`), r.stdout)

	// COUNT(Id) is an aggregate whose count is a record's expr0: printed as records.
	r = sfmtls(t, vars, nil, "query", "-o", "csv", "SELECT COUNT(Id) FROM Contact")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "expr0\n3\n", r.stdout)
}
