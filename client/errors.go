package client

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/retry"
)

// RESTError is one element of the error array Salesforce's REST API answers with.
type RESTError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// APIError is a REST call that Salesforce answered with an error status. Use
// errors.As to get it and HasCode to test for an errorCode.
type APIError struct {
	Method     string
	Path       string // without the query, which may carry data
	StatusCode int
	Errors     []RESTError // empty when the body was not Salesforce's error array
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	for _, re := range e.Errors {
		fmt.Fprintf(&b, "; %s: %s", re.ErrorCode, re.Message)
		if len(re.Fields) > 0 {
			fmt.Fprintf(&b, " (fields: %s)", strings.Join(re.Fields, ", "))
		}
	}
	return b.String()
}

// HasCode reports whether Salesforce gave errorCode among the errors.
func (e *APIError) HasCode(errorCode string) bool {
	for _, re := range e.Errors {
		if re.ErrorCode == errorCode {
			return true
		}
	}
	return false
}

// Codes with a fix the SDK can name.
var fixes = map[string]string{
	"MUTUAL_AUTHENTICATION_FAILED": (&auth.OAuthError{Code: "MUTUAL_AUTHENTICATION_FAILED"}).Fix(),
	"INVALID_SESSION_ID":           "the session was rejected again after a refresh: check the user is active and the app's session policies",
	"API_DISABLED_FOR_ORG":         "the org's edition or the user's profile does not allow API access (API Enabled permission)",
	"REQUEST_LIMIT_EXCEEDED": "an API limit was hit: the daily allocation (TotalRequests; see Limits() and Stats().APIUsage, " +
		"and set Config.UsageCap to stop short of it) or too many long-running calls at once (ConcurrentRequests, retried by the transport)",
	"INSUFFICIENT_ACCESS": "the integration user lacks access: check its permission sets",
}

// notProcessed: the answer says Salesforce did not process the request.
func (e *APIError) notProcessed() bool {
	if retry.NotProcessed(e.StatusCode, "", "") {
		return true
	}
	for _, re := range e.Errors {
		if retry.NotProcessed(e.StatusCode, re.ErrorCode, re.Message) {
			return true
		}
	}
	return false
}

// Fix names how to fix the error, for the errorCodes that have a known fix;
// else "".
func (e *APIError) Fix() string {
	for _, re := range e.Errors {
		if fix, ok := fixes[re.ErrorCode]; ok {
			return fix
		}
	}
	return ""
}
