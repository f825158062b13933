package soqlengine

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func run(q string, opts Options) (*Result, error) {
	parsed, err := Parse(q)
	if err != nil {
		return nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = now
	}
	return Execute(parsed, newSchema(), newData(), opts)
}

func ids(t *testing.T, res *Result) []string {
	t.Helper()
	out := []string{}
	for _, r := range res.Records {
		id, ok := r.Get("Id")
		require.True(t, ok, "query must select Id")
		out = append(out, id.(string))
	}
	return out
}

// TestSelect runs every construct against the fixture and checks which
// records come back, in order. Each case names the page of the "SOQL and
// SOSL Reference" it follows.
func TestSelect(t *testing.T) {
	la := time.FixedZone("PDT", -7*3600)
	tokyo := time.FixedZone("JST", 9*3600)
	tests := []struct {
		name string
		q    string
		opts Options
		want []string
	}{
		// "SOQL SELECT Syntax"; deleted rows only through queryAll ("queryAll" in the REST API guide).
		{"SELECT Syntax: all live rows in store order", "SELECT Id FROM Account", Options{}, []string{acc1, acc2, acc3}},
		{"queryAll: IncludeDeleted returns deleted rows", "SELECT Id FROM Account WHERE IsDeleted = true", Options{IncludeDeleted: true}, []string{acc4}},
		{"query: deleted rows stay hidden", "SELECT Id FROM Account WHERE IsDeleted = true", Options{}, []string{}},
		// "SOQL SELECT Syntax": keywords and names are case-insensitive;
		// "Comparison Operators": = on strings is case-insensitive.
		{"SELECT Syntax: case-insensitive keywords, names, strings", "select id from ACCOUNT where NAME = 'ACME'", Options{}, []string{acc1}},
		{"Comparison Operators: !=", "SELECT Id FROM Account WHERE Name != 'acme'", Options{}, []string{acc2, acc3}},
		{"Comparison Operators: <> is !=", "SELECT Id FROM Account WHERE Name <> 'Acme'", Options{}, []string{acc2, acc3}},
		{"Comparison Operators: numbers compare numerically", "SELECT Id FROM Account WHERE NumberOfEmployees > 9", Options{}, []string{acc1, acc3}},
		{"Comparison Operators: 10.0 equals 10", "SELECT Id FROM Account WHERE NumberOfEmployees = 10.0", Options{}, []string{acc3}},
		{"Comparison Operators: negative number", "SELECT Id FROM Account WHERE NumberOfEmployees >= -1 AND AnnualRevenue > -5.5", Options{}, []string{acc1, acc3}},
		{"Comparison Operators: <= on currency", "SELECT Id FROM Account WHERE AnnualRevenue <= 1000000", Options{}, []string{acc3}},
		{"Comparison Operators: = null", "SELECT Id FROM Account WHERE AnnualRevenue = null", Options{}, []string{acc2}},
		{"Comparison Operators: != null", "SELECT Id FROM Account WHERE AnnualRevenue != NULL", Options{}, []string{acc1, acc3}},
		{"Comparison Operators: != includes nulls", "SELECT Id FROM Account WHERE Industry != 'Energy'", Options{}, []string{acc1, acc3}},
		{"Comparison Operators: boolean true", "SELECT Id FROM Account WHERE Active__c = true", Options{}, []string{acc1, acc3}},
		{"Comparison Operators: boolean FALSE", "SELECT Id FROM Account WHERE Active__c = FALSE", Options{}, []string{acc2}},
		// "Logical Operators".
		{"Logical Operators: AND, OR, NOT, parentheses", "SELECT Id FROM Account WHERE (Industry = 'Energy' OR Name = 'Acme') AND NOT Active__c = false", Options{}, []string{acc1}},
		{"Logical Operators: NOT (...)", "SELECT Id FROM Account WHERE NOT (Name LIKE 'a%')", Options{}, []string{acc2, acc3}},
		{"Logical Operators: OR chain", "SELECT Id FROM Account WHERE Name = 'initech' OR Name = 'acme' OR Name = 'nobody'", Options{}, []string{acc1, acc3}},
		{"Logical Operators: NOT NOT", "SELECT Id FROM Account WHERE NOT NOT Name = 'Acme'", Options{}, []string{acc1}},
		// "Comparison Operators": LIKE with % and _, case-insensitive;
		// "Quoted String Escape Sequences": \% and \_ in LIKE.
		{"LIKE: prefix, case-insensitive", "SELECT Id FROM Account WHERE Name LIKE 'a%'", Options{}, []string{acc1}},
		{"LIKE: _ matches one character", "SELECT Id FROM Account WHERE Name LIKE 'INI_ECH'", Options{}, []string{acc3}},
		{"Quoted String Escape Sequences: \\% is a literal percent", "SELECT Id FROM Account WHERE Name LIKE '%100\\%%'", Options{}, []string{acc2}},
		{"Quoted String Escape Sequences: \\_ is a literal underscore", "SELECT Id FROM Account WHERE Name LIKE '%\\_real\\_'", Options{}, []string{acc2}},
		{"Quoted String Escape Sequences: Ter\\% matches exactly", "SELECT Id FROM Account WHERE Name LIKE 'Acme\\%'", Options{}, []string{}},
		{"LIKE: without wildcards is equality", "SELECT Id FROM Account WHERE Name LIKE 'acme'", Options{}, []string{acc1}},
		// "Comparison Operators": IN and NOT IN.
		{"IN: case-insensitive list", "SELECT Id FROM Account WHERE Industry IN ('energy', 'Manufacturing')", Options{}, []string{acc1, acc2}},
		// Docs are silent on NOT IN with null field values; like != they are kept.
		{"NOT IN: keeps nulls like !=", "SELECT Id FROM Account WHERE Industry NOT IN ('Energy')", Options{}, []string{acc1, acc3}},
		{"IN: numbers", "SELECT Id FROM Account WHERE NumberOfEmployees IN (9, 100)", Options{}, []string{acc1, acc2}},
		// "Field Types" (ID): a 15-character Id names the same record as its 18-character form.
		{"Field Types: 15-character Id matches", "SELECT Id FROM Account WHERE Id = '001000000000001'", Options{}, []string{acc1}},
		{"Field Types: Id IN", "SELECT Id FROM Account WHERE Id IN ('001000000000002AAA', '001000000000003AAA')", Options{}, []string{acc2, acc3}},
		// "Relationship Queries": parent fields in WHERE.
		{"Relationship Queries: parent field filter", "SELECT Id FROM Contact WHERE Account.Name = 'Acme'", Options{}, []string{con1, con2}},
		{"Relationship Queries: two levels", "SELECT Id FROM Contact WHERE Account.Owner.Name = 'Bob Rep'", Options{}, []string{con1, con2}},
		{"Relationship Queries: null reference", "SELECT Id FROM Contact WHERE AccountId = null", Options{}, []string{con3}},
		{"Relationship Queries: null parent != value", "SELECT Id FROM Contact WHERE Account.Name != 'Acme'", Options{}, []string{con3}},
		{"SELECT Syntax: object name qualifies a field", "SELECT Account.Id FROM Account WHERE Account.Name = 'Acme'", Options{}, []string{acc1}},
		// "Quoted String Escape Sequences" / "Reserved Characters".
		{"Quoted String Escape Sequences: \\'", "SELECT Id FROM Contact WHERE LastName = 'O\\'Neil'", Options{}, []string{con1}},
		{"Quoted String Escape Sequences: \\\\", "SELECT Id FROM Contact WHERE LastName = 'Back\\\\slash'", Options{}, []string{con2}},
		{"Quoted String Escape Sequences: \\u0027", "SELECT Id FROM Contact WHERE LastName = 'O\\u0027Neil'", Options{}, []string{con1}},
		// "Date Formats and Date Literals in WHERE".
		{"Date Formats: date equality", "SELECT Id FROM Opportunity WHERE CloseDate = 2024-03-15", Options{}, []string{opp1}},
		{"Date Formats: date before", "SELECT Id FROM Opportunity WHERE CloseDate < 2024-03-15", Options{}, []string{opp2}},
		{"Date Formats: dateTime Z", "SELECT Id FROM Account WHERE CreatedDate > 2024-03-15T00:00:00Z", Options{}, []string{acc1}},
		{"Date Formats: dateTime with offset", "SELECT Id FROM Account WHERE CreatedDate >= 2024-03-15T00:00:00+01:00", Options{}, []string{acc1, acc2}},
		{"Date Formats: dateTime with negative offset and millis", "SELECT Id FROM Account WHERE CreatedDate < 2024-02-01T00:00:00.001-00:00", Options{}, []string{acc3}},
		{"Date Literals: TODAY", "SELECT Id FROM Account WHERE CreatedDate = TODAY", Options{}, []string{acc1}},
		{"Date Literals: YESTERDAY", "SELECT Id FROM Account WHERE CreatedDate = YESTERDAY", Options{}, []string{acc2}},
		{"Date Literals: THIS_MONTH", "SELECT Id FROM Account WHERE CreatedDate = THIS_MONTH", Options{}, []string{acc1, acc2}},
		{"Date Literals: LAST_MONTH", "SELECT Id FROM Account WHERE CreatedDate = LAST_MONTH", Options{}, []string{acc3}},
		// The reference says LAST_N_DAYS:n "starts 00:00:00 of the current
		// day and continues for the past n days": today and n days before.
		{"Date Literals: LAST_N_DAYS:1 includes today", "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:1", Options{}, []string{acc1, acc2}},
		{"Date Literals: < LAST_N_DAYS:30 is before the range", "SELECT Id FROM Account WHERE CreatedDate < LAST_N_DAYS:30", Options{}, []string{acc3}},
		{"Date Literals: TODAY on a date field", "SELECT Id FROM Opportunity WHERE CloseDate = TODAY", Options{}, []string{opp1}},
		{"Date Literals: > TODAY", "SELECT Id FROM Opportunity WHERE CloseDate > TODAY", Options{}, []string{opp3}},
		{"Date Literals: TOMORROW", "SELECT Id FROM Opportunity WHERE CloseDate = TOMORROW", Options{}, []string{}},
		{"Date Literals: NEXT_N_DAYS:40 starts tomorrow", "SELECT Id FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:40", Options{}, []string{opp3}},
		{"Date Literals: <= THIS_MONTH", "SELECT Id FROM Opportunity WHERE CloseDate <= THIS_MONTH", Options{}, []string{opp1, opp2}},
		{"Date Literals: >= NEXT_MONTH", "SELECT Id FROM Opportunity WHERE CloseDate >= NEXT_MONTH", Options{}, []string{opp3}},
		{"Date Literals: N_DAYS_AGO:15", "SELECT Id FROM Opportunity WHERE CloseDate = N_DAYS_AGO:15", Options{}, []string{opp2}},
		// "Date Formats and Date Literals in WHERE": the range depends on the user's time zone.
		{"Date Literals: TODAY in UTC+9", "SELECT Id FROM Account WHERE CreatedDate = TODAY", Options{Location: tokyo}, []string{acc1, acc2}},
		{"Date Literals: TODAY in UTC-7", "SELECT Id FROM Account WHERE CreatedDate = TODAY", Options{Location: la}, []string{acc1}},
		// "ORDER BY".
		{"ORDER BY: numbers ascending", "SELECT Id FROM Account ORDER BY NumberOfEmployees", Options{}, []string{acc2, acc3, acc1}},
		{"ORDER BY: DESC", "SELECT Id FROM Account ORDER BY NumberOfEmployees DESC", Options{}, []string{acc1, acc3, acc2}},
		{"ORDER BY: nulls first by default", "SELECT Id FROM Account ORDER BY AnnualRevenue", Options{}, []string{acc2, acc3, acc1}},
		{"ORDER BY: NULLS LAST", "SELECT Id FROM Account ORDER BY AnnualRevenue ASC NULLS LAST", Options{}, []string{acc3, acc1, acc2}},
		// "By default, null values are sorted first" — the page does not
		// make an exception for DESC, so neither does this package.
		{"ORDER BY: DESC keeps nulls first", "SELECT Id FROM Account ORDER BY AnnualRevenue DESC", Options{}, []string{acc2, acc1, acc3}},
		{"ORDER BY: text is case-insensitive", "SELECT Id FROM Account ORDER BY Name DESC", Options{}, []string{acc3, acc2, acc1}},
		{"ORDER BY: several keys", "SELECT Id FROM Account ORDER BY Active__c DESC, Name DESC NULLS FIRST", Options{}, []string{acc3, acc1, acc2}},
		{"ORDER BY: parent field", "SELECT Id FROM Account ORDER BY Owner.Name", Options{}, []string{acc3, acc2, acc1}},
		{"ORDER BY: dates", "SELECT Id FROM Opportunity ORDER BY CloseDate DESC", Options{}, []string{opp3, opp1, opp2}},
		// "LIMIT" and "OFFSET".
		{"LIMIT", "SELECT Id FROM Account ORDER BY Name LIMIT 2", Options{}, []string{acc1, acc2}},
		{"LIMIT 0", "SELECT Id FROM Account LIMIT 0", Options{}, []string{}},
		{"OFFSET", "SELECT Id FROM Account ORDER BY Name LIMIT 1 OFFSET 1", Options{}, []string{acc2}},
		{"OFFSET past the end", "SELECT Id FROM Account OFFSET 2000", Options{}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := run(tc.q, tc.opts)
			require.NoError(t, err, tc.q)
			assert.Equal(t, tc.want, ids(t, res), tc.q)
			assert.Equal(t, len(tc.want), res.TotalSize)
		})
	}
}

