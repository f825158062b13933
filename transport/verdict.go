package transport

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"strings"
)

// An answer's verdict is decided from its status and the error code parsed out
// of its body, never from a substring: a message that merely mentions
// InvalidSessionId (an email address, a record name) decides nothing.
//
// Salesforce's error bodies come in three shapes:
//   - REST (and Bulk API 2.0): [{"errorCode":"INVALID_SESSION_ID","message":"…","fields":[…]}]
//   - Bulk API 1.0 XML: <error><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>…</exceptionMessage></error>
//   - Bulk API 1.0 JSON: {"exceptionCode":"InvalidSessionId","exceptionMessage":"…"}

type verdict int

const (
	verdictOK         verdict = iota // success, or an error for the caller to read
	sessionRejected                  // the session ended: refresh and replay
	mutualAuthFailed                 // the certificate is not the one the user must present
	retryNotProcessed                // by its meaning, Salesforce did not process the request
	retryIfIdempotent                // a transient failure after which the request may have been processed
)

// Error codes the verdict acts on.
const (
	codeInvalidSession       = "INVALID_SESSION_ID"           // REST, 401
	codeBulkInvalidSession   = "InvalidSessionId"             // Bulk API 1.0, 400
	codeMutualAuth           = "MUTUAL_AUTHENTICATION_FAILED" // REST, 401
	codeServerUnavailable    = "SERVER_UNAVAILABLE"
	codeUnableToLockRow      = "UNABLE_TO_LOCK_ROW"
	codeRequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
)

// maxPeek bounds how much of an error body is read to find its code. What is
// read is put back in front of the rest, so the caller still gets the whole body.
const maxPeek = 64 << 10

// apiError is one parsed error of an answer.
type apiError struct {
	Code    string
	Message string
}

// judge gives the verdict on an answer. A 2xx or 3xx is decided from the
// status alone, without touching the body: that is the hot path.
func judge(resp *http.Response) (verdict, apiError) {
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError,
		http.StatusServiceUnavailable:
	case http.StatusTooManyRequests:
		// Too Many Requests refuses the request before it is processed (RFC 6585 §4).
		return retryNotProcessed, apiError{}
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		// A gateway's failure says nothing of whether the org processed the request.
		return retryIfIdempotent, apiError{}
	default:
		return verdictOK, apiError{}
	}
	errs := peekErrors(resp)
	for _, e := range errs {
		switch {
		case e.Code == codeInvalidSession && resp.StatusCode == http.StatusUnauthorized,
			e.Code == codeBulkInvalidSession && resp.StatusCode == http.StatusBadRequest:
			return sessionRejected, e
		case e.Code == codeMutualAuth && resp.StatusCode == http.StatusUnauthorized:
			return mutualAuthFailed, e
		case notProcessedCode(e.Code, e.Message):
			return retryNotProcessed, e
		}
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		return retryNotProcessed, firstOf(errs)
	}
	return verdictOK, firstOf(errs)
}

// NotProcessed reports whether an error answer says that Salesforce did not
// process the request, so that sending it again cannot apply it twice. These
// are the answers after which the Transport resends a call of any method:
//   - 429 Too Many Requests, refused before processing (RFC 6585 §4);
//   - 503, the server down for maintenance or overloaded, which did not handle
//     the request (REST API Developer Guide, Status Codes and Error Responses);
//   - SERVER_UNAVAILABLE, a request not accepted;
//   - UNABLE_TO_LOCK_ROW, a record lock not obtained, so the DML did not
//     happen and its transaction was rolled back;
//   - REQUEST_LIMIT_EXCEEDED for a concurrent-request limit, refused on
//     arrival (the daily TotalRequests limit is not such an answer).
//
// errorCode and message are one error of the answer's body; give "" when it
// had none.
func NotProcessed(statusCode int, errorCode, message string) bool {
	return statusCode == http.StatusTooManyRequests || statusCode == http.StatusServiceUnavailable ||
		notProcessedCode(errorCode, message)
}

func notProcessedCode(errorCode, message string) bool {
	switch errorCode {
	case codeServerUnavailable, codeUnableToLockRow:
		return true
	case codeRequestLimitExceeded:
		return concurrentLimit(message)
	}
	return false
}

func firstOf(errs []apiError) apiError {
	if len(errs) == 0 {
		return apiError{}
	}
	return errs[0]
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

// peekErrors reads up to maxPeek bytes of resp's body, puts them back, and
// parses Salesforce's error shapes out of them.
func peekErrors(resp *http.Response) []apiError {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	peek, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return parseErrors(peek, strings.HasSuffix(ct, "xml"))
}

// parseErrors parses the REST error array, Bulk 1.0's JSON error object, or
// (when xmlBody, or when the body starts with '<') Bulk 1.0's XML error.
func parseErrors(body []byte, xmlBody bool) []apiError {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if xmlBody || body[0] == '<' {
		var x struct {
			XMLName       xml.Name `xml:"error"`
			ExceptionCode string   `xml:"exceptionCode"`
			Message       string   `xml:"exceptionMessage"`
		}
		if xml.Unmarshal(body, &x) != nil || x.ExceptionCode == "" {
			return nil
		}
		return []apiError{{Code: x.ExceptionCode, Message: x.Message}}
	}
	switch body[0] {
	case '[':
		var rest []struct {
			ErrorCode string `json:"errorCode"`
			Message   string `json:"message"`
		}
		if json.Unmarshal(body, &rest) != nil {
			return nil
		}
		out := make([]apiError, 0, len(rest))
		for _, e := range rest {
			if e.ErrorCode != "" {
				out = append(out, apiError{Code: e.ErrorCode, Message: e.Message})
			}
		}
		return out
	case '{':
		var bulk struct {
			ExceptionCode string `json:"exceptionCode"`
			Message       string `json:"exceptionMessage"`
		}
		if json.Unmarshal(body, &bulk) != nil || bulk.ExceptionCode == "" {
			return nil
		}
		return []apiError{{Code: bulk.ExceptionCode, Message: bulk.Message}}
	}
	return nil
}
