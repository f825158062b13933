package soqlengine

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aggJSON runs q and returns its records as the REST API's JSON.
func aggJSON(t *testing.T, q string) string {
	t.Helper()
	res, err := run(q, Options{APIVersion: "65.0"})
	require.NoError(t, err, q)
	assert.True(t, res.Aggregate, q)
	assert.Equal(t, len(res.Records), res.TotalSize)
	got, err := json.Marshal(res.Records)
	require.NoError(t, err)
	return string(got)
}

// TestGroupBy follows "GROUP BY", "Aggregate Functions" and "Using Aliases
// with GROUP BY" (SOQL and SOSL Reference,
// https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_groupby.htm):
// one AggregateResult a group, grouped fields under their names, aggregates
// under their alias or expr0, expr1, ... counting unaliased aggregates only;
// every function but COUNT() ignores nulls.
func TestGroupBy(t *testing.T) {
	assert.JSONEq(t, `[
		{"attributes":{"type":"AggregateResult"},"StageName":"Closed Won","expr0":1,"total":20.5,"expr1":90,"expr2":"2024-02-29","expr3":20.5,"expr4":1},
		{"attributes":{"type":"AggregateResult"},"StageName":"Prospecting","expr0":2,"total":100000,"expr1":30,"expr2":"2024-03-15","expr3":100000,"expr4":1}]`,
		aggJSON(t, "SELECT StageName, COUNT(Id), SUM(Amount) total, AVG(Probability), MIN(CloseDate), MAX(Amount), COUNT(Amount) FROM Opportunity GROUP BY StageName ORDER BY StageName"))

	// GROUP BY on several fields: one group per combination.
	assert.JSONEq(t, `[
		{"attributes":{"type":"AggregateResult"},"AccountId":"001000000000001AAA","StageName":"Closed Won","n":1},
		{"attributes":{"type":"AggregateResult"},"AccountId":"001000000000001AAA","StageName":"Prospecting","n":1},
		{"attributes":{"type":"AggregateResult"},"AccountId":"001000000000002AAA","StageName":"Prospecting","n":1}]`,
		aggJSON(t, "SELECT AccountId, StageName, COUNT(Id) n FROM Opportunity GROUP BY AccountId, StageName ORDER BY AccountId, StageName"))

	// A parent's field is keyed by its own name; nulls form a group; deleted
	// records count only for queryAll.
	assert.JSONEq(t, `[
		{"attributes":{"type":"AggregateResult"},"Name":"Acme","expr0":2},
		{"attributes":{"type":"AggregateResult"},"Name":"Globex 100% _real_","expr0":1}]`,
		aggJSON(t, "SELECT Account.Name, COUNT(Id) FROM Opportunity GROUP BY Account.Name ORDER BY Account.Name"))
	assert.JSONEq(t, `[
		{"attributes":{"type":"AggregateResult"},"Industry":null,"expr0":1},
		{"attributes":{"type":"AggregateResult"},"Industry":"Energy","expr0":1},
		{"attributes":{"type":"AggregateResult"},"Industry":"Manufacturing","expr0":1}]`,
		aggJSON(t, "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Industry NULLS FIRST"))

	// "HAVING" and "Considerations for HAVING": filters by aggregates and by
	// grouped fields.
	assert.JSONEq(t, `[{"attributes":{"type":"AggregateResult"},"AccountId":"001000000000001AAA","n":2}]`,
		aggJSON(t, "SELECT AccountId, COUNT(Id) n FROM Opportunity GROUP BY AccountId HAVING COUNT(Id) > 1"))
	assert.JSONEq(t, `[{"attributes":{"type":"AggregateResult"},"StageName":"Prospecting","expr0":100000}]`,
		aggJSON(t, "SELECT StageName, SUM(Amount) FROM Opportunity GROUP BY StageName HAVING StageName = 'prospecting' AND (SUM(Amount) >= 1000 OR COUNT(Id) > 5)"))

	// ORDER BY an aggregate, then LIMIT and OFFSET over the groups.
	assert.JSONEq(t, `[{"attributes":{"type":"AggregateResult"},"StageName":"Prospecting","expr0":2}]`,
		aggJSON(t, "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName ORDER BY COUNT(Id) DESC LIMIT 1"))
	assert.JSONEq(t, `[{"attributes":{"type":"AggregateResult"},"StageName":"Closed Won","expr0":1}]`,
		aggJSON(t, "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName ORDER BY COUNT(Id) DESC LIMIT 1 OFFSET 1"))

	// Without GROUP BY: one row, even when nothing matched.
	assert.JSONEq(t, `[{"attributes":{"type":"AggregateResult"},"expr0":2,"expr1":3}]`,
		aggJSON(t, "SELECT COUNT_DISTINCT(StageName), COUNT(Id) FROM Opportunity"))
	assert.JSONEq(t, `[{"attributes":{"type":"AggregateResult"},"expr0":0,"expr1":null,"expr2":null}]`,
		aggJSON(t, "SELECT COUNT(Id), SUM(Amount), MIN(Name) FROM Opportunity WHERE Name = 'none'"))
	assert.JSONEq(t, `[{"attributes":{"type":"AggregateResult"},"expr0":"Big deal","expr1":"Small deal","expr2":"2024-04-20"}]`,
		aggJSON(t, "SELECT MIN(Name), MAX(Name), MAX(CloseDate) FROM Opportunity"))
}

