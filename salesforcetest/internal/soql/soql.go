package soql

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
