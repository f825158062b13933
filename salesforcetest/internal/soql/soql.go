package soql

// Query is a parsed SOQL statement. It is immutable and safe to execute
// concurrently.
type Query struct {
	object string
}

// Object returns the FROM object as written in the query.
func (q *Query) Object() string { return q.object }

// Parse parses a SOQL query. Errors are *Error with Code MALFORMED_QUERY.
// Names are checked against the schema only by Execute.
func Parse(q string) (*Query, error) {
	return nil, &Error{Code: CodeMalformedQuery, Message: "not implemented yet"}
}

// Execute checks q against the schema (INVALID_TYPE, INVALID_FIELD,
// INVALID_QUERY_FILTER_OPERATOR, ...) and runs it over the data.
func Execute(q *Query, s Schema, d Data, opts Options) (*Result, error) {
	return nil, &Error{Code: CodeMalformedQuery, Message: "not implemented yet"}
}

// Search is a parsed SOSL FIND statement.
type Search struct {
	term string
}

// ParseSearch parses a SOSL statement of the form
//
//	FIND {term} [IN ALL FIELDS|NAME FIELDS|EMAIL FIELDS|PHONE FIELDS]
//	RETURNING Obj[(Field, ... [WHERE ...] [ORDER BY ...] [LIMIT n])] [, Obj2...] [LIMIT n]
//
// Errors are *Error with Code MALFORMED_SEARCH.
func ParseSearch(q string) (*Search, error) {
	return nil, &Error{Code: CodeMalformedSearch, Message: "not implemented yet"}
}

// ExecuteSearch runs a search and returns the matches of every RETURNING
// object in order (the REST API's "searchRecords").
func ExecuteSearch(s *Search, sc Schema, d Data, opts Options) ([]Record, error) {
	return nil, &Error{Code: CodeMalformedSearch, Message: "not implemented yet"}
}