// TestGroupByErrors: what "GROUP BY", "Considerations for GROUP BY",
// "HAVING", "Considerations for HAVING", "Aggregate Functions" and "Support
// for Field Types in Aggregate Functions" rule out.
func TestGroupByErrors(t *testing.T) {
	for _, tc := range []struct{ name, q, code, msg string }{
		{"a field neither grouped nor aggregated", "SELECT Name, StageName, COUNT(Id) FROM Opportunity GROUP BY StageName", CodeMalformedQuery,
			"\nSELECT Name, StageName, COUNT(Id) FROM Opportunity GROUP BY StageName\n       ^\nERROR at Row:1:Column:8\nField must be grouped or aggregated: Name"},
		{"GROUP BY without aggregates still groups the list", "SELECT Name FROM Opportunity GROUP BY StageName", CodeMalformedQuery, ""},
		{"HAVING on a field not grouped", "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName HAVING Name = 'x'", CodeMalformedQuery, ""},
		{"ORDER BY a field not grouped", "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName ORDER BY Name", CodeMalformedQuery,
			"\nSELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName ORDER BY Name\n                                                                         ^\nERROR at Row:1:Column:74\nOrdered field must be grouped or aggregated: Name"},
		{"SUM of text", "SELECT SUM(Name) FROM Opportunity", CodeInvalidField, ""},
		{"AVG of a date", "SELECT AVG(CloseDate) FROM Opportunity", CodeInvalidField, ""},
		{"COUNT of a boolean", "SELECT COUNT(Active__c) FROM Account", CodeInvalidField, ""},
		{"GROUP BY a currency field", "SELECT Amount, COUNT(Id) FROM Opportunity GROUP BY Amount", CodeInvalidField, ""},
		{"GROUP BY a dateTime field", "SELECT CreatedDate, COUNT(Id) FROM Account GROUP BY CreatedDate", CodeInvalidField, ""},
		{"GROUP BY an unknown field", "SELECT COUNT(Id) FROM Account GROUP BY Nope", CodeInvalidField, ""},
		{"an aggregate in WHERE", "SELECT StageName FROM Opportunity WHERE COUNT(Id) > 1", CodeMalformedQuery, ""},
		{"HAVING without GROUP BY", "SELECT COUNT(Id) FROM Opportunity HAVING COUNT(Id) > 1", CodeMalformedQuery, ""},
		{"COUNT() with GROUP BY", "SELECT COUNT() FROM Opportunity GROUP BY StageName", CodeMalformedQuery, ""},
		{"a child subquery with GROUP BY", "SELECT Industry, (SELECT Id FROM Contacts) FROM Account GROUP BY Industry", CodeMalformedQuery, ""},
		{"LIMIT with an aggregate and no GROUP BY", "SELECT MAX(CreatedDate) FROM Account LIMIT 1", CodeMalformedQuery, ""},
		{"a HAVING literal of the wrong type", "SELECT StageName FROM Opportunity GROUP BY StageName HAVING COUNT(Id) > 'x'", CodeInvalidField, ""},
		{"two columns of one name", "SELECT StageName, COUNT(Id) StageName FROM Opportunity GROUP BY StageName", CodeMalformedQuery, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(tc.q, Options{})
			var e *Error
			require.ErrorAs(t, err, &e, tc.q)
			assert.Equal(t, tc.code, e.Code, e.Message)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, e.Message)
			}
		})
	}
}

