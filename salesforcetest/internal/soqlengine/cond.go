package soqlengine

import (
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// condition is a compiled WHERE clause.
type condition func(rec map[string]any) bool

type dateLiteralKind int

const (
	plain dateLiteralKind = iota
	withN
)

// dateLiterals are the relative ranges of "Date Formats and Date Literals in
// WHERE" that this package knows.
var dateLiterals = map[string]dateLiteralKind{
	"YESTERDAY": plain, "TODAY": plain, "TOMORROW": plain,
	"LAST_WEEK": plain, "THIS_WEEK": plain, "NEXT_WEEK": plain,
	"LAST_MONTH": plain, "THIS_MONTH": plain, "NEXT_MONTH": plain,
	"LAST_90_DAYS": plain, "NEXT_90_DAYS": plain,
	"THIS_YEAR": plain, "LAST_YEAR": plain, "NEXT_YEAR": plain,
	"LAST_N_DAYS": withN, "NEXT_N_DAYS": withN, "N_DAYS_AGO": withN,
	"LAST_N_MONTHS": withN, "NEXT_N_MONTHS": withN,
}

// dayRange returns the literal's range [start, end) of days in the user's
// zone, as midnights in loc.
func (e *env) dayRange(l literal) (time.Time, time.Time) {
	n := e.now.In(e.loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, e.loc)
	day := func(d int) time.Time { return today.AddDate(0, 0, d) }
	month := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, e.loc)
	// Weeks start on Sunday, as in the en_US locale (the reference says the
	// first day of the week is determined by the user's locale).
	week := day(-int(n.Weekday()))
	year := time.Date(n.Year(), 1, 1, 0, 0, 0, 0, e.loc)
	switch l.rangeName {
	case "YESTERDAY":
		return day(-1), day(0)
	case "TODAY":
		return day(0), day(1)
	case "TOMORROW":
		return day(1), day(2)
	case "LAST_WEEK":
		return week.AddDate(0, 0, -7), week
	case "THIS_WEEK":
		return week, week.AddDate(0, 0, 7)
	case "NEXT_WEEK":
		return week.AddDate(0, 0, 7), week.AddDate(0, 0, 14)
	case "LAST_MONTH":
		return month.AddDate(0, -1, 0), month
	case "THIS_MONTH":
		return month, month.AddDate(0, 1, 0)
	case "NEXT_MONTH":
		return month.AddDate(0, 1, 0), month.AddDate(0, 2, 0)
	case "THIS_YEAR":
		return year, year.AddDate(1, 0, 0)
	case "LAST_YEAR":
		return year.AddDate(-1, 0, 0), year
	case "NEXT_YEAR":
		return year.AddDate(1, 0, 0), year.AddDate(2, 0, 0)
	case "LAST_90_DAYS":
		return day(-90), day(1)
	case "NEXT_90_DAYS":
		return day(1), day(91)
	case "LAST_N_DAYS":
		// The reference: "starts 00:00:00 of the current day and continues
		// for the past n days"; today is included.
		return day(-l.rangeN), day(1)
	case "NEXT_N_DAYS":
		// "starts 00:00:00 of the next day and continues for the next n days".
		return day(1), day(1 + l.rangeN)
	case "N_DAYS_AGO":
		return day(-l.rangeN), day(-l.rangeN + 1)
	case "LAST_N_MONTHS":
		// "starts 00:00:00 of the first day of the month n months ago and
		// continues through the last day of the previous month".
		return month.AddDate(0, -l.rangeN, 0), month
	case "NEXT_N_MONTHS":
		return month.AddDate(0, 1, 0), month.AddDate(0, 1+l.rangeN, 0)
	}
	return today, today
}

// typeName is the type a filter value must have, as Salesforce names it in
// "value of filter criterion for field 'X' must be of type T".
func typeName(t FieldType) string {
	switch t {
	case data.TypeInt:
		return "integer"
	case data.TypeDouble, data.TypeCurrency, data.TypePercent:
		return "double"
	case data.TypeDateTime:
		return "dateTime"
	case data.TypeID, data.TypeReference:
		return "id"
	}
	return string(t)
}

