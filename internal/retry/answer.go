package retry

import (
	"net/http"
	"strings"
)

// NotProcessed reports whether an error answer says that Salesforce did not
// process the request, so that sending it again cannot apply it twice. These
// are the answers after which the transport resends a call of any method:
//   - 429 Too Many Requests, refused before processing (RFC 6585 §4);
//   - 503, the server down for maintenance or overloaded, which did not handle
//     the request (REST API Developer Guide, Status Codes and Error Responses);
//   - an error code for which NotProcessedCode holds.
//
// errorCode and message are one error of the answer's body; give "" when it
// had none.
func NotProcessed(statusCode int, errorCode, message string) bool {
	return statusCode == http.StatusTooManyRequests || statusCode == http.StatusServiceUnavailable ||
		NotProcessedCode(errorCode, message)
}

// NotProcessedCode reports the error codes that say the request was not
// processed, whatever the status:
//   - SERVER_UNAVAILABLE, a request not accepted;
//   - UNABLE_TO_LOCK_ROW, a record lock not obtained, so the DML did not
//     happen and its transaction was rolled back;
//   - REQUEST_LIMIT_EXCEEDED for a concurrent-request limit, refused on
//     arrival (the daily TotalRequests limit is not such an answer).
func NotProcessedCode(errorCode, message string) bool {
	switch errorCode {
	case "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW":
		return true
	case "REQUEST_LIMIT_EXCEEDED":
		return concurrentLimit(message)
	}
	return false
}

// concurrentLimit reports whether a REQUEST_LIMIT_EXCEEDED message names a
// concurrent-request limit. Salesforce gives both the daily and the concurrent
// limit the same errorCode; only the message tells them apart, and its first
// word is the limit's name: "ConcurrentPerOrgLongTxn Limit exceeded.",
// "ConcurrentRequests (Concurrent API Requests) Limit exceeded." against
// "TotalRequests Limit exceeded.". That first word is compared whole, as a
// token; an unknown name is not retried.
func concurrentLimit(message string) bool {
	name, _, _ := strings.Cut(strings.TrimSpace(message), " ")
	switch name {
	case "ConcurrentPerOrgLongTxn", "ConcurrentRequests":
		return true
	}
	return false
}