// TestErrors checks each refusal's errorCode and message.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, q, code, msg string
	}{
		// Messages of INVALID_TYPE / INVALID_FIELD are the ones the REST API
		// returns; the reference ("SOQL and SOSL Reference", "Status Codes and
		// Error Responses") names the codes but not the text.
		{"INVALID_TYPE: unknown object", "SELECT Id FROM Acount", CodeInvalidType,
			"\nSELECT Id FROM Acount\n               ^\nERROR at Row:1:Column:16\nsObject type 'Acount' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."},
		{"INVALID_FIELD: unknown field", "SELECT Nmae FROM Account", CodeInvalidField,
			"\nSELECT Nmae FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Nmae' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."},
		{"INVALID_FIELD: unknown field on a parent", "SELECT Id FROM Contact\nWHERE Account.Nmae = 'x'", CodeInvalidField,
			"\nWHERE Account.Nmae = 'x'\n      ^\nERROR at Row:2:Column:7\nNo such column 'Nmae' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."},
		{"INVALID_FIELD: unknown relationship", "SELECT Acount.Name FROM Contact", CodeInvalidField,
			"\nSELECT Acount.Name FROM Contact\n       ^\nERROR at Row:1:Column:8\nDidn't understand relationship 'Acount' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."},
		{"INVALID_TYPE: unknown child relationship", "SELECT Id, (SELECT Id FROM Contactz) FROM Account", CodeInvalidType,
			"\nSELECT Id, (SELECT Id FROM Contactz) FROM Account\n                           ^\nERROR at Row:1:Column:28\nDidn't understand relationship 'Contactz' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."},
		{"INVALID_FIELD: unknown field in ORDER BY", "SELECT Id FROM Account ORDER BY Nmae", CodeInvalidField, ""},
		{"INVALID_FIELD: unknown field in a subquery", "SELECT Id, (SELECT Nmae FROM Contacts) FROM Account", CodeInvalidField, ""},
		{"INVALID_FIELD: a relationship is no column", "SELECT Account FROM Contact", CodeInvalidField, ""},
		// "Comparison Operators": values must match the field's type;
		// '10' never matches a number.
		{"fieldExpression: string for a number", "SELECT Id FROM Account WHERE NumberOfEmployees = '10'", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE NumberOfEmployees = '10'\n                                                 ^\nERROR at Row:1:Column:50\nvalue of filter criterion for field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes"},
		{"fieldExpression: string for currency", "SELECT Id FROM Account WHERE AnnualRevenue > '1'", CodeInvalidField, ""},
		{"fieldExpression: number for a string", "SELECT Id FROM Account WHERE Name = 10", CodeInvalidField, ""},
		{"fieldExpression: string for a boolean", "SELECT Id FROM Account WHERE Active__c = 'true'", CodeInvalidField, ""},
		{"Date Formats: quoted date", "SELECT Id FROM Opportunity WHERE CloseDate = '2024-03-15'", CodeInvalidField, ""},
		// "If you specify a dateTime format in a query, you can filter only on dateTime fields."
		{"Date Formats: dateTime for a date field", "SELECT Id FROM Opportunity WHERE CloseDate = 2024-03-15T00:00:00Z", CodeInvalidField, ""},
		{"Date Formats: date for a dateTime field", "SELECT Id FROM Account WHERE CreatedDate = 2024-03-15", CodeInvalidField, ""},
		{"Date Literals: on a text field", "SELECT Id FROM Account WHERE Name = TODAY", CodeInvalidField, ""},
		{"ID: malformed Id", "SELECT Id FROM Account WHERE Id = 'abc'", CodeInvalidQueryFilterOperator,
			"\nSELECT Id FROM Account WHERE Id = 'abc'\n                                  ^\nERROR at Row:1:Column:35\ninvalid ID field: abc"},
		{"ID: malformed reference in IN", "SELECT Id FROM Contact WHERE AccountId IN ('001000000000001AAA', 'x')", CodeInvalidQueryFilterOperator, ""},
		// The docs are silent on the message for these operator misuses.
		{"LIKE on a number", "SELECT Id FROM Account WHERE NumberOfEmployees LIKE '1%'", CodeInvalidQueryFilterOperator, ""},
		{"LIKE on a date", "SELECT Id FROM Opportunity WHERE CloseDate LIKE 2024-03-15", CodeInvalidQueryFilterOperator, ""},
		{"< on a boolean", "SELECT Id FROM Account WHERE Active__c < true", CodeInvalidQueryFilterOperator, ""},
		// "OFFSET": "The maximum offset is 2,000 rows."
		{"OFFSET over 2000", "SELECT Id FROM Account OFFSET 2001", CodeNumberOutsideValidRange,
			"\nSELECT Id FROM Account OFFSET 2001\n                              ^\nERROR at Row:1:Column:31\nMaximum SOQL offset allowed is 2000"},
		// "Relationship Query Limits": at most five levels of parents.
		{"Relationship Query Limits: six parent levels", "SELECT Parent.Parent.Parent.Parent.Parent.Parent.Name FROM Account", CodeMalformedQuery, ""},
		// "COUNT() and COUNT(fieldName)": COUNT() stands alone; aggregates
		// without GROUP BY cannot mix with plain fields.
		{"COUNT(): with another field", "SELECT Id, COUNT() FROM Account", CodeMalformedQuery, ""},
		{"COUNT(): after COUNT()", "SELECT COUNT(), Id FROM Account", CodeMalformedQuery, ""},
		{"COUNT(field): mixed with a field", "SELECT Name, COUNT(Id) FROM Account", CodeMalformedQuery,
			"\nSELECT Name, COUNT(Id) FROM Account\n       ^\nERROR at Row:1:Column:8\nField must be grouped or aggregated: Name"},
		{"COUNT(field): unknown field", "SELECT COUNT(Nmae) FROM Account", CodeInvalidField, ""},
		// "LIMIT": no LIMIT with an aggregate function and no GROUP BY (the page gives no error code or text).
		{"LIMIT: with COUNT(field)", "SELECT COUNT(Id) FROM Account LIMIT 1", CodeMalformedQuery, ""},
		// MALFORMED_QUERY: the parser's "unexpected token" (docs silent on the text).
		{"MALFORMED: empty", "", CodeMalformedQuery, "\n\n^\nERROR at Row:1:Column:1\nunexpected token: '<EOF>'"},
		{"MALFORMED: no field list", "SELECT FROM Account", CodeMalformedQuery,
			"\nSELECT FROM Account\n       ^\nERROR at Row:1:Column:8\nunexpected token: 'FROM'"},
		{"MALFORMED: no object", "SELECT Id FROM", CodeMalformedQuery, ""},
		{"MALFORMED: dangling WHERE", "SELECT Id FROM Account WHERE", CodeMalformedQuery, ""},
		{"Logical Operators: AND and OR mixed without parentheses", "SELECT Id FROM Account WHERE Name = 'x' AND Industry = 'y' OR Id != null", CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE Name = 'x' AND Industry = 'y' OR Id != null\n                                                           ^\nERROR at Row:1:Column:60\nunexpected token: 'OR'"},
		{"MALFORMED: unbalanced parenthesis", "SELECT Id FROM Account WHERE (Name = 'x'", CodeMalformedQuery, ""},
		{"MALFORMED: unterminated string", "SELECT Id FROM Account WHERE Name = 'x", CodeMalformedQuery, ""},
		{"MALFORMED: quote not escaped", "SELECT Id FROM Account WHERE Name = 'O'Neil'", CodeMalformedQuery, ""},
		{"Quoted String Escape Sequences: unknown escape", `SELECT Id FROM Account WHERE Name = 'a\qb'`, CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE Name = 'a\\qb'\n                                    ^\nERROR at Row:1:Column:37\nInvalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal."},
		{"Quoted String Escape Sequences: \\% outside LIKE", `SELECT Id FROM Account WHERE Name = 'a\%'`, CodeMalformedQuery, ""},
		{"Quoted String Escape Sequences: short \\u", `SELECT Id FROM Account WHERE Name = 'a\u12'`, CodeMalformedQuery, ""},
		{"Quoted String Escape Sequences: \\U is not \\u", `SELECT Id FROM Account WHERE Name = 'a\U0041'`, CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE Name = 'a\\U0041'\n                                    ^\nERROR at Row:1:Column:37\nInvalid string literal 'a\\U0041'. Illegal character sequence '\\U' in string literal."},
		{"MALFORMED: trailing token", "SELECT Id FROM Account LIMIT 1 junk", CodeMalformedQuery, ""},
		{"MALFORMED: negative LIMIT", "SELECT Id FROM Account LIMIT -1", CodeMalformedQuery, ""},
		{"MALFORMED: fractional LIMIT", "SELECT Id FROM Account LIMIT 1.5", CodeMalformedQuery, ""},
		{"MALFORMED: clauses out of order", "SELECT Id FROM Account LIMIT 1 WHERE Name = 'x'", CodeMalformedQuery, ""},
		{"MALFORMED: GROUP BY ROLLUP is not modelled", "SELECT Industry, COUNT(Id) FROM Account GROUP BY ROLLUP(Industry)", CodeMalformedQuery, ""},
		{"MALFORMED: Apex bind variables are not SOQL over REST", "SELECT Id FROM Account WHERE Name = :name", CodeMalformedQuery, ""},
		{"MALFORMED: semi-join", "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", CodeMalformedQuery, ""},
		{"MALFORMED: nested subquery", "SELECT Id, (SELECT Id, (SELECT Id FROM Opportunities) FROM Contacts) FROM Account", CodeMalformedQuery, ""},
		{"MALFORMED: unknown function", "SELECT MEDIAN(Amount) FROM Opportunity", CodeMalformedQuery, ""},
		{"MALFORMED: empty IN list", "SELECT Id FROM Account WHERE Name IN ()", CodeMalformedQuery, ""},
		{"MALFORMED: NULLS without FIRST/LAST", "SELECT Id FROM Account ORDER BY Name NULLS", CodeMalformedQuery, ""},
		{"MALFORMED: bad date", "SELECT Id FROM Opportunity WHERE CloseDate = 2024-13-45", CodeMalformedQuery, ""},
		{"MALFORMED: date literal without n", "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS", CodeMalformedQuery, ""},
		{"MALFORMED: unknown date literal", "SELECT Id FROM Opportunity WHERE CloseDate = SOMEDAY", CodeMalformedQuery, ""},
		{"MALFORMED: number glued to a name", "SELECT Id FROM Account WHERE NumberOfEmployees = 12abc", CodeMalformedQuery, ""},
		{"MALFORMED: statement longer than 100,000 characters", "SELECT Id FROM Account WHERE Name = '" + strings.Repeat("a", MaxQueryLength) + "'", CodeMalformedQuery, ""},
		{"MALFORMED: a long line is echoed around the error only", "SELECT Id FROM Account WHERE Name = '" + strings.Repeat("a", 300) + "' junk", CodeMalformedQuery,
			"\n" + strings.Repeat("a", 98) + "' junk\n" + strings.Repeat(" ", 100) + "^\nERROR at Row:1:Column:340\nunexpected token: 'junk'"},
		{"MALFORMED: nesting too deep", "SELECT Id FROM Account WHERE " + strings.Repeat("(", 1000) + "Name = 'x'" + strings.Repeat(")", 1000), CodeMalformedQuery, ""},
		{"MALFORMED: NOT nested too deep", "SELECT Id FROM Account WHERE " + strings.Repeat("NOT ", 1000) + "Name = 'x'", CodeMalformedQuery, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(tc.q, Options{})
			var e *Error
			require.ErrorAs(t, err, &e, tc.q)
			assert.Equal(t, tc.code, e.Code, e.Message)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, e.Message)
			}
			assert.True(t, errors.Is(err, &Error{Code: tc.code}))
		})
	}
}