// checkLiteral tells whether a literal fits a field's type.
func (e *env) checkLiteral(f Field, op string, l literal) error {
	if l.kind == litNull {
		return nil
	}
	bad := func() error {
		quotes := "should not be enclosed in quotes"
		if category(f.Type) == catText || category(f.Type) == catID {
			quotes = "should be enclosed in quotes"
		}
		return e.errAt(CodeInvalidField, l.pos, "value of filter criterion for field '%s' must be of type %s and %s", f.Name, typeName(f.Type), quotes)
	}
	switch category(f.Type) {
	case catText:
		if l.kind != litString {
			return bad()
		}
	case catID:
		if l.kind != litString {
			return bad()
		}
		if op != "LIKE" && !validID(l.str) {
			return e.errAt(CodeInvalidQueryFilterOperator, l.pos, "invalid ID field: %s", l.str)
		}
	case catNumber:
		if l.kind != litNumber {
			return bad()
		}
	case catBool:
		if l.kind != litBool {
			return bad()
		}
	case catDate:
		if l.kind != litDate && l.kind != litDateRange {
			return bad()
		}
	case catDateTime:
		if l.kind != litDateTime && l.kind != litDateRange {
			return bad()
		}
	}
	return nil
}

// validID accepts the 15- and 18-character alphanumeric Ids.
func validID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) || s[i] == '_' {
			return false
		}
	}
	return true
}

// compile type-checks a WHERE expression and turns it into a predicate.
func (e *env) compile(obj Object, x expr) (condition, error) {
	return e.compileWith(x, func(c cmpExpr) (condition, error) { return e.compileCmp(obj, c) })
}

// compileWith builds a predicate of AND, OR and NOT over comparisons that
// leaf compiles: fields of records for WHERE, of groups for HAVING.
func (e *env) compileWith(x expr, leaf func(cmpExpr) (condition, error)) (condition, error) {
	switch x := x.(type) {
	case andExpr, orExpr:
		var terms []expr
		and := false
		if a, ok := x.(andExpr); ok {
			terms, and = a.terms, true
		} else {
			terms = x.(orExpr).terms
		}
		cs := make([]condition, len(terms))
		for i, t := range terms {
			c, err := e.compileWith(t, leaf)
			if err != nil {
				return nil, err
			}
			cs[i] = c
		}
		return func(rec map[string]any) bool {
			for _, c := range cs {
				if c(rec) != and {
					return !and
				}
			}
			return and
		}, nil
	case notExpr:
		c, err := e.compileWith(x.term, leaf)
		if err != nil {
			return nil, err
		}
		return func(rec map[string]any) bool { return !c(rec) }, nil
	case cmpExpr:
		return leaf(x)
	}
	return nil, &Error{Code: CodeMalformedQuery, Message: "unknown condition"}
}

func (e *env) compileCmp(obj Object, c cmpExpr) (condition, error) {
	if c.agg != nil {
		// "HAVING": aggregate functions filter in HAVING, not in WHERE.
		return nil, e.errAt(CodeMalformedQuery, c.pos, "aggregate functions are not allowed in WHERE: filter on them with HAVING")
	}
	r, err := e.resolve(obj, c.path, c.pos)
	if err != nil {
		return nil, err
	}
	return e.compileTest(c, r.field, func(rec map[string]any) any { return e.value(rec, r) })
}

