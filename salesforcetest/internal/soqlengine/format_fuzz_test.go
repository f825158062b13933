package soqlengine

import (
	"math"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	sdksoql "github.com/sfmtls/sfmtls/soql"
)

// These targets bind values with the SDK's real soql.Format and read the
// query back with this package's parser, so the builder and the fake org are
// held to one reading of the SOQL and SOSL Reference:
//
//   - "Quoted String Escape Sequences"
//     (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm):
//     \n \r \t \b \f (each also upper case), \" \' \\, \uXXXX, and \_ \% in
//     LIKE expressions only; a backslash in any other context is an error.
//     The English page names \b "Bell", other editions "backspace": Format
//     never writes \b (it writes \u0008 and \u0007), so nothing rides on it.
//   - "Date Formats and Date Literals in WHERE": YYYY-MM-DD for a date,
//     YYYY-MM-DDThh:mm:ssZ for a dateTime, unquoted.
//
// The property, for every value of each supported type: Format either refuses
// it with ErrInvalidValue for a stated reason, or the query parses into
// exactly the template's structure (the value cannot end its literal early or
// add a term) and the literal the parser reads equals the value bound. The
// fixture org then executes it without error, which also checks that each
// literal has the type its field needs.

// industry is a named string type, as an application would declare one.
type industry string

// bind formats tmpl with args through the SDK and parses and executes the
// result. It returns nil when the statement is over MaxQueryLength, after
// checking that the parser refuses it for that reason alone.
func bind(t *testing.T, tmpl string, args ...any) *Query {
	t.Helper()
	src, err := sdksoql.Format(tmpl, args...)
	require.NoError(t, err)
	q, err := Parse(src)
	if len(src) > MaxQueryLength {
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, CodeMalformedQuery, e.Code)
		return nil
	}
	require.NoError(t, err, "query %q", src)
	_, err = Execute(q, newSchema(), newData(), Options{Now: now, APIVersion: "65.0"})
	require.NoError(t, err, "query %q", src)
	return q
}

// terms checks that q has one AND of n comparisons and LIMIT 1, and returns
// the comparisons.
func terms(t *testing.T, q *Query, object string, n int) []expr {
	t.Helper()
	require.Equal(t, object, q.object)
	require.Equal(t, 1, q.limit)
	require.Len(t, q.items, 1)
	and, ok := q.where.(andExpr)
	require.True(t, ok, "WHERE is %#v, not one AND", q.where)
	require.Len(t, and.terms, n)
	return and.terms
}

// cmp checks that e compares path with op and returns its literals.
func cmp(t *testing.T, e expr, path, op string, n int) []literal {
	t.Helper()
	c, ok := e.(cmpExpr)
	require.True(t, ok, "term is %#v, not a comparison", e)
	require.Equal(t, path, c.path)
	require.Equal(t, op, c.op)
	require.Len(t, c.values, n)
	return c.values
}

func requireString(t *testing.T, l literal, want string) {
	t.Helper()
	require.Equal(t, litString, l.kind, "literal %s", l.raw)
	require.Equal(t, want, l.str, "literal %s", l.raw)
}

// likeOf is the pattern a LikePattern must compile to: its text rune by rune,
// none of them a wildcard, between the wildcards it asks for.
func likeOf(text string, prefix, suffix bool) likePattern {
	var p likePattern
	if prefix {
		p = append(p, likeElem{kind: '%'})
	}
	for _, r := range text {
		p = append(p, likeElem{kind: 'c', r: foldRune(r)})
	}
	if suffix && (len(p) == 0 || p[len(p)-1].kind != '%') {
		p = append(p, likeElem{kind: '%'})
	}
	return p
}

