package soqlengine

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// Search is a parsed SOSL FIND statement.
type Search struct {
	src       string
	term      termExpr
	scope     string // ALL, NAME, EMAIL, PHONE
	returning []*Query
	limit     int // -1: none
}

// termExpr is a search term: OR of groups, each an AND of phrases.
type termExpr [][]termPhrase

type termPhrase struct {
	words   []likePattern
	negated bool
}

// ParseSearch parses a SOSL statement of "SOSL Syntax":
//
//	FIND {term} [IN ALL FIELDS|NAME FIELDS|EMAIL FIELDS|PHONE FIELDS]
//	[RETURNING Obj[(Field, ... [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n])] [, Obj2...]]
//	[LIMIT n]
//
// Without RETURNING the search covers every searchable object and returns
// the Ids of what it finds ("RETURNING": "If unspecified, then the search
// results contain the IDs of all objects found").
//
// The term is words and "quoted phrases", joined by AND (the default), OR
// and AND NOT; * matches any run of characters and ? one character; a
// backslash escapes a reserved character. Errors are *Error with Code
// MALFORMED_SEARCH.
func ParseSearch(q string) (*Search, error) {
	p, err := newParser(q, CodeMalformedSearch)
	if err != nil {
		return nil, err
	}
	s := &Search{src: q, scope: "ALL", limit: -1}
	if err := p.expectWord("FIND"); err != nil {
		return nil, err
	}
	if !p.tok.isPunct("{") {
		return nil, p.unexpected()
	}
	start := p.tok.pos
	end := -1
	for i := start + 1; i < len(q); i++ {
		if q[i] == '\\' {
			i++
			continue
		}
		if q[i] == '}' {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, p.lex.errAt(start, "unterminated search term: close it with } and escape reserved characters inside it with a backslash")
	}
	term, msg := parseTerm(q[start+1 : end])
	if msg != "" {
		return nil, p.lex.errAt(start, msg)
	}
	s.term = term
	p.lex.pos = end + 1
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.is("IN") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch {
		case p.tok.is("ALL"), p.tok.is("NAME"), p.tok.is("EMAIL"), p.tok.is("PHONE"):
			s.scope = strings.ToUpper(p.tok.text)
		default:
			return nil, p.unexpected()
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expectWord("FIELDS"); err != nil {
			return nil, err
		}
	}
	returning := p.tok.is("RETURNING")
	if returning {
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	for returning {
		r, err := p.returning()
		if err != nil {
			return nil, err
		}
		s.returning = append(s.returning, r)
		if !p.tok.isPunct(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.tok.is("LIMIT") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.count()
		if err != nil {
			return nil, err
		}
		s.limit = n
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected()
	}
	return s, nil
}

// returning parses Obj[(fields [WHERE] [ORDER BY] [LIMIT] [OFFSET])] into a
// Query over Obj.
func (p *parser) returning() (*Query, error) {
	if p.tok.kind != tokIdent || strings.Contains(p.tok.text, ".") || isReserved(p.tok.text) {
		return nil, p.unexpected()
	}
	q := &Query{src: p.lex.src, object: p.tok.text, objPos: p.tok.pos, limit: -1, offset: -1}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if !p.tok.isPunct("(") {
		q.items = []selectItem{{kind: itemField, path: "Id", pos: q.objPos}}
		return q, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for {
		item, err := p.selectItem(true)
		if err != nil {
			return nil, err
		}
		if item == nil || item.kind != itemField {
			return nil, p.lex.errAt(p.tok.pos, "RETURNING lists fields only: aggregate functions are not supported")
		}
		q.items = append(q.items, *item)
		if !p.tok.isPunct(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if err := p.clauses(q, "SOSL"); err != nil {
		return nil, err
	}
	return q, p.expectPunct(")")
}

// parseTerm reads the text between FIND's braces.
func parseTerm(raw string) (termExpr, string) {
	type item struct {
		text   string
		quoted bool
	}
	var items []item
	letters := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(raw) && raw[j] != '"'; j++ {
				if raw[j] == '\\' && j+1 < len(raw) {
					j++
				}
				b.WriteByte(raw[j])
			}
			if j >= len(raw) {
				return nil, "unterminated phrase: close the \" inside the search term"
			}
			items = append(items, item{text: b.String(), quoted: true})
			i = j + 1
		default:
			var b strings.Builder
			for i < len(raw) && raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r' && raw[i] != '"' {
				if raw[i] == '\\' && i+1 < len(raw) {
					i++
				}
				b.WriteByte(raw[i])
				i++
			}
			items = append(items, item{text: b.String()})
		}
	}
	var expr termExpr
	group := []termPhrase{}
	negate := false
	for idx, it := range items {
		if !it.quoted {
			switch strings.ToUpper(it.text) {
			case "OR":
				if len(group) == 0 || idx == len(items)-1 {
					return nil, "search term has OR without a term on each side"
				}
				expr = append(expr, group)
				group = []termPhrase{}
				continue
			case "AND":
				continue
			case "NOT":
				negate = true
				continue
			}
		}
		words := searchTokens(it.text, true)
		for _, w := range words {
			for _, r := range w {
				if r != '*' && r != '?' {
					letters++
				}
			}
		}
		if len(words) == 0 {
			continue
		}
		ph := termPhrase{negated: negate}
		for _, w := range words {
			ph.words = append(ph.words, compileLike(strings.NewReplacer("*", "%", "?", "_").Replace(w)))
		}
		group = append(group, ph)
		negate = false
	}
	if len(group) > 0 {
		expr = append(expr, group)
	}
	// "FIND {SearchQuery}": a term needs at least two characters.
	if letters < 2 || len(expr) == 0 {
		return nil, "search term must be longer than one character"
	}
	return expr, ""
}

// searchTokens splits text into lower-case words of letters and digits
// (plus * and ? in a search term).
func searchTokens(s string, wildcards bool) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || wildcards && (r == '*' || r == '?'))
	})
}