// TestCount follows "COUNT() and COUNT(fieldName)": COUNT() returns the
// number of rows in totalSize and no records; COUNT(field) counts non-null
// values and comes back as an AggregateResult with expr0 or the alias.
func TestCount(t *testing.T) {
	res, err := run("SELECT COUNT() FROM Account WHERE Industry != null", Options{APIVersion: "65.0"})
	require.NoError(t, err)
	assert.True(t, res.CountOnly)
	assert.Equal(t, 2, res.Count)
	got, err := json.Marshal(res)
	require.NoError(t, err)
	assert.JSONEq(t, `{"totalSize":2,"done":true,"records":[]}`, string(got))

	res, err = run("SELECT count(AnnualRevenue), COUNT(Id) total FROM Account", Options{APIVersion: "65.0"})
	require.NoError(t, err)
	got, err = json.Marshal(res)
	require.NoError(t, err)
	assert.Equal(t, `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"expr0":2,"total":3}]}`, string(got))

	res, err = run("SELECT COUNT() FROM Contact", Options{IncludeDeleted: true})
	require.NoError(t, err)
	assert.Equal(t, 4, res.TotalSize)

	// "LIMIT": "You can use LIMIT with count() as the fieldList to count up
	// to the maximum specified."
	res, err = run("SELECT COUNT() FROM Account LIMIT 2", Options{})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Count)
	assert.Equal(t, 2, res.TotalSize)
}

