package soql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Escapes follow the SOQL and SOSL Reference, "Quoted String Escape
// Sequences" (\n \r \t \b \f \" \' \\, LIKE-only \_ \%, and \uXXXX); date
// forms follow "Date Formats and Date Literals in WHERE" (YYYY-MM-DD for date,
// YYYY-MM-DDThh:mm:ssZ for dateTime, unquoted).

type industry string

func TestFormatValues(t *testing.T) {
	name := "Bob's BBQ"
	var nilName *string
	likeText := Like("x_y")
	when := time.Date(2005, 10, 8, 3, 2, 3, 999_000_000, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name string
		tmpl string
		args []any
		want string
	}{
		// "Reserved Characters": Bob's BBQ is written 'Bob\'s BBQ'.
		{"string with quote", "WHERE Name = ?", []any{"Bob's BBQ"}, `WHERE Name = 'Bob\'s BBQ'`},
		{"string escapes", "?", []any{"a\\b\"c\n\r\t\fd"}, `'a\\b\"c\n\r\t\fd'`},
		{"control chars as \\u", "?", []any{"\x00\x07\x08\x1f\x7f"}, `'\u0000\u0007\u0008\u001f\u007f'`},
		{"unicode kept", "?", []any{"é日本"}, `'é日本'`},
		{"percent not escaped outside LIKE", "?", []any{"50%_off"}, `'50%_off'`},
		{"pointer to string", "?", []any{&name}, `'Bob\'s BBQ'`},
		{"nil pointer is null", "?", []any{nilName}, `null`},
		{"nil", "? ?", []any{nil, true}, `null true`},
		{"bool", "?", []any{false}, `false`},
		{"ints", "? ? ? ? ?", []any{-1, int8(-128), int16(7), int32(8), int64(math.MinInt64)}, `-1 -128 7 8 -9223372036854775808`},
		{"uints", "? ? ?", []any{uint(1), uint8(255), uint64(math.MaxUint64)}, `1 255 18446744073709551615`},
		{"float without exponent", "? ? ?", []any{1e21, 0.000001, float32(1.5)}, `1000000000000000000000 0.000001 1.5`},
		{"negative float", "?", []any{-2.25}, `-2.25`},
		{"named string type", "?", []any{industry("Energy")}, `'Energy'`},
		{"datetime in UTC, seconds", "WHERE CreatedDate > ?", []any{when}, `WHERE CreatedDate > 2005-10-08T01:02:03Z`},
		{"date", "?", []any{Date{1999, time.January, 1}}, `1999-01-01`},
		{"leap day", "?", []any{Date{2024, time.February, 29}}, `2024-02-29`},
		{"IN strings", "WHERE Industry IN ?", []any{[]string{"Banking", "O'Neil"}}, `WHERE Industry IN ('Banking','O\'Neil')`},
		{"IN ints", "?", []any{[]int{1, 2, 3}}, `(1,2,3)`},
		{"IN any mixed", "?", []any{[]any{"a", 1, nil, Date{2000, 1, 2}}}, `('a',1,null,2000-01-02)`},
		{"IN array", "?", []any{[2]bool{true, false}}, `(true,false)`},
		// LIKE: \% and \_ match themselves ("Quoted String Escape Sequences").
		{"like exact", "WHERE Name LIKE ?", []any{Like("Ter%")}, `WHERE Name LIKE 'Ter\%'`},
		{"like starts", "Name LIKE ?", []any{StartsWith("Ter%")}, `Name LIKE 'Ter\%%'`},
		{"like ends", "Name like\n\t?", []any{EndsWith("a_b")}, "Name like\n\t'%a\\_b'"},
		{"like contains", "NOT Name LIKE ?", []any{Contains("it's")}, `NOT Name LIKE '%it\'s%'`},
		{"like pointer", "Name LIKE ?", []any{&likeText}, `Name LIKE 'x\_y'`},
		{"like nil pointer", "Name LIKE ?", []any{(*LikePattern)(nil)}, `Name LIKE null`},
		{"? in template literal is text", "WHERE Name = 'why?' AND Id = ?", []any{"x"}, `WHERE Name = 'why?' AND Id = 'x'`},
		{"escaped quote in template literal", `WHERE Name = 'a\'?' AND Id = ?`, []any{"x"}, `WHERE Name = 'a\'?' AND Id = 'x'`},
		{"no placeholders", "SELECT Id FROM Account", nil, "SELECT Id FROM Account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Format(tc.tmpl, tc.args...)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Format = %s, want %s", got, tc.want)
			}
		})
	}
}

