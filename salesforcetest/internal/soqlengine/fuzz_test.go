package soqlengine

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParse proves that Parse and ParseSearch never panic or hang on any
// input: they return a statement or a typed *Error. A parsed statement is
// also executed against the fixture, which must not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT Id FROM Account",
		"SELECT Id, Name, Account.Owner.Name, (SELECT Id FROM Contacts WHERE Email LIKE '%@x.com' ORDER BY Name DESC NULLS LAST LIMIT 5) FROM Account WHERE (Name = 'a\\'b' OR NumberOfEmployees > -1.5) AND NOT Industry IN ('x', null) ORDER BY Name LIMIT 10 OFFSET 2",
		"SELECT COUNT() FROM Contact WHERE CreatedDate = LAST_N_DAYS:30 AND Birthdate < 2000-01-01",
		"SELECT COUNT(Id) c FROM Account WHERE CreatedDate > 2024-01-02T03:04:05+01:00",
		"FIND {acme* OR \"big deal\"} IN NAME FIELDS RETURNING Account(Name WHERE Active__c = true ORDER BY Name LIMIT 2), Contact LIMIT 5",
		"SELECT Id FROM Account WHERE Name = '\\u00e9\\n'",
		"SELECT Id FROM Account WHERE ((((Name = 'x'))))",
		"SELECT StageName, AccountId, COUNT(Id) n, SUM(Amount), COUNT_DISTINCT(Name), MIN(CloseDate) FROM Opportunity WHERE Amount > 0 GROUP BY StageName, AccountId HAVING COUNT(Id) > 1 AND (MAX(Amount) < 5 OR StageName = 'x') ORDER BY COUNT(Id) DESC, StageName LIMIT 5 OFFSET 1",
		"SELECT Name, FIELDS(CUSTOM), (SELECT FIELDS(ALL) FROM Contacts LIMIT 200) FROM Account LIMIT 200",
		"SELECT AVG(Amount) FROM Opportunity GROUP BY ROLLUP(StageName)",
		"SELECT",
		"'",
		"FIND {",
	} {
		f.Add(s)
	}
	schema, data := newSchema(), newData()
	f.Fuzz(func(t *testing.T, q string) {
		check := func(err error, codes ...string) {
			if err == nil {
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not *Error: %T %v", err, err)
			}
			for _, c := range codes {
				if e.Code == c {
					return
				}
			}
			t.Fatalf("unexpected code %s for %q: %s", e.Code, q, e.Message)
		}
		execCodes := []string{CodeInvalidType, CodeInvalidField, CodeInvalidQueryFilterOperator, CodeMalformedQuery}
		if parsed, err := Parse(q); err == nil {
			_, err = Execute(parsed, schema, data, Options{Now: now, APIVersion: "65.0", IncludeDeleted: len(q)%2 == 0})
			check(err, execCodes...)
		} else {
			check(err, CodeMalformedQuery, CodeNumberOutsideValidRange)
		}
		if s, err := ParseSearch(q); err == nil {
			_, err = ExecuteSearch(s, schema, data, Options{Now: now})
			check(err, execCodes...)
		} else {
			check(err, CodeMalformedSearch, CodeNumberOutsideValidRange)
		}
	})
}

// TestParseBounds: the largest hostile statements are refused or parsed and
// run, never by exhausting the stack. (Their cost is a benchmark's business,
// not a timed assertion's.)
func TestParseBounds(t *testing.T) {
	for name, q := range map[string]string{
		"deep parentheses": "SELECT Id FROM Account WHERE " + strings.Repeat("(", MaxQueryLength/2),
		"deep NOT":         "SELECT Id FROM Account WHERE " + strings.Repeat("NOT ", MaxQueryLength/4-10),
		"long IN list":     "SELECT Id FROM Account WHERE Name IN ('a'" + strings.Repeat(",'a'", MaxQueryLength/4-20) + ")",
		"long LIKE":        "SELECT Id FROM Account WHERE Name LIKE '" + strings.Repeat("%a", MaxQueryLength/2-40) + "'",
		"over the limit":   strings.Repeat(" ", MaxQueryLength+1),
	} {
		t.Run(name, func(t *testing.T) {
			parsed, err := Parse(q)
			if err == nil {
				_, err = Execute(parsed, newSchema(), newData(), Options{Now: now})
			}
			if err != nil {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, CodeMalformedQuery, e.Code)
			}
		})
	}
}
