package soqlengine

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Query is a parsed SOQL statement. It is immutable and safe to execute
// concurrently.
type Query struct {
	src     string
	object  string
	objPos  int
	items   []selectItem
	where   expr
	orderBy []orderItem
	limit   int // -1: none
	offset  int // -1: none
	// countOnly is SELECT COUNT().
	countOnly bool
	// groupBy and having are GROUP BY's fields and HAVING's condition.
	groupBy []groupItem
	having  expr
}

type groupItem struct {
	path string
	pos  int
}

// aggCall is an aggregate function applied to a field: COUNT(Id), SUM(Amount).
type aggCall struct {
	fn   string // upper case: COUNT, COUNT_DISTINCT, SUM, MIN, MAX, AVG
	path string
	pos  int
}

// aggFunctions are SOQL's aggregate functions ("Aggregate Functions").
var aggFunctions = map[string]bool{"COUNT": true, "COUNT_DISTINCT": true, "SUM": true, "MIN": true, "MAX": true, "AVG": true}

// Object returns the FROM object as written in the query.
func (q *Query) Object() string { return q.object }

type itemKind int

const (
	itemField itemKind = iota
	itemAgg            // an aggregate function: COUNT(field), SUM(field), ...
	itemSubquery
	itemFields // FIELDS(ALL|STANDARD|CUSTOM)
)

type selectItem struct {
	kind  itemKind
	path  string // field path as written: Name, Account.Owner.Name
	pos   int
	alias string
	sub   *Query
	agg   *aggCall // itemAgg
	set   string   // itemFields: ALL, STANDARD or CUSTOM
}

type orderItem struct {
	agg        *aggCall // ORDER BY COUNT(Id): an aggregate, not a field
	path       string
	pos        int
	desc       bool
	nullsFirst bool
}

// expr is a WHERE condition.
type expr interface{ isExpr() }

type andExpr struct{ terms []expr }
type orExpr struct{ terms []expr }
type notExpr struct{ term expr }

// cmpExpr is field op value, field [NOT] IN (values), field [NOT] LIKE value.
type cmpExpr struct {
	agg    *aggCall // HAVING COUNT(Id) > 1: an aggregate, not a field
	path   string
	pos    int
	op     string // = != < <= > >= LIKE IN NOTIN
	values []literal
}

func (andExpr) isExpr() {}
func (orExpr) isExpr()  {}
func (notExpr) isExpr() {}
func (cmpExpr) isExpr() {}

type litKind int

const (
	litString litKind = iota
	litNumber
	litBool
	litNull
	litDate
	litDateTime
	litDateRange // TODAY, LAST_N_DAYS:n, ...
)

// literal is a typed value of a WHERE clause.
type literal struct {
	kind litKind
	pos  int
	raw  string // source text, for messages
	str  string // litString: decoded (LIKE patterns keep \% \_ \\ escaped)
	num  float64
	b    bool
	t    time.Time // litDateTime: the instant; litDate: midnight UTC of the day
	// litDateRange
	rangeName string
	rangeN    int
}

// parser is a recursive-descent parser with one token of lookahead.
type parser struct {
	lex   lexer
	tok   token
	depth int
}