type stringer struct{}

func (stringer) String() string { return "x" }

func TestFormatRefuses(t *testing.T) {
	pattern := Contains("x")
	tests := []struct {
		name    string
		tmpl    string
		args    []any
		wantErr error
		wantArg int
	}{
		{"too few values", "? ?", []any{1}, ErrArgCount, -1},
		{"too many values", "?", []any{1, 2}, ErrArgCount, -1},
		{"unterminated template literal", "WHERE Name = 'x AND Id = ?", []any{1}, ErrTemplate, -1},
		{"NaN", "?", []any{math.NaN()}, ErrInvalidValue, 0},
		{"Inf", "? ?", []any{1, math.Inf(-1)}, ErrInvalidValue, 1},
		{"float32 Inf", "?", []any{float32(math.Inf(1))}, ErrInvalidValue, 0},
		// IN () is not valid SOQL: an IN list needs at least one value.
		{"empty slice", "?", []any{[]string{}}, ErrInvalidValue, 0},
		{"nil slice", "?", []any{[]int(nil)}, ErrInvalidValue, 0},
		{"nested slice", "?", []any{[][]int{{1}}}, ErrUnsupportedType, 0},
		{"bytes", "?", []any{[]byte("x")}, ErrUnsupportedType, 0},
		{"stringer", "?", []any{stringer{}}, ErrUnsupportedType, 0},
		{"map", "?", []any{map[string]int{}}, ErrUnsupportedType, 0},
		{"struct", "?", []any{struct{}{}}, ErrUnsupportedType, 0},
		{"func", "?", []any{func() {}}, ErrUnsupportedType, 0},
		{"invalid utf8", "?", []any{"a\xffb"}, ErrInvalidValue, 0},
		{"invalid utf8 like", "Name LIKE ?", []any{Contains("\xff")}, ErrInvalidValue, 0},
		{"zero time", "?", []any{time.Time{}}, ErrInvalidValue, 0},
		{"year 10000", "?", []any{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalidValue, 0},
		{"Feb 30", "?", []any{Date{2023, time.February, 30}}, ErrInvalidValue, 0},
		{"month 13", "?", []any{Date{2023, 13, 1}}, ErrInvalidValue, 0},
		{"bad element in list", "?", []any{[]any{"a", math.NaN()}}, ErrInvalidValue, 0},
		// \% and \_ are valid in LIKE expressions only ("Quoted String Escape
		// Sequences"), and after = a pattern's % would be plain text.
		{"like pattern after =", "Name = ?", []any{Contains("x")}, ErrUnsupportedType, 0},
		{"like pattern with no operator", "?", []any{Like("x")}, ErrUnsupportedType, 0},
		{"like pattern pointer after =", "Name = ?", []any{&pattern}, ErrUnsupportedType, 0},
		{"like pattern in IN list", "Name LIKE ?", []any{[]LikePattern{Like("x")}}, ErrUnsupportedType, 0},
		{"like pattern in any list", "Name IN ?", []any{[]any{"a", StartsWith("b")}}, ErrUnsupportedType, 0},
		{"a name ending in like is not LIKE", "Unlike ?", []any{Like("x")}, ErrUnsupportedType, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Format(tc.tmpl, tc.args...)
			if err == nil {
				t.Fatalf("Format = %q, want error %v", got, tc.wantErr)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want errors.Is %v", err, tc.wantErr)
			}
			var fe *Error
			if !errors.As(err, &fe) || fe.Arg != tc.wantArg {
				t.Fatalf("error %#v, want *Error with Arg %d", err, tc.wantArg)
			}
		})
	}
}