// FuzzBindString binds one string as an = value, in an IN list (as itself, as
// a named string type and beside null), as each of the four LIKE patterns,
// and through a pointer.
func FuzzBindString(f *testing.F) {
	// More seeds: testdata/fuzz/FuzzBindString.
	for _, s := range []string{"", "plain", "O'Brien", `back\slash`, `\'`, `\\'`, `'; DELETE`, "' OR Name != '", `\`,
		"end\\", "new\nline", "tab\tcr\r", "\b\f\a", "\x00\x01\x1f\x7f", `"quoted"`, "100%_done", `\%\_`, "%", "_",
		`\u0027`, "héllo ✓ 日本 \U0001F600", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const tmpl = "SELECT Id FROM Account WHERE Name = ? AND Industry IN ?" +
			" AND (Name LIKE ? OR Name LIKE ? OR Name LIKE ? OR Name LIKE ?) AND Website != ? LIMIT 1"
		args := []any{s, []any{s, industry(s), nil},
			sdksoql.Like(s), sdksoql.StartsWith(s), sdksoql.EndsWith(s), sdksoql.Contains(s), &s}
		if !utf8.ValidString(s) {
			_, err := sdksoql.Format(tmpl, args...)
			require.ErrorIs(t, err, sdksoql.ErrInvalidValue)
			return
		}
		// A pattern's \% and \_ are errors outside LIKE, so Format keeps
		// patterns out of IN lists whatever their text.
		_, err := sdksoql.Format("SELECT Id FROM Account WHERE Name IN ?", []sdksoql.LikePattern{sdksoql.Like(s)})
		require.ErrorIs(t, err, sdksoql.ErrUnsupportedType)

		q := bind(t, tmpl, args...)
		if q == nil {
			return
		}
		ts := terms(t, q, "Account", 4)
		requireString(t, cmp(t, ts[0], "Name", "=", 1)[0], s)
		in := cmp(t, ts[1], "Industry", "IN", 3)
		requireString(t, in[0], s)
		requireString(t, in[1], s)
		require.Equal(t, litNull, in[2].kind)
		requireString(t, cmp(t, ts[3], "Website", "!=", 1)[0], s)

		or, ok := ts[2].(orExpr)
		require.True(t, ok, "LIKE terms are %#v, not one OR", ts[2])
		require.Len(t, or.terms, 4)
		for i, w := range []struct {
			prefix, suffix bool
			matches        string
		}{{false, false, s}, {false, true, s + "x"}, {true, false, "x" + s}, {true, true, "x" + s + "x"}} {
			l := cmp(t, or.terms[i], "Name", "LIKE", 1)[0]
			require.Equal(t, litString, l.kind)
			pat := compileLike(l.str)
			require.Equal(t, likeOf(s, w.prefix, w.suffix), pat, "LIKE %s", l.raw)
			require.True(t, pat.match(w.matches), "LIKE %s must match %q", l.raw, w.matches)
			if !w.prefix && !w.suffix {
				require.False(t, pat.match(s+"x"), "LIKE %s must match nothing longer", l.raw)
			}
		}
	})
}

// FuzzBindNumber binds integers of several kinds, floats, a bool and nil.
func FuzzBindNumber(f *testing.F) {
	// More seeds: testdata/fuzz/FuzzBindNumber.
	f.Add(int64(0), uint64(0), 0.0, float32(0), false)
	f.Add(int64(math.MinInt64), uint64(math.MaxUint64), 1e21, float32(0.1), true)
	f.Add(int64(-1), uint64(1), math.SmallestNonzeroFloat64, float32(math.MaxFloat32), false)
	f.Add(int64(math.MaxInt64), uint64(255), -math.MaxFloat64, float32(-math.SmallestNonzeroFloat32), true)
	f.Fuzz(func(t *testing.T, i int64, u uint64, fl float64, f32 float32, b bool) {
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			_, err := sdksoql.Format("?", fl)
			require.ErrorIs(t, err, sdksoql.ErrInvalidValue)
			fl = 0
		}
		if f64 := float64(f32); math.IsNaN(f64) || math.IsInf(f64, 0) {
			_, err := sdksoql.Format("?", f32)
			require.ErrorIs(t, err, sdksoql.ErrInvalidValue)
			f32 = 0
		}
		const tmpl = "SELECT Id FROM Account WHERE NumberOfEmployees = ? AND NumberOfEmployees IN ?" +
			" AND AnnualRevenue != ? AND AnnualRevenue IN ? AND Active__c = ? AND ParentId != ? LIMIT 1"
		q := bind(t, tmpl, i, []any{u, int8(i), uint8(u), &i}, fl, []float32{f32}, b, nil)
		ts := terms(t, q, "Account", 6)

		n := cmp(t, ts[0], "NumberOfEmployees", "=", 1)[0]
		require.Equal(t, litNumber, n.kind)
		require.Equal(t, strconv.FormatInt(i, 10), n.raw, "an integer is written whole, without exponent")
		require.Equal(t, float64(i), n.num)
		in := cmp(t, ts[1], "NumberOfEmployees", "IN", 4)
		for k, want := range []float64{float64(u), float64(int8(i)), float64(uint8(u)), float64(i)} {
			require.Equal(t, litNumber, in[k].kind)
			require.Equal(t, want, in[k].num, "IN element %d: %s", k, in[k].raw)
		}
		require.Equal(t, strconv.FormatUint(u, 10), in[0].raw)

		n = cmp(t, ts[2], "AnnualRevenue", "!=", 1)[0]
		require.Equal(t, litNumber, n.kind)
		require.True(t, n.num == fl, "read %v from %s, bound %v", n.num, n.raw, fl)
		n = cmp(t, ts[3], "AnnualRevenue", "IN", 1)[0]
		require.Equal(t, litNumber, n.kind)
		require.True(t, float32(n.num) == f32, "read %v from %s, bound float32 %v", n.num, n.raw, f32)

		l := cmp(t, ts[4], "Active__c", "=", 1)[0]
		require.Equal(t, litBool, l.kind)
		require.Equal(t, b, l.b)
		require.Equal(t, litNull, cmp(t, ts[5], "ParentId", "!=", 1)[0].kind)
	})
}

// FuzzBindTime binds a time.Time as a dateTime and a soql.Date as a date,
// alone and in IN lists.
func FuzzBindTime(f *testing.F) {
	// More seeds: testdata/fuzz/FuzzBindTime.
	f.Add(int64(1710504000), int64(999_999_999), int32(5*3600+30*60), 2024, 2, 29)
	f.Add(int64(-62167219200), int64(0), int32(0), 0, 1, 1)          // 0000-01-01T00:00:00Z
	f.Add(int64(253402300799), int64(0), int32(-3600), 9999, 12, 31) // the last second of 9999
	f.Add(int64(253402300800), int64(0), int32(3600), 10000, 1, 1)   // 10000: no literal
	f.Add(int64(-62135596800), int64(0), int32(0), 2023, 2, 29)      // time.Time's zero; no Feb 29
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int32, year, month, day int) {
		// Keep to the years around 0000-9999, where time.Time does not wrap.
		const lo, hi = -63_000_000_000, 254_000_000_000
		if sec < lo || sec > hi {
			sec = lo + int64(uint64(sec)%uint64(hi-lo))
		}
		tm := time.Unix(sec, nsec%1e9).In(time.FixedZone("", int(offset%(18*3600))))
		u := tm.UTC()
		if _, err := sdksoql.Format("?", tm); err != nil {
			require.ErrorIs(t, err, sdksoql.ErrInvalidValue)
			require.True(t, tm.IsZero() || u.Year() < 0 || u.Year() > 9999, "refused %v: %v", tm, err)
			tm = time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
			u = tm
		}
		d := sdksoql.Date{Year: year, Month: time.Month(month), Day: day}
		if _, err := sdksoql.Format("?", d); err != nil {
			require.ErrorIs(t, err, sdksoql.ErrInvalidValue)
			exists := year >= 0 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
				day <= time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			require.False(t, exists, "refused %+v: %v", d, err)
			d = sdksoql.Date{Year: 2024, Month: time.February, Day: 29}
		}

		const tmpl = "SELECT Id FROM Opportunity WHERE CreatedDate = ? AND CreatedDate IN ?" +
			" AND CloseDate = ? AND CloseDate IN ? LIMIT 1"
		q := bind(t, tmpl, tm, []time.Time{tm, tm}, d, []any{d, &d})
		ts := terms(t, q, "Opportunity", 4)

		// The dateTime is the instant in UTC to the second.
		wantT := time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), 0, time.UTC)
		dts := append(cmp(t, ts[0], "CreatedDate", "=", 1), cmp(t, ts[1], "CreatedDate", "IN", 2)...)
		for _, l := range dts {
			require.Equal(t, litDateTime, l.kind)
			require.True(t, l.t.Equal(wantT), "read %v from %s, bound %v", l.t, l.raw, tm)
		}
		wantD := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
		ds := append(cmp(t, ts[2], "CloseDate", "=", 1), cmp(t, ts[3], "CloseDate", "IN", 2)...)
		for _, l := range ds {
			require.Equal(t, litDate, l.kind)
			require.True(t, l.t.Equal(wantD), "read %v from %s, bound %+v", l.t, l.raw, d)
		}
	})
}