func (ph termPhrase) matches(fields [][]string) bool {
	for _, toks := range fields {
		for i := 0; i+len(ph.words) <= len(toks); i++ {
			ok := true
			for j, w := range ph.words {
				if !w.match(toks[i+j]) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func (t termExpr) matches(fields [][]string) bool {
	for _, group := range t {
		ok := true
		for _, ph := range group {
			if ph.matches(fields) == ph.negated {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// searchedFields returns the words of the fields the scope searches.
func searchedFields(obj Object, scope string, rec map[string]any) [][]string {
	var names []string
	if scope == "NAME" {
		if nf, ok := obj.(NameFielder); ok {
			names = nf.NameFields()
		} else {
			names = []string{"Name"}
		}
	} else {
		for k := range rec {
			names = append(names, k)
		}
	}
	var out [][]string
	for _, n := range names {
		f, ok := obj.Field(n)
		if !ok {
			continue
		}
		switch scope {
		case "EMAIL":
			if f.Type != data.TypeEmail {
				continue
			}
		case "PHONE":
			if f.Type != data.TypePhone {
				continue
			}
		case "ALL":
			if category(f.Type) != catText {
				continue
			}
		}
		if s, ok := rec[f.Name].(string); ok {
			out = append(out, searchTokens(s, false))
		}
	}
	return out
}

// ExecuteSearch runs a search and returns the matches of every RETURNING
// object in order (the REST API's "searchRecords"). Deleted records are
// never found.
func ExecuteSearch(s *Search, sc Schema, d Data, opts Options) ([]Record, error) {
	e := &env{src: s.src, schema: sc, data: d, opts: opts, loc: opts.Location, now: opts.Now, children: map[*plan]map[string][]map[string]any{}}
	e.opts.IncludeDeleted = false
	if e.loc == nil {
		e.loc = time.UTC
	}
	if e.now.IsZero() {
		e.now = time.Now()
	}
	out := []Record{}
	returning := s.returning
	if len(returning) == 0 {
		lister, ok := sc.(ObjectLister)
		if !ok {
			return nil, &Error{Code: CodeMalformedSearch, Message: "this org cannot list its objects: name them with RETURNING"}
		}
		for _, name := range lister.Objects() {
			returning = append(returning, &Query{src: s.src, object: name, limit: -1, offset: -1,
				items: []selectItem{{kind: itemField, path: "Id"}}})
		}
	}
	for _, q := range returning {
		obj, ok := sc.Object(q.object)
		if !ok {
			return nil, e.errAt(CodeInvalidType, q.objPos, msgNoSuchType, q.object)
		}
		p, err := e.plan(q, obj)
		if err != nil {
			return nil, err
		}
		var hits []map[string]any
		for _, rec := range d.Records(obj.Name(), false) {
			if s.term.matches(searchedFields(obj, s.scope, rec)) {
				hits = append(hits, rec)
			}
		}
		for _, row := range e.rows(p, hits) {
			if s.limit >= 0 && len(out) >= s.limit {
				return out, nil
			}
			rec, err := e.record(p, obj, row)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// String returns the statement as given.
func (s *Search) String() string { return s.src }

// Objects lists the objects of RETURNING as written, in order; none when
// the search has no RETURNING.
func (s *Search) Objects() []string {
	out := make([]string, len(s.returning))
	for i, q := range s.returning {
		out[i] = q.object
	}
	return out
}

// String returns the statement as given.
func (q *Query) String() string { return q.src }

var _ fmt.Stringer = (*Query)(nil)
