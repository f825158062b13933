// Package soql builds SOQL query text from a template and values, so that a
// value can never change the shape of the query.
//
// The template is code: it is written by the programmer and is used as is.
// Values are data: each one replaces a ? placeholder as a single SOQL literal
// (a quoted and escaped string, a number, a boolean, null, a date, a dateTime,
// or a parenthesised IN list). A value that has no safe literal form is
// refused with an error instead of being guessed at.
//
//	q, err := soql.Format("SELECT Id FROM Account WHERE Name = ? AND Industry IN ?",
//		name, []string{"Banking", "Energy"})
//
// Placeholders are ? rather than {} or %v because SOQL uses neither ? nor
// Apex-style binds in API queries, so a ? outside a string literal can only be
// a placeholder; a ? inside a quoted literal written in the template is text
// and is left alone.
package soql

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors, matched with errors.Is on the *Error that Format returns.
var (
	// ErrTemplate means the template itself is malformed (an unterminated
	// string literal).
	ErrTemplate = errors.New("soql: malformed template")
	// ErrArgCount means the number of values differs from the number of ?
	// placeholders.
	ErrArgCount = errors.New("soql: placeholder and value counts differ")
	// ErrUnsupportedType means a value's Go type has no SOQL literal form,
	// or none where its placeholder stands: a LikePattern anywhere but right
	// after LIKE.
	ErrUnsupportedType = errors.New("soql: unsupported value type")
	// ErrInvalidValue means a value of a supported type cannot be written as
	// a SOQL literal (NaN, an empty IN list, invalid UTF-8, a zero time, a
	// year outside 0000-9999, an impossible date).
	ErrInvalidValue = errors.New("soql: value has no SOQL literal")
)

// Error describes why Format refused its input. Arg is the zero-based index
// of the offending value, or -1 when the template or the value count is at
// fault. The message names the Go type but never prints the value, since
// values can be personal data.
type Error struct {
	Arg    int
	Reason string
	Err    error // one of the sentinel errors above
}

func (e *Error) Error() string {
	if e.Arg < 0 {
		return e.Err.Error() + ": " + e.Reason
	}
	return fmt.Sprintf("%v: value %d: %s", e.Err, e.Arg, e.Reason)
}

// Unwrap returns the sentinel error, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// Date is a calendar date without a time of day or zone, written in SOQL as
// YYYY-MM-DD. Use it for date fields; time.Time is written as a dateTime.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String returns the date as YYYY-MM-DD. It does not validate the date.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// valid reports whether d names a real day in years 0000-9999.
func (d Date) valid() bool {
	if d.Year < 0 || d.Year > 9999 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	y, m, dd := t.Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// LikePattern is a value for the right-hand side of LIKE. The text given to
// Like, StartsWith, EndsWith or Contains matches literally: its % and _ are
// escaped as \% and \_, which SOQL allows only in LIKE expressions, so Format
// accepts a LikePattern only for a placeholder right after LIKE: after = it
// would silently match its wildcards as text, and in an IN list the escapes
// are errors.
type LikePattern struct {
	text           string
	prefix, suffix bool // wildcard % before / after the text
}

// Like matches exactly text, with % and _ in text matching themselves.
func Like(text string) LikePattern { return LikePattern{text: text} }

// StartsWith matches values that begin with text (text%).
func StartsWith(text string) LikePattern { return LikePattern{text: text, suffix: true} }

// EndsWith matches values that end with text (%text).
func EndsWith(text string) LikePattern { return LikePattern{text: text, prefix: true} }

// Contains matches values that contain text (%text%).
func Contains(text string) LikePattern {
	return LikePattern{text: text, prefix: true, suffix: true}
}

// Format replaces each ? placeholder in template, outside quoted string
// literals, with the SOQL literal of the matching value.
//
// Supported values: string; every Go integer and float kind (NaN and ±Inf are
// refused; floats are written without an exponent); bool; nil (null);
// time.Time (a dateTime literal in UTC, YYYY-MM-DDThh:mm:ssZ, sub-second
// part dropped); Date (YYYY-MM-DD); LikePattern (only right after LIKE); a
// pointer to any of these (nil is null); and a non-empty slice or array of
// these (an IN list such as ('a','b')). Named types are accepted by their
// underlying kind. Anything else, including fmt.Stringer, maps, structs and
// []byte, is refused: convert it explicitly so that the query says what it
// means.
func Format(template string, args ...any) (string, error) {
	var b strings.Builder
	b.Grow(len(template) + 16*len(args))
	next := 0
	inLiteral := false
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case inLiteral && c == '\\':
			if i+1 < len(template) {
				b.WriteByte(c)
				i++
				c = template[i]
			}
		case inLiteral && c == '\'':
			inLiteral = false
		case c == '\'':
			inLiteral = true
		case !inLiteral && c == '?':
			if next >= len(args) {
				return "", &Error{Arg: -1, Err: ErrArgCount,
					Reason: fmt.Sprintf("template has more than %d placeholders", len(args))}
			}
			if err := appendLiteral(&b, args[next], next, position(template[:i])); err != nil {
				return "", err
			}
			next++
			continue
		}
		b.WriteByte(c)
	}
	if inLiteral {
		return "", &Error{Arg: -1, Err: ErrTemplate,
			Reason: "a string literal in the template is not closed with '"}
	}
	if next != len(args) {
		return "", &Error{Arg: -1, Err: ErrArgCount,
			Reason: fmt.Sprintf("template has %d placeholders but %d values were given", next, len(args))}
	}
	return b.String(), nil
}

