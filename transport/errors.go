package transport

import (
	"fmt"
	"net/url"
)

// SessionExpiredError: Salesforce rejected the session and the request's body
// cannot be sent again (it has no GetBody). Retry the call: the next attempt gets
// a fresh token.
type SessionExpiredError struct {
	Method, URL string
}

func (e *SessionExpiredError) Error() string {
	return fmt.Sprintf("sfmtls: %s %s: session expired and the request cannot be replayed; %s", e.Method, e.URL, e.Fix())
}

// Fix says what to do about it.
func (e *SessionExpiredError) Fix() string {
	return "the token was refreshed, retry the call (build requests with a GetBody, as http.NewRequest does for bytes and strings readers)"
}

// redactedURL drops the query, which may carry record data.
func redactedURL(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}
