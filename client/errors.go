package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/errs"
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

// ResponseTooLargeError: an answer was longer than the Client's
// MaxResponseBytes, and was not decoded.
type ResponseTooLargeError struct {
	Method, Path string
	Limit        int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("client: %s %s: the answer is longer than %d bytes", e.Method, e.Path, e.Limit)
}

// Fix says what to do about it.
func (e *ResponseTooLargeError) Fix() string {
	return "select fewer fields or records (a smaller LIMIT, or Bulk API 2.0 for large reads), or raise Config.MaxResponseBytes"
}

// ErrInvalidRequest marks a call the SDK refuses before sending anything,
// such as an update record without an Id; the error says which and how to fix it.
// In a Collections call, whose chunks are encoded as they are sent, a record
// refused in a later chunk leaves that chunk and those after it not sent: the
// error is then a *CollectionError whose chunks say what was sent.
var ErrInvalidRequest = errors.New("client: invalid request")

func invalidRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// CollectionError reports a Collections call in which some chunks got no
// per-record results. The results of every answered chunk are still in the
// slice the call returned; the records of the other chunks hold zero values.
type CollectionError struct {
	Operation string  // create, update, upsert, delete or retrieve
	SObject   string  // empty for delete
	Chunks    []Chunk // every chunk of the call, in input order
}

// Failed returns the chunks that failed or were not sent.
func (e *CollectionError) Failed() []Chunk {
	var out []Chunk
	for _, c := range e.Chunks {
		if c.State != ChunkAnswered {
			out = append(out, c)
		}
	}
	return out
}

// Error counts the chunks by state and names up to three failed ones with
// their records and cause.
func (e *CollectionError) Error() string {
	var b strings.Builder
	answered, failed, notSent := 0, 0, 0
	for _, c := range e.Chunks {
		switch c.State {
		case ChunkAnswered:
			answered++
		case ChunkFailed:
			failed++
		default:
			notSent++
		}
	}
	fmt.Fprintf(&b, "client: %s", e.Operation)
	if e.SObject != "" {
		fmt.Fprintf(&b, " %s", e.SObject)
	}
	fmt.Fprintf(&b, ": %d of %d chunks answered, %d failed, %d not sent", answered, len(e.Chunks), failed, notSent)
	shown := 0
	for _, c := range e.Chunks {
		if c.State != ChunkFailed || shown == 3 {
			continue
		}
		shown++
		fmt.Fprintf(&b, "; records %d–%d: %v", c.Start, c.End-1, c.Err)
		if c.OutcomeUnknown() {
			b.WriteString(" (outcome unknown: not resent)")
		}
	}
	if failed > shown {
		fmt.Fprintf(&b, "; and %d more failed chunks", failed-shown)
	}
	for _, c := range e.Chunks {
		// A record refused before its chunk was sent stops the chunks after it.
		if c.State == ChunkNotSent && errors.Is(c.Err, ErrInvalidRequest) {
			fmt.Fprintf(&b, "; records %d–%d not sent: %v", c.Start, c.End-1, c.Err)
			break
		}
	}
	return b.String()
}

// Unwrap returns the chunks' errors, for errors.Is and errors.As.
func (e *CollectionError) Unwrap() []error {
	var out []error
	for _, c := range e.Chunks {
		if c.Err != nil {
			out = append(out, c.Err)
		}
	}
	return out
}

// ErrConfig matches every configuration error of the SDK: each problem that
// New finds in a Config, and each setting ConfigFromEnv cannot read. Every
// one is also a *ConfigError naming its field.
var ErrConfig = errs.ErrConfig

// ConfigError is one problem with one field of a Config: Field names it,
// Setting names the SF_* variable it was read from (by ConfigFromEnv), Error
// says what is wrong and Fix how to mend it. New and ConfigFromEnv return
// every problem at once, joined: errors.As finds the first, and
// errors.Join's Unwrap() []error lists them all.
type ConfigError = errs.ConfigError

// PaginationError: a query answer would make the iterator loop (a
// nextRecordsUrl it already followed, or a page that is not done yet holds no
// records and so brings the end no closer), or names a next page that is not
// a page of the query: anything but a path under /services/data/vXX.X/query/
// (or queryAll/) of the org, which is never requested.
type PaginationError struct {
	NextRecordsURL string // without the query
	Reason         string
}

func (e *PaginationError) Error() string {
	return fmt.Sprintf("client: query pagination stopped at %s: %s", e.NextRecordsURL, e.Reason)
}

// Fix says what to do about it.
func (e *PaginationError) Fix() string {
	return "Salesforce's pages always advance under /services/data/vXX.X/query/; check what answers for the org (a proxy or a custom endpoint), and run the query again"
}

// AnswerMismatchError: Salesforce's answer to a Collections or Composite call
// does not match the request it answers: a result for another record than the
// one sent at its place, two records reported as the same new record, a
// subrequest answered twice or not at all, an answer for a subrequest never
// sent. The answer cannot be trusted, so the outcome of the records or
// subrequests it concerns is unknown: the SDK never reports them as a
// success, and never sends them again.
//
// In a Collections call it is the Err of the chunk it concerns (its records
// are the chunk's Start to End, their results left at zero values, and
// Chunk.OutcomeUnknown is true for a write). From Composite, Unknown names
// the subrequests whose outcome is unknown.
type AnswerMismatchError struct {
	Operation string   // create, update, upsert, delete, retrieve or composite
	Unknown   []string // composite: the referenceIds whose outcome is unknown
	Reason    string   // what does not match
}

func (e *AnswerMismatchError) Error() string {
	s := fmt.Sprintf("client: %s: the answer does not match the request: %s", e.Operation, e.Reason)
	if len(e.Unknown) > 0 {
		s += "; outcome unknown for subrequests " + strings.Join(e.Unknown, ", ")
	}
	return s
}

// Fix says what to do about it.
func (e *AnswerMismatchError) Fix() string {
	return "query the records concerned to learn what was written before sending them again, and check what answers for the org (a proxy or a custom endpoint)"
}
