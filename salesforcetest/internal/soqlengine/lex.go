package soqlengine

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxQueryLength is the longest statement Parse accepts: "SOQL and SOSL
// Limits for Search Queries" gives 100,000 characters by default.
const MaxQueryLength = 100000

// maxDepth bounds the nesting of parentheses and NOT so that a hostile
// statement cannot exhaust the stack.
const maxDepth = 64

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokNumber
	tokString
	tokDate
	tokDateTime
	tokPunct
)

// token is one lexeme. text is the source text (for strings, the body
// between the quotes, still escaped); pos is the byte offset in the source.
type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) is(word string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, word)
}

func (t token) isPunct(p string) bool { return t.kind == tokPunct && t.text == p }

// display is how an error message names the token.
func (t token) display() string {
	switch t.kind {
	case tokEOF:
		return "<EOF>"
	case tokString:
		return "'" + t.text + "'"
	}
	return t.text
}

type lexer struct {
	src  string
	pos  int
	code string // error code for syntax errors: MALFORMED_QUERY or MALFORMED_SEARCH
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// next returns the next token.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case isLetter(c):
		// A name or a dotted path: Account.Owner.Name.
		for {
			for l.pos < len(l.src) && (isLetter(l.src[l.pos]) || isDigit(l.src[l.pos])) {
				l.pos++
			}
			if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isLetter(l.src[l.pos+1]) {
				l.pos++
				continue
			}
			break
		}
		return token{kind: tokIdent, text: l.src[start:l.pos], pos: start}, nil
	case isDigit(c):
		return l.number(start)
	case c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		return l.number(start)
	case c == '\'':
		l.pos++
		for l.pos < len(l.src) {
			switch l.src[l.pos] {
			case '\\':
				l.pos += 2
				continue
			case '\'':
				l.pos++
				return token{kind: tokString, text: l.src[start+1 : l.pos-1], pos: start}, nil
			}
			l.pos++
		}
		return token{}, l.errAt(start, "unterminated string literal: a string starts at this quote and never ends; close it with ' and escape quotes inside it as \\'")
	}
	for _, p := range []string{"!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", ",", ":", "-", "+", "{", "}"} {
		if strings.HasPrefix(l.src[l.pos:], p) {
			l.pos += len(p)
			return token{kind: tokPunct, text: p, pos: start}, nil
		}
	}
	r, size := utf8.DecodeRuneInString(l.src[l.pos:])
	l.pos += size
	text := string(r)
	if r == utf8.RuneError && size <= 1 {
		text = fmt.Sprintf("\\x%02x", c)
	}
	return token{kind: tokPunct, text: text, pos: start}, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// number lexes 12, 1.5, .5, and the date and dateTime literals of "Date
// Formats and Date Literals in WHERE": YYYY-MM-DD and
// YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm|-hh:mm).
func (l *lexer) number(start int) (token, error) {
	if d, ok := matchDate(l.src[start:]); ok {
		l.pos = start + d
		if t, ok := matchTime(l.src[l.pos:]); ok {
			l.pos += t
			return token{kind: tokDateTime, text: l.src[start:l.pos], pos: start}, nil
		}
		return token{kind: tokDate, text: l.src[start:l.pos], pos: start}, nil
	}
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	}
	if l.pos < len(l.src) && (isLetter(l.src[l.pos])) {
		// 12abc is no number and no name.
		for l.pos < len(l.src) && (isLetter(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.pos++
		}
		return token{}, l.errAt(start, fmt.Sprintf("unexpected token: '%s'", l.src[start:l.pos]))
	}
	return token{kind: tokNumber, text: l.src[start:l.pos], pos: start}, nil
}

// matchDate reports the length of a leading YYYY-MM-DD.
func matchDate(s string) (int, bool) {
	const shape = "dddd-dd-dd"
	if len(s) < len(shape) || !fits(s, shape) {
		return 0, false
	}
	if len(s) > len(shape) && (isDigit(s[len(shape)])) {
		return 0, false
	}
	return len(shape), true
}

