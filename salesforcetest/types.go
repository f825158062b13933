package salesforcetest

import "github.com/sfmtls/sfmtls/salesforcetest/internal/data"

// The schema a test declares, and the errors the org answers, are the data
// layer's own types (salesforcetest/internal/data), named here for users.

// FieldType is a field's type as describe reports it (Object Reference for
// the Salesforce Platform, "Field Types"; sObject Describe lists them in "type").
type FieldType = data.FieldType

// The field types the org models.
const (
	TypeID        = data.TypeID
	TypeString    = data.TypeString
	TypeTextArea  = data.TypeTextArea
	TypeBoolean   = data.TypeBoolean
	TypeInt       = data.TypeInt
	TypeDouble    = data.TypeDouble
	TypeCurrency  = data.TypeCurrency
	TypePercent   = data.TypePercent
	TypeDate      = data.TypeDate
	TypeDateTime  = data.TypeDateTime
	TypeEmail     = data.TypeEmail
	TypePhone     = data.TypePhone
	TypeURL       = data.TypeURL
	TypePicklist  = data.TypePicklist
	TypeReference = data.TypeReference
)

// Field declares one field of an sObject: Name and Type, and optionally
// Label, Length (text, default 255), Required, ReadOnly, CreateOnly,
// ExternalID, Unique, CaseSensitive (a unique text field that tells "ABC"
// from "abc"), ReferenceTo and RelationshipName (reference fields),
// ChildRelationshipName, PicklistValues with Restricted, and Default.
// In a seed file the same attributes have their JSON names (name, type,
// length, required, readOnly, createOnly, externalId, unique, caseSensitive,
// referenceTo, relationshipName, childRelationshipName, picklistValues,
// restrictedPicklist, defaultValue).
type Field = data.Field

// SObject declares an object: a standard one of the built-in schema or a
// custom one (Name ending in __c) a test adds with Config.Objects or
// DefineObject. KeyPrefix is the 3 characters every id of the object starts
// with; empty gives custom objects the next free a0X-style prefix.
// NotCreateable objects reject REST writes.
type SObject = data.SObject

// SchemaError is a declaration the org refuses.
type SchemaError = data.SchemaError

// APIError is an answer the org gives as Salesforce's REST error array: the
// HTTP status and one element with errorCode, message and fields (REST API
// Developer Guide, "Status Codes and Error Responses").
type APIError = data.APIError

func apiErr(status int, code, message string, fields ...string) *APIError {
	return data.NewAPIError(status, code, message, fields...)
}

// notFound is the answer for a resource or record that does not exist.
func notFound() *APIError { return data.NotFound() }

// sfDateTime is Salesforce's datetime format in JSON.
const sfDateTime = data.DateTimeLayout