// TestRelationshipJSON checks the nesting of "Relationship Queries" as the
// REST API's query resource returns it: parents as nested objects with
// attributes (null when the reference is empty), children as a query result
// (null when there are none), fields in SELECT order, relationship names in
// their canonical spelling.
func TestRelationshipJSON(t *testing.T) {
	res, err := run("SELECT Id, Name, Account.Name, Account.Owner.Name, account.industry FROM Contact WHERE Id != '003000000000002AAA' ORDER BY Name", Options{APIVersion: "65.0"})
	require.NoError(t, err)
	got, err := json.Marshal(res)
	require.NoError(t, err)
	want := `{"totalSize":2,"done":true,"records":[` +
		`{"attributes":{"type":"Contact","url":"/services/data/v65.0/sobjects/Contact/003000000000001AAA"},"Id":"003000000000001AAA","Name":"Ann O'Neil",` +
		`"Account":{"attributes":{"type":"Account","url":"/services/data/v65.0/sobjects/Account/001000000000001AAA"},"Name":"Acme",` +
		`"Owner":{"attributes":{"type":"User","url":"/services/data/v65.0/sobjects/User/005000000000002AAA"},"Name":"Bob Rep"},"Industry":"Manufacturing"}},` +
		`{"attributes":{"type":"Contact","url":"/services/data/v65.0/sobjects/Contact/003000000000003AAA"},"Id":"003000000000003AAA","Name":"Cy Lone","Account":null}]}`
	assert.Equal(t, want, string(got))

	res, err = run("SELECT Name, (SELECT LastName FROM contacts ORDER BY LastName DESC), (SELECT Name FROM Opportunities WHERE Amount > 50) FROM Account ORDER BY Name LIMIT 2", Options{APIVersion: "65.0"})
	require.NoError(t, err)
	got, err = json.Marshal(res)
	require.NoError(t, err)
	want = `{"totalSize":2,"done":true,"records":[` +
		`{"attributes":{"type":"Account","url":"/services/data/v65.0/sobjects/Account/001000000000001AAA"},"Name":"Acme",` +
		`"Contacts":{"totalSize":2,"done":true,"records":[` +
		`{"attributes":{"type":"Contact","url":"/services/data/v65.0/sobjects/Contact/003000000000001AAA"},"LastName":"O'Neil"},` +
		`{"attributes":{"type":"Contact","url":"/services/data/v65.0/sobjects/Contact/003000000000002AAA"},"LastName":"Back\\slash"}]},` +
		`"Opportunities":{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Opportunity","url":"/services/data/v65.0/sobjects/Opportunity/006000000000001AAA"},"Name":"Big deal"}]}},` +
		`{"attributes":{"type":"Account","url":"/services/data/v65.0/sobjects/Account/001000000000002AAA"},"Name":"Globex 100% _real_","Contacts":null,"Opportunities":null}]}`
	assert.Equal(t, want, string(got))
}