// matchTime reports the length of a leading Thh:mm:ss[.fff](Z|±hh:mm).
func matchTime(s string) (int, bool) {
	const shape = "Tdd:dd:dd"
	if len(s) < len(shape) || !fits(s, shape) {
		return 0, false
	}
	n := len(shape)
	if n < len(s) && s[n] == '.' {
		n++
		digits := 0
		for n < len(s) && isDigit(s[n]) {
			n++
			digits++
		}
		if digits == 0 {
			return 0, false
		}
	}
	switch {
	case n < len(s) && (s[n] == 'Z' || s[n] == 'z'):
		return n + 1, true
	case n < len(s) && (s[n] == '+' || s[n] == '-') && len(s[n+1:]) >= 5 && fits(s[n+1:], "dd:dd"):
		return n + 6, true
	}
	return 0, false
}

func fits(s, shape string) bool {
	for i := 0; i < len(shape); i++ {
		switch shape[i] {
		case 'd':
			if !isDigit(s[i]) {
				return false
			}
		case 'T':
			if s[i] != 'T' && s[i] != 't' {
				return false
			}
		default:
			if s[i] != shape[i] {
				return false
			}
		}
	}
	return true
}

// errAt builds the syntax error of the lexer's statement at pos.
func (l *lexer) errAt(pos int, msg string) *Error {
	return &Error{Code: l.code, Message: located(l.src, pos, msg)}
}

// located formats a message the way Salesforce's query errors do:
//
//	\nSELECT Nmae FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column ...
//
// The layout is what the REST API returns (the reference documents only the
// message text, not this prefix).
func located(src string, pos int, msg string) string {
	if pos < 0 || pos > len(src) {
		return msg
	}
	row := 1 + strings.Count(src[:pos], "\n")
	lineStart := strings.LastIndexByte(src[:pos], '\n') + 1
	lineEnd := strings.IndexByte(src[lineStart:], '\n')
	if lineEnd < 0 {
		lineEnd = len(src)
	} else {
		lineEnd += lineStart
	}
	col := utf8.RuneCountInString(src[lineStart:pos]) + 1
	// Echo at most 100 bytes either side of the error, so that a long
	// statement does not make a huge message.
	from, to := max(lineStart, pos-100), min(lineEnd, pos+100)
	for from > lineStart && !utf8.RuneStart(src[from]) {
		from--
	}
	for to < lineEnd && !utf8.RuneStart(src[to]) {
		to++
	}
	caret := strings.Repeat(" ", utf8.RuneCountInString(src[from:pos]))
	return fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s", src[from:to], caret, row, col, msg)
}

// unescape decodes the body of a quoted string per "Quoted String Escape
// Sequences". In a LIKE pattern (like true) \% and \_ stay escaped so that
// the matcher treats them as literal characters; they are errors elsewhere.
// \b is read as backspace (U+0008): the English page calls it "Bell", other
// editions backspace, and the SDK's soql.Format never writes it.
func unescape(body string, like bool) (string, bool, string) {
	if !strings.Contains(body, "\\") {
		return body, true, ""
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(body) {
			return "", false, "\\"
		}
		i++
		switch body[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		case 'r', 'R':
			b.WriteByte('\r')
		case 't', 'T':
			b.WriteByte('\t')
		case 'b', 'B':
			b.WriteByte('\b')
		case 'f', 'F':
			b.WriteByte('\f')
		case '"', '\'', '\\':
			if like && body[i] == '\\' {
				b.WriteString("\\\\")
			} else {
				b.WriteByte(body[i])
			}
		case '%', '_':
			if !like {
				return "", false, body[i-1 : i+1]
			}
			b.WriteByte('\\')
			b.WriteByte(body[i])
		case 'u': // lower case only: the reference lists \uXXXX, not \U
			r, n, ok := hex4(body[i+1:])
			if !ok {
				return "", false, body[i-1 : min(len(body), i+1+4)]
			}
			i += n
			if r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(body[i+1:], "\\u") {
				if lo, n2, ok := hex4(body[i+3:]); ok && lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 2 + n2
				}
			}
			if like && (r == '%' || r == '_' || r == '\\') {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			_, size := utf8.DecodeRuneInString(body[i:])
			return "", false, body[i-1 : i+size]
		}
	}
	return b.String(), true, ""
}

func hex4(s string) (rune, int, bool) {
	if len(s) < 4 {
		return 0, 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, 4, true
}