func TestErrorDoesNotPrintValue(t *testing.T) {
	_, err := Format("?", []any{"secret-ssn-123", math.NaN()})
	if err == nil || strings.Contains(err.Error(), "secret-ssn-123") {
		t.Fatalf("error %v must exist and must not contain the value", err)
	}
}

func TestDateOf(t *testing.T) {
	tm := time.Date(2024, 3, 1, 23, 30, 0, 0, time.FixedZone("X", -5*3600))
	if got := DateOf(tm); got != (Date{2024, time.March, 1}) {
		t.Fatalf("DateOf = %v", got)
	}
	if got, _ := Format("?", DateOf(tm)); got != "2024-03-01" {
		t.Fatalf("Literal = %s", got)
	}
}

// decodeLiteral reads one SOQL string literal from the start of s and returns
// its decoded value and the number of bytes it used. It accepts the escapes of
// "Quoted String Escape Sequences" except the LIKE-only ones and \b, which the
// reference calls bell in English and backspace in other editions, so Format
// must never write it; it refuses raw control characters, which Format never
// emits either. The fake org's parser reads Format's output too: see
// salesforcetest/internal/soqlengine/format_fuzz_test.go.
func decodeLiteral(s string) (string, int, error) {
	if len(s) == 0 || s[0] != '\'' {
		return "", 0, errors.New("literal does not start with '")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			return b.String(), i + 1, nil
		case c < 0x20 || c == 0x7f:
			return "", 0, fmt.Errorf("raw control byte %#x at %d", c, i)
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", 0, errors.New("dangling backslash")
		}
		switch s[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		case 'r', 'R':
			b.WriteByte('\r')
		case 't', 'T':
			b.WriteByte('\t')
		case 'f', 'F':
			b.WriteByte('\f')
		case '"', '\'', '\\':
			b.WriteByte(s[i])
		case 'u':
			if i+4 >= len(s) {
				return "", 0, errors.New("short \\u escape")
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", 0, err
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			return "", 0, fmt.Errorf("escape \\%c is not valid outside LIKE", s[i])
		}
	}
	return "", 0, errors.New("literal not closed")
}

// FuzzFormatString shows that any valid UTF-8 string becomes exactly one
// well-formed literal that decodes back to itself, so no value can end the
// literal early and add query text.
func FuzzFormatString(f *testing.F) {
	for _, s := range []string{"", "Bob's BBQ", `\'`, "' OR Name != '", "\\", "a\nb", "%_", "\x00\x7f", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Format("WHERE Name = ? LIMIT 1", s)
		if !utf8.ValidString(s) {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("invalid UTF-8 %q: err = %v, want ErrInvalidValue", s, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Format(%q): %v", s, err)
		}
		const pre, post = "WHERE Name = ", " LIMIT 1"
		if !strings.HasPrefix(q, pre) || !strings.HasSuffix(q, post) {
			t.Fatalf("query shape changed: %q", q)
		}
		lit := q[len(pre) : len(q)-len(post)]
		got, n, err := decodeLiteral(lit)
		if err != nil {
			t.Fatalf("literal %q: %v", lit, err)
		}
		if n != len(lit) {
			t.Fatalf("literal %q ends at %d, before its end %d", lit, n, len(lit))
		}
		if got != s {
			t.Fatalf("decoded %q, want %q", got, s)
		}
	})
}

func ExampleFormat() {
	q, err := Format("SELECT Id FROM Account WHERE Name = ? AND Industry IN ? AND CreatedDate > ?",
		"Bob's BBQ", []string{"Banking", "Energy"}, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	// Output: SELECT Id FROM Account WHERE Name = 'Bob\'s BBQ' AND Industry IN ('Banking','Energy') AND CreatedDate > 2024-01-02T03:04:05Z
}

func ExampleStartsWith() {
	q, _ := Format("SELECT Id FROM Account WHERE Name LIKE ?", StartsWith("100%_"))
	fmt.Println(q)
	// Output: SELECT Id FROM Account WHERE Name LIKE '100\%\_%'
}

func ExampleFormat_emptyList() {
	_, err := Format("SELECT Id FROM Account WHERE Id IN ?", []string{})
	fmt.Println(errors.Is(err, ErrInvalidValue))
	// Output: true
}