// compileTest type-checks c's operator and values against f and builds the
// predicate over the values get reads.
func (e *env) compileTest(c cmpExpr, f Field, get func(map[string]any) any) (condition, error) {
	cat := category(f.Type)
	if c.op == "LIKE" && cat != catText && cat != catID {
		return nil, e.errAt(CodeInvalidQueryFilterOperator, c.pos, "invalid operator on %s field: LIKE compares text fields only", typeName(f.Type))
	}
	for _, l := range c.values {
		if err := e.checkLiteral(f, c.op, l); err != nil {
			return nil, err
		}
	}
	switch c.op {
	case "LIKE":
		l := c.values[0]
		if l.kind == litNull {
			return func(map[string]any) bool { return false }, nil
		}
		pat := compileLike(l.str)
		return func(rec map[string]any) bool {
			s, ok := get(rec).(string)
			return ok && pat.match(s)
		}, nil
	case "<", "<=", ">", ">=":
		if cat == catBool {
			return nil, e.errAt(CodeInvalidQueryFilterOperator, c.pos, "invalid operator on boolean field: use = or !=")
		}
	}
	return func(rec map[string]any) bool {
		v := get(rec)
		switch c.op {
		case "IN", "NOTIN":
			in := false
			for _, l := range c.values {
				if e.test(v, "=", l, f.Type) {
					in = true
					break
				}
			}
			return in == (c.op == "IN")
		}
		return e.test(v, c.op, c.values[0], f.Type)
	}, nil
}

// test evaluates value op literal. Null is a value in SOQL: Field = null
// finds nulls and Field != 'x' includes them ("Comparison Operators").
func (e *env) test(v any, op string, l literal, t FieldType) bool {
	if l.kind == litNull {
		switch op {
		case "=":
			return v == nil
		case "!=":
			return v != nil
		}
		return false
	}
	if v == nil {
		return op == "!="
	}
	if l.kind == litDateRange {
		x, ok := e.toTime(v, t)
		if !ok {
			return op == "!="
		}
		start, end := e.dayRange(l)
		if category(t) == catDate {
			// A date has no zone: compare calendar days.
			start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
			end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)
		}
		switch op {
		case "=":
			return !x.Before(start) && x.Before(end)
		case "!=":
			return x.Before(start) || !x.Before(end)
		case "<":
			return x.Before(start)
		case "<=":
			return x.Before(end)
		case ">":
			return !x.Before(end)
		case ">=":
			return !x.Before(start)
		}
		return false
	}
	var cmp int
	var ok bool
	switch l.kind {
	case litNumber:
		var x float64
		if x, ok = toFloat(v); ok {
			cmp = cmpFloat(x, l.num)
		}
	case litBool:
		var x bool
		if x, ok = v.(bool); ok {
			cmp = cmpBool(x, l.b)
		}
	case litDate, litDateTime:
		var x time.Time
		if x, ok = e.toTime(v, t); ok {
			cmp = x.Compare(l.t)
		}
	case litString:
		cmp, ok = e.compareValues(v, l.str, t)
	}
	if !ok {
		return op == "!="
	}
	switch op {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	}
	return false
}

// likePattern is a LIKE pattern of "Comparison Operators": % matches any
// run of characters, _ one character, \% and \_ themselves; matching is
// case-insensitive.
type likePattern []likeElem

type likeElem struct {
	kind byte // 'c' literal rune, '%' any run, '_' one rune
	r    rune
}

func compileLike(s string) likePattern {
	var p likePattern
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '\\':
			if i < len(s) {
				r2, size2 := utf8.DecodeRuneInString(s[i:])
				i += size2
				p = append(p, likeElem{kind: 'c', r: foldRune(r2)})
				continue
			}
			p = append(p, likeElem{kind: 'c', r: r})
		case '%':
			if len(p) == 0 || p[len(p)-1].kind != '%' {
				p = append(p, likeElem{kind: '%'})
			}
		case '_':
			p = append(p, likeElem{kind: '_'})
		default:
			p = append(p, likeElem{kind: 'c', r: foldRune(r)})
		}
	}
	return p
}

func foldRune(r rune) rune { return unicode.ToUpper(r) }

// match runs the classic wildcard algorithm: linear except for backtracking
// to the last %, so O(len(s)·len(p)) at worst.
func (p likePattern) match(s string) bool {
	text := []rune(s)
	for i, r := range text {
		text[i] = foldRune(r)
	}
	ti, pi := 0, 0
	star, mark := -1, 0
	for ti < len(text) {
		switch {
		case pi < len(p) && (p[pi].kind == '_' || p[pi].kind == 'c' && p[pi].r == text[ti]):
			ti++
			pi++
		case pi < len(p) && p[pi].kind == '%':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].kind == '%' {
		pi++
	}
	return pi == len(p)
}