// place is where a placeholder stands, as far as LikePattern is concerned.
type place uint8

const (
	elsewhere place = iota
	afterLike       // right after the LIKE keyword
	inList          // an element of an IN list
)

// position tells whether the template text before a placeholder ends with
// the word LIKE (any case, any whitespace after it).
func position(before string) place {
	s := strings.TrimRight(before, " \t\n\r\f")
	if len(s) < 4 || !strings.EqualFold(s[len(s)-4:], "LIKE") {
		return elsewhere
	}
	if len(s) > 4 && !isSpace(s[len(s)-5]) {
		return elsewhere // a longer name that ends in like, as in Unlike
	}
	return afterLike
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func appendLiteral(b *strings.Builder, v any, arg int, at place) error {
	bad := func(sentinel error, format string, a ...any) error {
		return &Error{Arg: arg, Err: sentinel, Reason: fmt.Sprintf(format, a...)}
	}
	// Fast paths for the common types, without reflection.
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case string:
		if !utf8.ValidString(x) {
			return bad(ErrInvalidValue, "string is not valid UTF-8")
		}
		quote(b, x, false)
		return nil
	case LikePattern:
		switch at {
		case inList:
			return bad(ErrUnsupportedType, "LikePattern in an IN list: \\%% and \\_ are errors outside LIKE")
		case elsewhere:
			return bad(ErrUnsupportedType, "LikePattern for a placeholder that does not follow LIKE: its wildcards would match as text")
		}
		if !utf8.ValidString(x.text) {
			return bad(ErrInvalidValue, "LIKE text is not valid UTF-8")
		}
		b.WriteByte('\'')
		if x.prefix {
			b.WriteByte('%')
		}
		escape(b, x.text, true)
		if x.suffix {
			b.WriteByte('%')
		}
		b.WriteByte('\'')
		return nil
	case time.Time:
		if x.IsZero() {
			return bad(ErrInvalidValue, "time.Time is the zero time; pass nil for null")
		}
		u := x.UTC()
		if u.Year() < 0 || u.Year() > 9999 {
			return bad(ErrInvalidValue, "year %d is outside 0000-9999", u.Year())
		}
		b.WriteString(u.Format("2006-01-02T15:04:05Z"))
		return nil
	case Date:
		if !x.valid() {
			return bad(ErrInvalidValue, "soql.Date %s is not a real day in years 0000-9999", x)
		}
		b.WriteString(x.String())
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return nil
	case int:
		b.WriteString(strconv.Itoa(x))
		return nil
	case []byte:
		return bad(ErrUnsupportedType, "[]byte has no SOQL literal; convert it to string or to a list explicitly")
	}

	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		return appendLiteral(b, rv.Elem().Interface(), arg, at)
	case reflect.String:
		return appendLiteral(b, rv.String(), arg, at)
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
		return nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return bad(ErrInvalidValue, "%s is NaN or infinite", rv.Type())
		}
		bits := 64
		if rv.Kind() == reflect.Float32 {
			bits = 32
		}
		// 'f' never uses an exponent; SOQL's numeric literal grammar is not
		// documented to accept one.
		b.WriteString(strconv.FormatFloat(f, 'f', -1, bits))
		return nil
	case reflect.Slice, reflect.Array:
		if at == inList {
			return bad(ErrUnsupportedType, "nested list %s: an IN list holds single values", rv.Type())
		}
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return bad(ErrUnsupportedType, "%s has no SOQL literal; convert it explicitly", rv.Type())
		}
		if rv.Len() == 0 {
			return bad(ErrInvalidValue, "empty list: IN () is not valid SOQL; skip the condition instead")
		}
		b.WriteByte('(')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendLiteral(b, rv.Index(i).Interface(), arg, inList); err != nil {
				return err
			}
		}
		b.WriteByte(')')
		return nil
	}
	return bad(ErrUnsupportedType, "%T has no SOQL literal; convert it to a supported type explicitly", v)
}

// quote writes s as a single-quoted SOQL string literal.
func quote(b *strings.Builder, s string, like bool) {
	b.WriteByte('\'')
	escape(b, s, like)
	b.WriteByte('\'')
}

// escape writes s with the escapes of the SOQL and SOSL Reference, "Quoted
// String Escape Sequences". Control characters other than \n, \r, \t and \f
// are written as \uXXXX: the reference names \b both "bell" (English) and
// backspace (other editions), so the unambiguous form is used for both.
func escape(b *strings.Builder, s string, like bool) {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
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
		case '\f':
			b.WriteString(`\f`)
		case '%', '_':
			if like {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
				continue
			}
			b.WriteByte(c)
		}
	}
}