// TestParentLevels follows "Relationship Query Limits": five levels of
// parents are allowed; a null link anywhere makes the rest null.
func TestParentLevels(t *testing.T) {
	res, err := run("SELECT Id, Parent.Parent.Owner.Manager.Name, Parent.Parent.Parent.Parent.Parent.Name FROM Account WHERE Id = '001000000000003AAA'", Options{})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	parent, _ := res.Records[0].Get("Parent")
	p1 := parent.(*Record)
	p2v, _ := p1.Get("Parent")
	p2 := p2v.(*Record)
	assert.Equal(t, "Account", p2.Type)
	ownerV, _ := p2.Get("Owner")
	managerV, _ := ownerV.(*Record).Get("Manager")
	name, _ := managerV.(*Record).Get("Name")
	assert.Equal(t, "Ada Boss", name)
	p3, _ := p2.Get("Parent")
	assert.Nil(t, p3, "Acme has no parent: the chain ends in null")
}

// TestQuotedStringEscapes reads each row of "Quoted String Escape Sequences"
// (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm)
// as the parser stores it: outside LIKE decoded; in LIKE, \% \_ and \\ kept
// escaped for the matcher. Any other backslash is an error.
func TestQuotedStringEscapes(t *testing.T) {
	for _, tc := range []struct{ body, plain, like string }{
		{`\n\N`, "\n\n", "\n\n"},
		{`\r\R`, "\r\r", "\r\r"},
		{`\t\T`, "\t\t", "\t\t"},
		{`\b\B`, "\b\b", "\b\b"},
		{`\f\F`, "\f\f", "\f\f"},
		{`\"`, `"`, `"`},
		{`\'`, `'`, `'`},
		{`\\`, `\`, `\\`},
		{`\u00e9\u0025`, "é%", `é\%`},
		{`\ud83d\ude00`, "\U0001F600", "\U0001F600"},
		{`\_`, "", `\_`},
		{`\%`, "", `\%`},
	} {
		got, ok, bad := unescape(tc.body, true)
		assert.True(t, ok, "LIKE %s: illegal %s", tc.body, bad)
		assert.Equal(t, tc.like, got, "LIKE %s", tc.body)
		got, ok, _ = unescape(tc.body, false)
		if tc.plain == "" {
			assert.False(t, ok, "%s is valid in LIKE expressions only", tc.body)
			continue
		}
		assert.True(t, ok, tc.body)
		assert.Equal(t, tc.plain, got, tc.body)
	}
	for _, body := range []string{`\U0041`, `\a`, `\x41`, `\0`, `\u12`, `\uzzzz`, `\`, `\é`} {
		for _, like := range []bool{false, true} {
			_, ok, _ := unescape(body, like)
			assert.False(t, ok, "%s (like %v) is not in the reference", body, like)
		}
	}
}
