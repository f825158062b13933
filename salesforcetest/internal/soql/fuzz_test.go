package soql

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// escapeSOQL escapes a value for a quoted SOQL string per "Quoted String
// Escape Sequences": backslash, both quotes and the control characters that
// have a named escape get one; every other control character becomes \uXXXX.
// This is the rule the SDK's safe query builder relies on.
func escapeSOQL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			// Invalid UTF-8 passes through byte for byte.
			b.WriteByte(s[i])
			i++
			continue
		}
		i += size
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// escapeLike additionally escapes LIKE's wildcards (\% and \_).
func escapeLike(s string) string {
	return strings.NewReplacer("%", `\%`, "_", `\_`).Replace(escapeSOQL(s))
}

// checkRoundTrip asserts that an escaped value parses back as exactly one
// string literal holding exactly the value, and that as a LIKE pattern it
// matches the value and only text equal to it (case aside).
func checkRoundTrip(t *testing.T, value string) {
	q, err := Parse("SELECT Id FROM Account WHERE Name = '" + escapeSOQL(value) + "' AND Industry IN ('" + escapeSOQL(value) + "')")
	require.NoError(t, err, "value %q", value)
	and, ok := q.where.(andExpr)
	require.True(t, ok, "the value must not escape its literal: %q", value)
	require.Len(t, and.terms, 2)
	eq := and.terms[0].(cmpExpr)
	require.Len(t, eq.values, 1)
	assert.Equal(t, litString, eq.values[0].kind)
	assert.Equal(t, value, eq.values[0].str)
	in := and.terms[1].(cmpExpr)
	require.Len(t, in.values, 1)
	assert.Equal(t, value, in.values[0].str)

	q, err = Parse("SELECT Id FROM Account WHERE Name LIKE '" + escapeLike(value) + "'")
	require.NoError(t, err, "value %q", value)
	like := q.where.(cmpExpr)
	pat := compileLike(like.values[0].str)
	assert.True(t, pat.match(value), "LIKE must match the value itself: %q", value)
	for _, el := range pat {
		assert.Equal(t, byte('c'), el.kind, "an escaped value has no wildcards: %q", value)
	}
	assert.False(t, pat.match(value+"x"), "LIKE must match nothing longer: %q", value)
}

// TestEscapingRoundTrip follows "Quoted String Escape Sequences" and
// "Reserved Characters": quote and backslash are escaped, \n \r \t \b \f
// name control characters, \uXXXX stands for any character.
func TestEscapingRoundTrip(t *testing.T) {
	for _, v := range []string{
		"", "plain", "O'Brien", `back\slash`, `\'`, `'; DELETE`, `\`, `\\'`, "new\nline", "tab\tcr\r",
		"\b\f", "\x00\x01\x1f\x7f", `"quoted"`, "100%_done", `\%\_`, "héllo ✓ 日本", "\xff\xfe", "' OR Name != '",
		"end\\", "%", "_",
	} {
		checkRoundTrip(t, v)
	}
}

// FuzzEscaping: any value, escaped, parses back to itself as one literal.
func FuzzEscaping(f *testing.F) {
	for _, s := range []string{"", "O'Brien", `a\b`, "x\ny", "\x00", "%_", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if len(value) > 10000 {
			return
		}
		checkRoundTrip(t, value)
	})
}

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
		"SELECT",
		"'",
		"FIND {",
	} {
		f.Add(s)
	}
	schema, data := newSchema(), newData()
	f.Fuzz(func(t *testing.T, q string) {
		start := time.Now()
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
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v for %d bytes", d, len(q))
		}
	})
}

// TestParseBounds: the largest hostile statements are refused or parsed
// quickly, never by exhausting the stack.
func TestParseBounds(t *testing.T) {
	for name, q := range map[string]string{
		"deep parentheses": "SELECT Id FROM Account WHERE " + strings.Repeat("(", MaxQueryLength/2),
		"deep NOT":         "SELECT Id FROM Account WHERE " + strings.Repeat("NOT ", MaxQueryLength/4-10),
		"long IN list":     "SELECT Id FROM Account WHERE Name IN ('a'" + strings.Repeat(",'a'", MaxQueryLength/4-20) + ")",
		"long LIKE":        "SELECT Id FROM Account WHERE Name LIKE '" + strings.Repeat("%a", MaxQueryLength/2-40) + "'",
		"over the limit":   strings.Repeat(" ", MaxQueryLength+1),
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			parsed, err := Parse(q)
			if err == nil {
				_, err = Execute(parsed, newSchema(), newData(), Options{Now: now})
			}
			if err != nil {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, CodeMalformedQuery, e.Code)
			}
			assert.Less(t, time.Since(start), 2*time.Second)
		})
	}
}