func newParser(src, code string) (*parser, error) {
	p := &parser{lex: lexer{src: src, code: code}}
	if len(src) > MaxQueryLength {
		return nil, &Error{Code: code, Message: fmt.Sprintf("statement is %d characters long; the maximum is %d: split it into smaller statements", len(src), MaxQueryLength)}
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected() error {
	return p.lex.errAt(p.tok.pos, "unexpected token: '"+p.tok.display()+"'")
}

func (p *parser) expectWord(w string) error {
	if !p.tok.is(w) {
		return p.unexpected()
	}
	return p.advance()
}

func (p *parser) expectPunct(s string) error {
	if !p.tok.isPunct(s) {
		return p.unexpected()
	}
	return p.advance()
}

// Parse parses one SOQL SELECT statement:
//
//	SELECT item [, item ...] FROM Object
//	  [WHERE condition] [GROUP BY path [, ...] [HAVING condition]]
//	  [ORDER BY path|aggregate [ASC|DESC] [NULLS FIRST|LAST] [, ...]]
//	  [LIMIT n] [OFFSET n]
//
// where item is a field path (Name, Account.Owner.Name), COUNT(), an
// aggregate function (COUNT, COUNT_DISTINCT, SUM, MIN, MAX, AVG of a path)
// with an optional alias, FIELDS(ALL|STANDARD|CUSTOM), or a child subquery
// (SELECT ... FROM Relationship [WHERE ...] [ORDER BY ...] [LIMIT n]).
// HAVING's conditions may compare aggregates.
// Keywords and names are case-insensitive. Errors are *Error with Code
// MALFORMED_QUERY; names are checked against the schema only by Execute.
func Parse(q string) (*Query, error) {
	p, err := newParser(q, CodeMalformedQuery)
	if err != nil {
		return nil, err
	}
	query, err := p.query(false)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected()
	}
	return query, nil
}

func (p *parser) query(sub bool) (*Query, error) {
	q := &Query{src: p.lex.src, limit: -1, offset: -1}
	if err := p.expectWord("SELECT"); err != nil {
		return nil, err
	}
	for {
		item, err := p.selectItem(sub)
		if err != nil {
			return nil, err
		}
		if item == nil { // COUNT()
			if len(q.items) > 0 || q.countOnly {
				return nil, p.lex.errAt(p.tok.pos, "COUNT() must be the only element in the SELECT list")
			}
			q.countOnly = true
		} else {
			if q.countOnly {
				return nil, p.lex.errAt(item.pos, "COUNT() must be the only element in the SELECT list")
			}
			q.items = append(q.items, *item)
		}
		if !p.tok.isPunct(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if err := p.expectWord("FROM"); err != nil {
		return nil, err
	}
	if p.tok.kind != tokIdent || strings.Contains(p.tok.text, ".") || isReserved(p.tok.text) {
		return nil, p.unexpected()
	}
	q.object, q.objPos = p.tok.text, p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.clauses(q, "SOQL"); err != nil {
		return nil, err
	}
	return q, nil
}

// count reads the non-negative integer of LIMIT or OFFSET.
func (p *parser) count() (int, error) {
	if p.tok.kind != tokNumber || strings.Contains(p.tok.text, ".") {
		return 0, p.unexpected()
	}
	n, err := strconv.Atoi(p.tok.text)
	if err != nil || n > 1<<31-1 {
		return 0, p.lex.errAt(p.tok.pos, "number out of range: '"+p.tok.text+"'")
	}
	return n, p.advance()
}

// reserved words cannot name a field or object without confusing the
// grammar ("Reserved Characters"/"SOQL SELECT Syntax" list more; these are
// the ones this parser gives meaning to).
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true,
	"ORDER": true, "BY": true, "LIMIT": true, "OFFSET": true, "LIKE": true, "IN": true,
	"NULL": true, "TRUE": true, "FALSE": true, "NULLS": true, "ASC": true, "DESC": true,
	"GROUP": true, "HAVING": true, "WITH": true, "FOR": true, "USING": true, "INCLUDES": true,
	"EXCLUDES": true, "RETURNING": true, "FIND": true,
}

func isReserved(name string) bool { return reserved[strings.ToUpper(name)] }

// selectItem parses one element of the SELECT list; nil means COUNT().
func (p *parser) selectItem(sub bool) (*selectItem, error) {
	if p.tok.isPunct("(") {
		if sub {
			return nil, p.lex.errAt(p.tok.pos, "unexpected token: '(': a child subquery cannot contain another subquery in this fake org")
		}
		pos := p.tok.pos
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		child, err := p.query(true)
		if err != nil {
			return nil, err
		}
		p.depth--
		if child.countOnly {
			return nil, p.lex.errAt(pos, "COUNT() is not supported in a child subquery")
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return &selectItem{kind: itemSubquery, sub: child, pos: pos, path: child.object}, nil
	}
	if p.tok.kind != tokIdent || isReserved(p.tok.text) {
		return nil, p.unexpected()
	}
	start := p.tok
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.isPunct("(") {
		fn := strings.ToUpper(start.text)
		switch {
		case fn == "FIELDS":
			return p.fieldsItem(start)
		case !aggFunctions[fn]:
			return nil, p.lex.errAt(start.pos, "unsupported function '"+start.text+"': this fake org knows COUNT, COUNT_DISTINCT, SUM, MIN, MAX, AVG and FIELDS")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if fn == "COUNT" && p.tok.isPunct(")") {
			return nil, p.advance() // COUNT()
		}
		call, err := p.aggArgument(fn, start.pos)
		if err != nil {
			return nil, err
		}
		item := &selectItem{kind: itemAgg, path: call.path, pos: start.pos, agg: call}
		if p.tok.kind == tokIdent && !isReserved(p.tok.text) && !strings.Contains(p.tok.text, ".") {
			item.alias = p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		return item, nil
	}
	return &selectItem{kind: itemField, path: start.text, pos: start.pos}, nil
}

func (p *parser) orderItem() (orderItem, error) {
	if p.tok.kind != tokIdent || isReserved(p.tok.text) {
		return orderItem{}, p.unexpected()
	}
	o := orderItem{path: p.tok.text, pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return o, err
	}
	if call, err := p.maybeAgg(o.path, o.pos); err != nil {
		return o, err
	} else if call != nil {
		o.agg, o.path = call, ""
	}
	switch {
	case p.tok.is("ASC"):
		if err := p.advance(); err != nil {
			return o, err
		}
	case p.tok.is("DESC"):
		o.desc = true
		if err := p.advance(); err != nil {
			return o, err
		}
	}
	// "ORDER BY": "By default, null values are sorted first."
	o.nullsFirst = true
	if p.tok.is("NULLS") {
		if err := p.advance(); err != nil {
			return o, err
		}
		switch {
		case p.tok.is("FIRST"):
		case p.tok.is("LAST"):
			o.nullsFirst = false
		default:
			return o, p.unexpected()
		}
		if err := p.advance(); err != nil {
			return o, err
		}
	}
	return o, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.lex.errAt(p.tok.pos, fmt.Sprintf("conditions are nested more than %d levels deep: flatten the parentheses", maxDepth))
	}
	return nil
}

// condition parses a WHERE condition. As in Salesforce, AND and OR cannot be
// mixed on one level without parentheses ("Logical operators": "a AND b OR
// c" is rejected as ambiguous).
func (p *parser) condition() (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	terms := []expr{first}
	var op string
	for p.tok.is("AND") || p.tok.is("OR") {
		word := strings.ToUpper(p.tok.text)
		if op != "" && word != op {
			return nil, p.unexpected()
		}
		op = word
		if err := p.advance(); err != nil {
			return nil, err
		}
		t, err := p.unary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	switch op {
	case "AND":
		return andExpr{terms}, nil
	case "OR":
		return orExpr{terms}, nil
	}
	return first, nil
}

func (p *parser) unary() (expr, error) {
	if p.tok.is("NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		t, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{t}, nil
	}
	if p.tok.isPunct("(") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.condition()
		if err != nil {
			return nil, err
		}
		return c, p.expectPunct(")")
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	if p.tok.kind != tokIdent || isReserved(p.tok.text) {
		return nil, p.unexpected()
	}
	c := cmpExpr{path: p.tok.text, pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if call, err := p.maybeAgg(c.path, c.pos); err != nil {
		return nil, err
	} else if call != nil {
		c.agg, c.path = call, ""
	}
	switch {
	case p.tok.kind == tokPunct && comparisonOps[p.tok.text]:
		c.op = p.tok.text
		if c.op == "<>" {
			c.op = "!="
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		c.values = []literal{v}
	case p.tok.is("LIKE"):
		c.op = "LIKE"
		if err := p.advance(); err != nil {
			return nil, err
		}
		v, err := p.value(true)
		if err != nil {
			return nil, err
		}
		c.values = []literal{v}
	case p.tok.is("IN"), p.tok.is("NOT"):
		c.op = "IN"
		if p.tok.is("NOT") {
			c.op = "NOTIN"
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !p.tok.is("IN") {
				return nil, p.unexpected()
			}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		if p.tok.is("SELECT") {
			return nil, p.lex.errAt(p.tok.pos, "semi-join subqueries (IN (SELECT ...)) are not supported by this fake org")
		}
		for {
			v, err := p.value(false)
			if err != nil {
				return nil, err
			}
			c.values = append(c.values, v)
			if !p.tok.isPunct(",") {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
	default:
		return nil, p.unexpected()
	}
	return c, nil
}

// value parses a literal of "fieldExpression Syntax": a quoted string, a
// number, true/false/null, a date, a dateTime or a date literal.
func (p *parser) value(like bool) (literal, error) {
	t := p.tok
	l := literal{pos: t.pos, raw: t.text}
	switch t.kind {
	case tokString:
		s, ok, bad := unescape(t.text, like)
		if !ok {
			return l, p.lex.errAt(t.pos, fmt.Sprintf("Invalid string literal '%s'. Illegal character sequence '%s' in string literal.", t.text, bad))
		}
		l.kind, l.str, l.raw = litString, s, "'"+t.text+"'"
	case tokNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return l, p.lex.errAt(t.pos, "invalid number: '"+t.text+"'")
		}
		l.kind, l.num = litNumber, n
	case tokDate:
		d, err := time.Parse("2006-01-02", t.text)
		if err != nil {
			return l, p.lex.errAt(t.pos, "invalid date: "+t.text+": use YYYY-MM-DD")
		}
		l.kind, l.t = litDate, d
	case tokDateTime:
		d, err := parseDateTimeLiteral(t.text)
		if err != nil {
			return l, p.lex.errAt(t.pos, "invalid dateTime: "+t.text+": use YYYY-MM-DDThh:mm:ssZ or YYYY-MM-DDThh:mm:ss+hh:mm")
		}
		l.kind, l.t = litDateTime, d
	case tokPunct:
		if t.text != "-" && t.text != "+" {
			return l, p.unexpected()
		}
		if err := p.advance(); err != nil {
			return l, err
		}
		if p.tok.kind != tokNumber || p.tok.pos != t.pos+1 {
			return l, p.unexpected()
		}
		v, err := p.value(false)
		if t.text == "-" {
			v.num = -v.num
		}
		v.pos, v.raw = t.pos, t.text+v.raw
		return v, err
	case tokIdent:
		switch strings.ToUpper(t.text) {
		case "NULL":
			l.kind = litNull
		case "TRUE", "FALSE":
			l.kind, l.b = litBool, strings.EqualFold(t.text, "TRUE")
		default:
			name := strings.ToUpper(t.text)
			kind, ok := dateLiterals[name]
			if !ok {
				return l, p.unexpected()
			}
			l.kind, l.rangeName = litDateRange, name
			if kind == withN {
				if err := p.advance(); err != nil {
					return l, err
				}
				if !p.tok.isPunct(":") {
					return l, p.unexpected()
				}
				if err := p.advance(); err != nil {
					return l, err
				}
				if p.tok.kind != tokNumber || strings.Contains(p.tok.text, ".") {
					return l, p.unexpected()
				}
				n, err := strconv.Atoi(p.tok.text)
				if err != nil || n > 100000 {
					return l, p.lex.errAt(p.tok.pos, "date literal count out of range: '"+p.tok.text+"'")
				}
				l.rangeN = n
				l.raw = t.text + ":" + p.tok.text
			}
		}
	default:
		return l, p.unexpected()
	}
	return l, p.advance()
}

var comparisonOps = map[string]bool{"=": true, "!=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true}

func parseDateTimeLiteral(s string) (time.Time, error) {
	s = strings.ToUpper(s)
	if t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05Z07:00", s)
}

// clauses parses what follows the object in a SOQL query and in a SOSL
// RETURNING item alike: WHERE, ORDER BY, LIMIT and OFFSET, in that order.
// language names the query language in the OFFSET bound's message.
func (p *parser) clauses(q *Query, language string) error {
	if p.tok.is("WHERE") {
		if err := p.advance(); err != nil {
			return err
		}
		w, err := p.condition()
		if err != nil {
			return err
		}
		q.where = w
	}
	if language == "SOQL" && p.tok.is("GROUP") {
		if err := p.groupBy(q); err != nil {
			return err
		}
	}
	if p.tok.is("ORDER") {
		if err := p.advance(); err != nil {
			return err
		}
		if err := p.expectWord("BY"); err != nil {
			return err
		}
		for {
			o, err := p.orderItem()
			if err != nil {
				return err
			}
			q.orderBy = append(q.orderBy, o)
			if !p.tok.isPunct(",") {
				break
			}
			if err := p.advance(); err != nil {
				return err
			}
		}
	}
	if p.tok.is("LIMIT") {
		if err := p.advance(); err != nil {
			return err
		}
		n, err := p.count()
		if err != nil {
			return err
		}
		q.limit = n
	}
	if p.tok.is("OFFSET") {
		if err := p.advance(); err != nil {
			return err
		}
		pos := p.tok.pos
		n, err := p.count()
		if err != nil {
			return err
		}
		if n > 2000 {
			// "OFFSET": the maximum offset is 2,000 rows.
			return &Error{Code: CodeNumberOutsideValidRange, Message: located(p.lex.src, pos, "Maximum "+language+" offset allowed is 2000")}
		}
		q.offset = n
	}
	return nil
}

// aggArgument reads the field of an aggregate function after its "(" and
// the closing ")".
func (p *parser) aggArgument(fn string, pos int) (*aggCall, error) {
	if p.tok.kind != tokIdent || isReserved(p.tok.text) {
		return nil, p.unexpected()
	}
	call := &aggCall{fn: fn, path: p.tok.text, pos: pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return call, p.expectPunct(")")
}

// maybeAgg reads an aggregate call in HAVING or ORDER BY when the name just
// read is an aggregate function followed by "(".
func (p *parser) maybeAgg(name string, pos int) (*aggCall, error) {
	fn := strings.ToUpper(name)
	if !aggFunctions[fn] || !p.tok.isPunct("(") {
		return nil, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p.aggArgument(fn, pos)
}

// fieldsItem reads FIELDS(ALL|STANDARD|CUSTOM) after its name ("SELECT":
// the FIELDS() keyword).
func (p *parser) fieldsItem(start token) (*selectItem, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	set := strings.ToUpper(p.tok.text)
	if p.tok.kind != tokIdent || (set != "ALL" && set != "STANDARD" && set != "CUSTOM") {
		return nil, p.lex.errAt(p.tok.pos, "FIELDS takes ALL, STANDARD or CUSTOM")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return &selectItem{kind: itemFields, set: set, pos: start.pos, path: "FIELDS(" + set + ")"}, p.expectPunct(")")
}

// groupBy reads GROUP BY field[, field ...] [HAVING condition] ("GROUP
// BY", "HAVING"). GROUP BY ROLLUP and CUBE are not modelled.
func (p *parser) groupBy(q *Query) error {
	if err := p.advance(); err != nil {
		return err
	}
	if err := p.expectWord("BY"); err != nil {
		return err
	}
	for {
		if p.tok.kind != tokIdent || isReserved(p.tok.text) {
			return p.unexpected()
		}
		g := groupItem{path: p.tok.text, pos: p.tok.pos}
		if err := p.advance(); err != nil {
			return err
		}
		if p.tok.isPunct("(") {
			return p.lex.errAt(g.pos, "GROUP BY "+strings.ToUpper(g.path)+"(...) is not supported by this fake org: group by fields")
		}
		q.groupBy = append(q.groupBy, g)
		if !p.tok.isPunct(",") {
			break
		}
		if err := p.advance(); err != nil {
			return err
		}
	}
	if p.tok.is("HAVING") {
		if err := p.advance(); err != nil {
			return err
		}
		h, err := p.condition()
		if err != nil {
			return err
		}
		q.having = h
	}
	return nil
}
