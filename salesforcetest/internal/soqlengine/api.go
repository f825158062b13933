// Package soqlengine parses and evaluates a subset of Salesforce's SOQL and SOSL
// for the fake org in salesforcetest. It knows nothing of HTTP: the org hands
// it a Schema (sObjects and their fields) and Data (the records), and turns
// an *Error into Salesforce's 400 REST error array.
//
// The grammar follows the "SOQL and SOSL Reference"; the supported subset is
// listed in the doc comments of Parse and ParseSearch.
package soqlengine

import (
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// FieldType is Salesforce's describe type of a field ("type" in a
// DescribeSObjectResult's fields): the data layer's one list of field types.
// The evaluator compares a type it does not know as a string.
type FieldType = data.FieldType

// Field describes one field of an sObject.
type Field struct {
	// Name is the canonical API name, e.g. "AccountId".
	Name string
	// Type is the describe type.
	Type FieldType
	// ReferenceTo is the sObject a reference field points to, e.g. "Account".
	ReferenceTo string
	// RelationshipName is the name a query uses to reach the parent, e.g.
	// "Account" for Contact.AccountId. Empty for non-reference fields.
	RelationshipName string
}

// Object is one sObject of the schema.
type Object interface {
	// Name returns the canonical name, e.g. "Account".
	Name() string
	// Field looks a field up case-insensitively and returns it with its
	// canonical name. Every object must know "Id" (type id) and
	// "IsDeleted" (type boolean).
	Field(name string) (Field, bool)
	// ChildRelationship looks a child relationship up case-insensitively,
	// e.g. "Contacts" -> ("Contact", "AccountId", true), returning the
	// canonical child object name and the child's reference field.
	ChildRelationship(name string) (childObject, childField string, ok bool)
}

// Schema is the set of sObjects an org knows.
type Schema interface {
	// Object looks an sObject up case-insensitively.
	Object(name string) (Object, bool)
}

// ObjectLister is optionally implemented by a Schema to list the objects a
// SOSL search without RETURNING covers (every searchable object).
type ObjectLister interface {
	Objects() []string
}

// NameFielder is optionally implemented by an Object to name the fields that
// SOSL's IN NAME FIELDS searches. Without it, the "Name" field is searched.
type NameFielder interface {
	NameFields() []string
}

// FieldLister is optionally implemented by an Object to list its fields in
// describe order, for FIELDS(ALL|STANDARD|CUSTOM). Without it, FIELDS() is
// refused.
type FieldLister interface {
	Fields() []Field
}

// Data gives the records of an org. Values are JSON-like: string, float64,
// bool or nil; date fields hold "2006-01-02" strings and datetime fields
// "2006-01-02T15:04:05.000+0000" strings (Salesforce's wire format). A
// missing key reads as null.
type Data interface {
	// Records returns the records of an object (by its canonical name),
	// keyed by canonical field names; each must hold "Id" and "IsDeleted".
	// Deleted records (IsDeleted true) are returned only when includeDeleted
	// is set. The evaluator does not modify the maps.
	Records(object string, includeDeleted bool) []map[string]any
	// Get returns one record by Id, deleted or not (for parent lookups).
	Get(object, id string) (map[string]any, bool)
}

// Options tune one execution.
type Options struct {
	// Now is the instant date literals (TODAY, LAST_N_DAYS:n, ...) are
	// relative to. Zero means time.Now().
	Now time.Time
	// APIVersion, e.g. "65.0", goes into each record's attributes.url.
	APIVersion string
	// IncludeDeleted returns deleted records too, as queryAll does.
	IncludeDeleted bool
	// Location is the user's time zone that date literals and dates are
	// read in. Nil means UTC.
	Location *time.Location
}

// Result is the outcome of a query.
type Result struct {
	// TotalSize is the number of records, or the count for SELECT COUNT().
	TotalSize int
	// Records holds the rows in order. It is empty (not nil) for COUNT().
	Records []Record
	// Count is the count of SELECT COUNT() (equal to TotalSize then).
	Count int
	// CountOnly tells that the query was SELECT COUNT().
	CountOnly bool
	// Aggregate tells that the rows are AggregateResult records (aggregate
	// functions or GROUP BY), which are not paged: "Considerations for GROUP
	// BY", "GROUP BY and queryMore()".
	Aggregate bool
}

// Error is a query Salesforce would refuse. The org sends it as
// [{"message": Message, "errorCode": Code}] with status 400.
type Error struct {
	// Code is Salesforce's errorCode, one of the Code constants.
	Code string
	// Message is Salesforce's message.
	Message string
}

// The errorCode values an *Error carries.
const (
	CodeMalformedQuery             = "MALFORMED_QUERY"
	CodeMalformedSearch            = "MALFORMED_SEARCH"
	CodeInvalidField               = "INVALID_FIELD"
	CodeInvalidType                = "INVALID_TYPE"
	CodeInvalidQueryFilterOperator = "INVALID_QUERY_FILTER_OPERATOR"
	CodeNumberOutsideValidRange    = "NUMBER_OUTSIDE_VALID_RANGE"
)

// Error returns "CODE: message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is lets errors.Is match any *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}
