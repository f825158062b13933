package data

import (
	"fmt"
	"net/http"
)

// APIError is an answer the org gives as Salesforce's REST error array: the
// HTTP status and one element with errorCode, message and fields (REST API
// Developer Guide, "Status Codes and Error Responses").
type APIError struct {
	StatusCode int
	ErrorCode  string
	Message    string
	Fields     []string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("salesforcetest: %d %s: %s", e.StatusCode, e.ErrorCode, e.Message)
}

// NewAPIError returns the error Salesforce answers with status and code.
func NewAPIError(status int, code, message string, fields ...string) *APIError {
	return &APIError{StatusCode: status, ErrorCode: code, Message: message, Fields: fields}
}

// apiErr is NewAPIError, short for the many answers of this package.
func apiErr(status int, code, message string, fields ...string) *APIError {
	return NewAPIError(status, code, message, fields...)
}

// NotFound is the answer for a resource or record that does not exist.
func NotFound() *APIError {
	return apiErr(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

// SchemaError is a declaration the org refuses.
type SchemaError struct {
	Object, Field, Reason string
}

func (e *SchemaError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("salesforcetest: field %s.%s: %s", e.Object, e.Field, e.Reason)
	}
	return fmt.Sprintf("salesforcetest: object %s: %s", e.Object, e.Reason)
}