// TestFieldsFunction follows "SELECT" (the FIELDS() keyword,
// https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_fields.htm):
// STANDARD, CUSTOM and ALL select those fields; CUSTOM and ALL are
// unbounded and need LIMIT n with n at most 200; a field selected twice is
// INVALID_FIELD "duplicate field selected"; from API 51.0.
func TestFieldsFunction(t *testing.T) {
	res, err := run("SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme'", Options{APIVersion: "65.0"})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	var names []string
	for _, f := range res.Records[0].Fields {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"Id", "IsDeleted", "CreatedDate", "Name", "Industry", "NumberOfEmployees", "AnnualRevenue", "Website", "OwnerId", "ParentId"}, names)

	res, err = run("SELECT Name, FIELDS(CUSTOM) FROM Account WHERE Name = 'Acme' LIMIT 200", Options{APIVersion: "65.0"})
	require.NoError(t, err)
	got, err := json.Marshal(res.Records)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"attributes":{"type":"Account","url":"/services/data/v65.0/sobjects/Account/001000000000001AAA"},"Name":"Acme","Active__c":true}]`, string(got))

	res, err = run("SELECT FIELDS(ALL) FROM Account LIMIT 200", Options{})
	require.NoError(t, err)
	assert.Len(t, res.Records[0].Fields, 11)

	// In a subquery, with the subquery's own LIMIT.
	res, err = run("SELECT Name, (SELECT FIELDS(ALL) FROM Contacts LIMIT 200) FROM Account WHERE Name = 'Acme'", Options{})
	require.NoError(t, err)
	contacts, _ := res.Records[0].Get("Contacts")
	require.NotNil(t, contacts)
	assert.Len(t, contacts.(*Result).Records[0].Fields, 10)

	for _, tc := range []struct{ q, code, msg, v string }{
		{"SELECT FIELDS(ALL) FROM Account", CodeMalformedQuery, "", "65.0"},
		{"SELECT FIELDS(CUSTOM) FROM Account LIMIT 201", CodeMalformedQuery, "", "65.0"},
		{"SELECT Name, (SELECT FIELDS(ALL) FROM Contacts) FROM Account", CodeMalformedQuery, "", "65.0"},
		{"SELECT Id, FIELDS(ALL) FROM Account LIMIT 200", CodeInvalidField,
			"\nSELECT Id, FIELDS(ALL) FROM Account LIMIT 200\n           ^\nERROR at Row:1:Column:12\nduplicate field selected: Id", "65.0"},
		{"SELECT FIELDS(STANDARD) FROM Account", CodeMalformedQuery, "", "50.0"},
		{"SELECT FIELDS(EVERYTHING) FROM Account", CodeMalformedQuery, "", "65.0"},
	} {
		_, err := run(tc.q, Options{APIVersion: tc.v})
		var e *Error
		require.ErrorAs(t, err, &e, tc.q)
		assert.Equal(t, tc.code, e.Code, "%s: %s", tc.q, e.Message)
		if tc.msg != "" {
			assert.Equal(t, tc.msg, e.Message)
		}
	}
}

// TestAggregateColumns: columns=true describes an aggregate query's
// columns as its AggregateResult names them: grouped fields as fields,
// aggregates by alias or exprN with the function as written for display.
func TestAggregateColumns(t *testing.T) {
	q, err := Parse("SELECT StageName, COUNT(Id) n, SUM(Amount) FROM Opportunity GROUP BY StageName")
	require.NoError(t, err)
	cols, err := Columns(q, newSchema())
	require.NoError(t, err)
	require.Len(t, cols, 3)
	assert.Equal(t, "StageName", cols[0].Name)
	assert.False(t, cols[0].Aggregate)
	require.NotNil(t, cols[0].Field)
	assert.Equal(t, Column{Name: "n", DisplayName: "COUNT(Id)", Aggregate: true}, cols[1])
	assert.Equal(t, Column{Name: "expr0", DisplayName: "SUM(Amount)", Aggregate: true}, cols[2])
}
